"""Which (cadre, post) pairs are allowed, as index arrays, before any model is built.

Pairs are generated province block by province block (a cadre's own province,
plus other provinces when the cadre may cross), so a national instance never
materialises the dense cadre x post matrix. The hard pair rules are then applied
as vectorised masks. The same rule functions re-check a finished allocation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .factors import FACTORS, Factor
from .instance import Instance, PairTable, pair_lookup
from .schema import Policy

PairRule = Callable[[PairTable], np.ndarray]


def pair_rules(policy: Policy) -> dict[str, tuple[PairRule, str]]:
    """Every active hard pair rule: name -> (mask of blocked pairs, what it says)."""
    rules: dict[str, tuple[PairRule, str]] = {}
    if policy.rules.rank:
        rules["rank"] = (_below_rank, "the cadre's rank is below the post's minimum rank")
    if policy.rules.cross_province_volunteers_only:
        rules["cross_province"] = (_not_volunteer, "the post is in another province and the cadre did not volunteer")
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
    cadre_province = inst.university_province[inst.cadre_university]
    # in-province blocks: each cadre with every post of its university's province
    post_order = np.argsort(inst.post_province, kind="stable")
    sorted_province = inst.post_province[post_order]
    first = np.searchsorted(sorted_province, cadre_province, side="left")
    n_home = np.searchsorted(sorted_province, cadre_province, side="right") - first
    home_cadre = np.repeat(np.arange(inst.n_cadres), n_home)
    within = np.arange(len(home_cadre)) - np.repeat(np.cumsum(n_home) - n_home, n_home)
    home_post = post_order[np.repeat(first, n_home) + within]
    # cross-province pairs: cadres who may cross, with every post outside their province
    crossers = np.flatnonzero(inst.cadre_volunteer if volunteers_only else np.ones(inst.n_cadres, bool))
    away_cadre = np.repeat(crossers, inst.n_posts)
    away_post = np.tile(np.arange(inst.n_posts), len(crossers))
    away = inst.post_province[away_post] != cadre_province[away_cadre]
    cadre = np.concatenate([home_cadre, away_cadre[away]])
    post = np.concatenate([home_post, away_post[away]])
    order = np.lexsort((post, cadre))
    return inst.pairs(cadre[order], post[order])


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
    return pairs.cross_province & ~pairs.instance.cadre_volunteer[pairs.cadre]


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
