"""What every hard rule provides.

A hard rule may forbid pairs outright (a mask over a ``PairTable``), add linear
rows ``A x <= b`` to the model, or add rows lazily: given an allocation, the rows
it breaks (the swap-free rule cannot be written down in advance). Each rule also
checks a finished allocation without the solver, and says in words what it
demands, for the docs, the check, ``explain`` and the diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from ..factors import SideConstraints
from ..i18n import _
from ..instance import Instance, PairTable
from ..naming import word


@dataclass
class Allocated:
    """A finished allocation as rules see it: posts per cadre, and the pairs it uses."""

    instance: Instance
    policy: Any  # the Policy
    post_of_cadre: np.ndarray  # post index per cadre, -1 when unplaced
    allowed: Any = None  # callable returning the allowed pairs' model terms, built on first use

    @cached_property
    def pairs(self) -> PairTable:
        placed = np.flatnonzero(self.post_of_cadre >= 0)
        return self.instance.pairs(placed, self.post_of_cadre[placed])

    @cached_property
    def terms(self):
        return self.allowed()


@dataclass
class Switch:
    """A ``rules:`` key of the policy that turns a rule on or off."""

    default: bool
    description: str


class Rule:
    """Base class. Subclasses set ``name``, ``summary``, ``switches`` and override what they use."""

    name: ClassVar[str]
    # both in English, marked with N_(): readers get them through _() in their language
    summary: ClassVar[str]  # what the rule demands, one sentence (docs, schema)
    blocks: ClassVar[str] = ""  # why a pair it forbids is forbidden (explain, diagnosis)
    switches: ClassVar[dict[str, Switch]] = {}

    def active(self, policy) -> bool:
        return all(getattr(policy.rules, key) for key in self.switches) if self.switches else True

    def blocked(self, pairs: PairTable, policy) -> np.ndarray | None:
        """Pairs the rule forbids (a bool mask), or None when it forbids none."""
        return None

    def rows(self, pairs: PairTable, policy) -> SideConstraints | None:
        """Linear rows every allocation must meet, over ``pairs``."""
        return None

    def cut(self, terms, post_of_cadre: np.ndarray, policy) -> SideConstraints | None:
        """Rows, over ``terms.pairs``, that this allocation breaks and every allowed one meets (lazy rows)."""
        return None

    @property
    def lazy(self) -> bool:
        return type(self).cut is not Rule.cut

    def violations(self, allocated: Allocated) -> list[str]:
        """Every way the allocation breaks the rule, one sentence each (the solver-free check)."""
        mask = self.blocked(allocated.pairs, allocated.policy)
        if mask is None:
            return []
        inst, pairs = allocated.instance, allocated.pairs
        reason = _(self.blocks)
        return [f"{inst.cadre_id[c]} -> {inst.post_id[p]}: {reason}" for c, p in zip(pairs.cadre[mask], pairs.post[mask])]

    def conflict(self, label: str, unit: str, limit: int, needed: float, proven: bool) -> str:
        """The diagnosis sentence for one of the rule's rows that must give way."""
        if proven:
            words = _(
                "{label} is short by {short:,.0f} {unit}: with every other rule kept, the smallest total overrun of "
                "the side constraints needs {needed:,.0f} {unit} against a limit of {limit:,}."
            )
        else:
            words = _(
                "{label} is short by {short:,.0f} {unit}: with every other rule kept, the smallest total overrun found of "
                "the side constraints needs {needed:,.0f} {unit} against a limit of {limit:,}."
            )
        return words.format(label=label, short=needed - limit, unit=word(unit), needed=needed, limit=limit)
