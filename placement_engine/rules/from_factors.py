"""Hard rules that a factor's parameters switch on, in the factor's own module.

- ``proximity.max_km`` forbids pairs farther apart (``Proximity.forbidden``);
- ``cost.budget`` caps each university's total annual cost (``Cost.side_constraints``).

These adapters give them the interface of every other rule, so that the model,
``check``, ``explain`` and the diagnosis treat them alike. The formulas stay
with the factors.
"""

from __future__ import annotations

import numpy as np

from ..factors import FACTORS, Factor, SideConstraints
from ..instance import PairTable
from .base import Allocated, Rule


class FactorMask(Rule):
    """The pairs a factor forbids under the policy's parameters."""

    def __init__(self, factor_name: str):
        self.name = factor_name
        self.factor = FACTORS[factor_name]
        self.summary = f"the {factor_name} factor's parameters forbid some pairs (see the factor)"
        self.blocks = f"the {factor_name} factor forbids it"

    def active(self, policy) -> bool:
        return self.name in policy.active_factors()

    def blocked(self, pairs: PairTable, policy) -> np.ndarray:
        mask = self.factor.forbidden(pairs, policy.active_factors()[self.name])
        return np.zeros(len(pairs), bool) if mask is None else mask


class FactorRows(Rule):
    """The linear rows a factor adds under the policy's parameters (budgets)."""

    def __init__(self, factor_name: str):
        self.name = factor_name
        self.factor = FACTORS[factor_name]
        self.summary = f"the {factor_name} factor's limits hold (see the factor)"

    def active(self, policy) -> bool:
        return self.name in policy.active_factors()

    def rows(self, pairs: PairTable, policy) -> SideConstraints | None:
        return self.factor.side_constraints(pairs, policy.active_factors()[self.name])

    def violations(self, allocated: Allocated) -> list[str]:
        report = self.factor.report(allocated.pairs, allocated.policy.active_factors()[self.name])
        return [f"{self.name}: {v}" for v in report.violations]

    def conflict(self, label: str, unit: str, limit: int, needed: float, proven: bool) -> str:
        if label.startswith("budget of "):
            label = f"University {label.removeprefix('budget of ')}'s budget"
        return super().conflict(label, unit, limit, needed, proven)


def factor_rules() -> list[Rule]:
    """One adapter per factor that overrides ``forbidden`` or ``side_constraints``."""
    found: list[Rule] = []
    for name, factor in FACTORS.items():
        if type(factor).forbidden is not Factor.forbidden:
            found.append(FactorMask(name))
        if type(factor).side_constraints is not Factor.side_constraints:
            found.append(FactorRows(name))
    return found
