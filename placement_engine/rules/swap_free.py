"""No improving swaps (hard, optional): no two cadres hold posts they would both rather exchange.

An **improving swap** is cadres c1 at p1 and c2 at p2 who would both meet a
better wish by exchanging posts (a post that meets no wish is worse than any
wish), where the pair rules allow (c1, p2) and (c2, p1) and the exchange keeps
as many relay postings (relay as a rule).

The rule cannot be written as rows in advance, so it is added lazily: solve,
add ``x[c1, p1] + x[c2, p2] <= 1`` for every improving swap of the allocation,
and solve again until there is none. Budgets are not consulted, because whether
a budget blocks an exchange depends on the rest of the allocation: the rule
forbids such an exchange too, so an allocation that meets it has no improving
swap in the audit's sense either.
"""

from __future__ import annotations

import numpy as np

from ..factors import FACTORS, SideConstraints
from ..i18n import N_, _
from ..instance import expand_matches, pair_lookup
from .base import Allocated, Rule, Switch


class WishState:
    """Wish numbers over the allowed pairs of ``terms`` and who holds what in an allocation."""

    def __init__(self, terms, post_of_cadre: np.ndarray):
        pairs = terms.pairs
        inst = pairs.instance
        self.terms, self.pairs, self.post_of_cadre = terms, pairs, post_of_cadre
        self.keys = pairs.keys(inst.n_posts, pairs.post)
        self.choice = FACTORS["preferences"].matched_choice(pairs)
        placed = post_of_cadre >= 0
        self.own = np.full(inst.n_cadres, -1, np.int64)  # the cadre's pair among the allowed ones
        self.own[placed] = self.lookup(np.flatnonzero(placed), post_of_cadre[placed])
        self.own_choice = np.zeros(inst.n_cadres, np.int64)  # wish met now, 0 for none or unplaced
        held = inst.pairs(np.flatnonzero(placed), post_of_cadre[placed])
        self.own_choice[placed] = FACTORS["preferences"].matched_choice(held)
        mine = self.own_choice[pairs.cadre]
        # the cadre would meet a better wish at this pair's post than at its own
        self.prefer = (self.choice > 0) & ((mine == 0) | (self.choice < mine)) & (pairs.post != post_of_cadre[pairs.cadre])
        holders = np.flatnonzero(self.own >= 0)
        order = np.argsort(post_of_cadre[holders], kind="stable")
        self.holder, self.held_post = holders[order], post_of_cadre[holders][order]

    def lookup(self, cadre: np.ndarray, post: np.ndarray) -> np.ndarray:
        """Index of each (cadre, post) among the allowed pairs, -1 where not allowed."""
        query = np.asarray(cadre, np.int64) * self.pairs.instance.n_posts + post
        return pair_lookup(query, self.keys, np.arange(len(self.keys)), -1)

    def holders_of(self, pair_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which, holder): every cadre holding the post of each given pair."""
        return expand_matches(self.held_post, self.holder, self.pairs.post[pair_index])


def improving_swaps(state: WishState) -> dict[str, np.ndarray]:
    """Swaps both cadres prefer, the pair rules allow and relay as a rule keeps (side rows unchecked).

    Arrays ``c1, c2`` (cadres, c1 < c2), ``a11, a22`` (their pairs now) and ``a12, a21`` (after).
    """
    pairs = state.pairs
    wanted = np.flatnonzero(state.prefer & (state.own[pairs.cadre] >= 0))
    which, c2 = state.holders_of(wanted)
    a12 = wanted[which]
    c1 = pairs.cadre[a12].astype(np.int64)
    a21 = state.lookup(c2, state.post_of_cadre[c1])
    ok = (c1 < c2) & (a21 >= 0)
    ok[ok] &= state.prefer[a21[ok]]
    swaps = {"c1": c1[ok], "c2": c2[ok], "a12": a12[ok], "a21": a21[ok]}
    swaps["a11"], swaps["a22"] = state.own[swaps["c1"]], state.own[swaps["c2"]]
    for lex in state.terms.lexicographic:
        ind = lex.indicator
        keeps = ind[swaps["a12"]] + ind[swaps["a21"]] >= ind[swaps["a11"]] + ind[swaps["a22"]]
        swaps = {key: value[keeps] for key, value in swaps.items()}
    return swaps


def swap_sentences(state: WishState, swaps: dict[str, np.ndarray]) -> list[str]:
    inst, pairs = state.pairs.instance, state.pairs
    words = _(
        "{first} ({first_post}, {first_wish}) and {second} ({second_post}, {second_wish}) would both gain by exchanging posts: "
        "{first} would meet wish {first_gain}, {second} wish {second_gain}"
    )
    return [
        words.format(
            first=inst.cadre_id[c1],
            first_post=inst.post_id[pairs.post[a11]],
            first_wish=wish_words(state.choice[a11]),
            second=inst.cadre_id[c2],
            second_post=inst.post_id[pairs.post[a22]],
            second_wish=wish_words(state.choice[a22]),
            first_gain=state.choice[a12],
            second_gain=state.choice[a21],
        )
        for c1, c2, a11, a22, a12, a21 in zip(swaps["c1"], swaps["c2"], swaps["a11"], swaps["a22"], swaps["a12"], swaps["a21"])
    ]


def wish_words(number: int) -> str:
    return _("wish {number}").format(number=number) if number else _("no wish")


class SwapFree(Rule):
    name = "forbid_improving_swaps"
    summary = N_("no two cadres hold posts they would both rather exchange, where the pair rules allow the exchange")
    switches = {
        "forbid_improving_swaps": Switch(
            False,
            N_(
                "no two cadres hold posts they would both rather exchange (each meets a better wish of the other) where "
                "the pair rules allow the exchange and it keeps the relay postings (see docs/explanations.md)"
            ),
        )
    }

    def cut(self, terms, post_of_cadre: np.ndarray, policy) -> SideConstraints | None:
        swaps = improving_swaps(WishState(terms, post_of_cadre))
        n = len(swaps["c1"])
        if not n:
            return None
        inst, pairs = terms.pairs.instance, terms.pairs
        labels = [
            f"no improving swap {a}@{p} / {b}@{q}"
            for a, p, b, q in zip(
                inst.cadre_id[swaps["c1"]], inst.post_id[pairs.post[swaps["a11"]]], inst.cadre_id[swaps["c2"]], inst.post_id[pairs.post[swaps["a22"]]]
            )
        ]
        members = np.column_stack([swaps["a11"], swaps["a22"]]).ravel()
        return SideConstraints(labels, np.ones(n, np.int64), np.repeat(np.arange(n), 2), members, np.ones(2 * n, np.int64), "cadres")

    def violations(self, allocated: Allocated) -> list[str]:
        state = WishState(allocated.terms, allocated.post_of_cadre)
        words = _("improving swap, which the swap-free rule forbids: {swap}")
        return [words.format(swap=s) for s in swap_sentences(state, improving_swaps(state))]

    def conflict(self, label: str, unit: str, limit: int, needed: float, proven: bool) -> str:
        first, _slash, second = label.removeprefix("no improving swap ").partition(" / ")
        at = _("{cadre} at {post}")
        who = _(" and ").join(at.format(cadre=cadre, post=post) for cadre, _sign, post in (first.partition("@"), second.partition("@")))
        if proven:
            words = _(
                "The rule against improving swaps must give way for {who}: they would both rather exchange posts, and no "
                "allocation that meets the other rules avoids this pair (the smallest relaxation of the side constraints)."
            )
        else:
            words = _(
                "The rule against improving swaps must give way for {who}: they would both rather exchange posts, and no "
                "allocation that meets the other rules avoids this pair (the smallest relaxation found of the side constraints)."
            )
        return words.format(who=who)
