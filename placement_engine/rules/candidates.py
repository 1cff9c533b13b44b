"""Which (cadre, post) pairs are allowed, as index arrays, before any model is built.

Pairs are generated province block by province block (a cadre's own province,
plus other provinces when the cadre may cross), so a national instance never
materialises the dense cadre x post matrix. The hard pair rules are then applied
as vectorised masks. The same rule functions re-check a finished allocation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..factors import FACTORS, Factor
from ..instance import Instance, PairTable, pair_lookup
from ..schema import Policy

PairRule = Callable[[PairTable], np.ndarray]


def pair_rules(policy: Policy) -> dict[str, tuple[PairRule, str]]:
    """Every active hard pair rule: name -> (mask of blocked pairs, what it says)."""
    rules: dict[str, tuple[PairRule, str]] = {}
    if policy.rules.rank:
        rules["rank"] = (_below_rank, "the cadre's rank is below the post's minimum rank")
    if policy.rules.cross_province_volunteers_only:
        rules["cross_province"] = (
            _not_volunteer,
            "the post is in another province and the cadre did not volunteer (or the pairings table does not pair the provinces)",
        )
    if policy.rules.pins:
        rules["pins"] = (_against_pins, "a pin sends the cadre elsewhere, or forbids this post")
    for name, params in policy.active_factors().items():
        factor = FACTORS[name]
        if type(factor).forbidden is not Factor.forbidden:
            rules[name] = (
                (lambda pairs, f=factor, p=params: _none_to_false(f.forbidden(pairs, p), len(pairs))),
                f"the {name} factor forbids it",
            )
    return rules


def allowed_pairs(instance: Instance, policy: Policy) -> PairTable:
    """All pairs no hard rule blocks, sorted by cadre then post."""
    pairs = _base_pairs(instance, policy.rules.cross_province_volunteers_only)
    blocked = np.zeros(len(pairs), bool)
    for rule, _ in pair_rules(policy).values():
        blocked |= rule(pairs)
    return pairs.subset(~blocked)


def blocking_rules(pairs: PairTable, policy: Policy) -> list[list[str]]:
    """For each pair, the names of the rules that block it (empty when allowed)."""
    hits = {name: rule(pairs) for name, (rule, _) in pair_rules(policy).items()}
    return [[name for name, mask in hits.items() if mask[i]] for i in range(len(pairs))]


def describe_rule(policy: Policy, name: str) -> str:
    return pair_rules(policy)[name][1]


def _base_pairs(inst: Instance, volunteers_only: bool) -> PairTable:
    """Each cadre with every post of its university's province, and crossers with the provinces they may cross to."""
    cadre_province = inst.university_province[inst.cadre_university]
    crossers = np.flatnonzero(inst.cadre_volunteer if volunteers_only else np.ones(inst.n_cadres, bool))
    from_province, to_province = inst.province_pairings()
    order = np.argsort(from_province, kind="stable")
    which, target = _expand(from_province[order], to_province[order], cadre_province[crossers])
    away = target != cadre_province[crossers[which]]
    combo_cadre = np.concatenate([np.arange(inst.n_cadres), crossers[which[away]]])
    combo_province = np.concatenate([cadre_province, target[away]])
    post_order = np.argsort(inst.post_province, kind="stable")
    combo, post = _expand(inst.post_province[post_order], post_order, combo_province)
    cadre = combo_cadre[combo]
    order = np.lexsort((post, cadre))
    return inst.pairs(cadre[order], post[order])


def _expand(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query, every value whose key equals it: (query index, value) arrays, vectorised."""
    first = np.searchsorted(sorted_keys, queries, side="left")
    count = np.searchsorted(sorted_keys, queries, side="right") - first
    which = np.repeat(np.arange(len(queries)), count)
    within = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    return which, values[np.repeat(first, count) + within]


def must_place(inst: Instance, rules) -> np.ndarray:
    """Cadres that must get a post: every cadre under place_every_cadre, else those a pin sends somewhere."""
    must = np.full(inst.n_cadres, bool(rules.place_every_cadre))
    pins = inst.tables.get("pins")
    if rules.pins and pins is not None and len(pins):
        pinned = pins["kind"].to_numpy(str) == "pin"
        must[inst.cadre_index(pins["cadre_id"].to_numpy(str)[pinned])] = True
    return must


def _below_rank(pairs: PairTable) -> np.ndarray:
    inst = pairs.instance
    return inst.cadre_rank[pairs.cadre] < inst.post_min_rank[pairs.post]


def _not_volunteer(pairs: PairTable) -> np.ndarray:
    inst = pairs.instance
    from_province, to_province = inst.province_pairings()
    n_regions = len(inst.regions)
    paired = np.isin(
        inst.university_province[pairs.university].astype(np.int64) * n_regions + inst.post_province[pairs.post],
        from_province.astype(np.int64) * n_regions + to_province,
    )
    return pairs.cross_province & ~(inst.cadre_volunteer[pairs.cadre] & paired)


def _against_pins(pairs: PairTable) -> np.ndarray:
    inst = pairs.instance
    pins = inst.tables.get("pins")
    if pins is None or len(pins) == 0:
        return np.zeros(len(pairs), bool)
    cadre = inst.cadre_index(pins["cadre_id"].to_numpy(str))
    post = inst.post_index(pins["post_id"].to_numpy(str))
    kind = pins["kind"].to_numpy(str)
    keys = cadre * inst.n_posts + post
    pair_keys = pairs.keys(inst.n_posts, pairs.post)
    forbidden = pair_lookup(pair_keys, keys[kind == "forbid"], np.ones(int((kind == "forbid").sum()), bool), False)
    pinned_cadre = np.zeros(inst.n_cadres, bool)
    pinned_cadre[cadre[kind == "pin"]] = True
    is_pin = pair_lookup(pair_keys, keys[kind == "pin"], np.ones(int((kind == "pin").sum()), bool), False)
    return forbidden | (pinned_cadre[pairs.cadre] & ~is_pin)


def _none_to_false(mask: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, bool) if mask is None else mask
