"""The hard-rule registry: the one list that drives the policy's ``rules`` section, the model, ``check``,
``explain``, the diagnosis and the docs' rule table.

Each rule lives in its own module (``rank``, ``volunteers``, ``pins``, ``seats``,
``swap_free``); rules that a factor's parameters switch on (``proximity.max_km``,
``cost.budget``) keep their formula in the factor and are adapted here.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance, PairTable, expand_matches
from .base import Allocated, Rule, Switch
from .from_factors import factor_rules
from .pins import Pins
from .rank import Rank
from .seats import Seats, must_place
from .stable import Stable
from .swap_free import SwapFree
from .volunteers import CrossProvince

RULES: dict[str, Rule] = {rule.name: rule for rule in (Rank(), CrossProvince(), Pins(), Seats(), SwapFree(), Stable(), *factor_rules())}


def switches() -> dict[str, Switch]:
    """Every ``rules:`` key of the policy, in registry order."""
    return {key: switch for rule in RULES.values() for key, switch in rule.switches.items()}


def active_rules(policy) -> list[Rule]:
    return [rule for rule in RULES.values() if rule.active(policy)]


def mask_rules(policy) -> dict[str, Rule]:
    """The active rules that forbid pairs, by name."""
    return {rule.name: rule for rule in active_rules(policy) if type(rule).blocked is not Rule.blocked}


def lazy_rules(policy) -> list[Rule]:
    return [rule for rule in active_rules(policy) if rule.lazy]


def rule_for_rows(name: str) -> Rule:
    """The rule behind a named group of side rows; the generic wording for rows no rule owns."""
    return RULES.get(name, _GENERIC)


def allowed_pairs(instance: Instance, policy) -> PairTable:
    """All pairs no hard rule blocks, sorted by cadre then post."""
    pairs = _base_pairs(instance, policy.rules.cross_province_volunteers_only)
    blocked = np.zeros(len(pairs), bool)
    for rule in mask_rules(policy).values():
        blocked |= rule.blocked(pairs, policy)
    return pairs.subset(~blocked)


def violations(allocated: Allocated) -> dict[str, list[str]]:
    """Per active rule, every way the allocation breaks it (the solver-free check)."""
    return {rule.name: rule.violations(allocated) for rule in active_rules(allocated.policy)}


def markdown_table() -> str:
    """The rule table of docs/objective.md, rendered from the registry."""
    lines = ["| rule | policy key | default | what it demands |", "| --- | --- | --- | --- |"]
    for rule in RULES.values():
        keys = ", ".join(f"`rules.{key}`" for key in rule.switches) or "(by the factor's parameters)"
        defaults = ", ".join("on" if s.default else "off" for s in rule.switches.values()) or "-"
        lines.append(f"| {rule.name} | {keys} | {defaults} | {rule.summary} |")
    return "\n".join(lines)


def _base_pairs(inst: Instance, volunteers_only: bool) -> PairTable:
    """Each cadre with every post of its university's province, and crossers with the provinces they may cross to.

    Built province block by province block, so a national instance never
    materialises the dense cadre x post matrix.
    """
    cadre_province = inst.university_province[inst.cadre_university]
    crossers = np.flatnonzero(inst.cadre_volunteer if volunteers_only else np.ones(inst.n_cadres, bool))
    from_province, to_province = inst.province_pairings()
    order = np.argsort(from_province, kind="stable")
    which, target = expand_matches(from_province[order], to_province[order], cadre_province[crossers])
    away = target != cadre_province[crossers[which]]
    combo_cadre = np.concatenate([np.arange(inst.n_cadres), crossers[which[away]]])
    combo_province = np.concatenate([cadre_province, target[away]])
    post_order = np.argsort(inst.post_province, kind="stable")
    combo, post = expand_matches(inst.post_province[post_order], post_order, combo_province)
    cadre = combo_cadre[combo]
    order = np.lexsort((post, cadre))
    return inst.pairs(cadre[order], post[order])


class _Generic(Rule):
    name = "side rows"
    summary = "rows added for one solve (a Pareto epsilon, a granted wish)"


_GENERIC = _Generic()

__all__ = [
    "RULES",
    "Allocated",
    "Rule",
    "Switch",
    "active_rules",
    "allowed_pairs",
    "lazy_rules",
    "markdown_table",
    "mask_rules",
    "must_place",
    "rule_for_rows",
    "switches",
    "violations",
]
