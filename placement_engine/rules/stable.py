"""Stable allocations (hard, optional): no cadre and post would both rather be together.

A post's **priority** over cadres comes from the ``post_priorities`` table when
the scenario has one (``priority``, higher is preferred; a row names a cadre, or
a university for all its cadres, and a cadre's own row wins; a pair the table
does not list ranks below every listed one). Without the table it is the points
the post gives the cadre on the post's side factors (relay + partnership +
rank fit, weighted as in the policy), so equal points are ties. A cadre pinned
to a post (the pins rule) outranks everyone there.

A **blocking pair** (c, p): c would meet a better wish at p than at their own
post (by the credited-wish rule; no post, or one meeting no wish, is worse than
any wish), the pair rules allow (c, p), and p has an empty seat or holds a cadre
it ranks strictly below c. With ties this is weak stability. Budgets and relay
as a rule are not consulted. For a blocking pair (c, p) with capacity cap, every
stable allocation meets

    cap * sum_{q: 0 < wish(c, q) <= wish(c, p)} x[c, q]  +  sum_{d != c: pri(d, p) >= pri(c, p)} x[d, p]  >=  cap

(c holds a post at least as good, or p is full of cadres it ranks at least as
high), and an allocation breaking it has that blocking pair. The rule adds these
rows lazily, as the swap-free rule adds its own: solve, add the row of every
blocking pair, solve again until there is none. See docs/stability.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import Problem
from ..factors import FACTORS, SideConstraints
from ..i18n import N_, _
from ..instance import PairTable, expand_matches, pair_lookup
from .base import Allocated, Rule, Switch
from .swap_free import WishState, wish_words

TABLE = "post_priorities"
PRIORITY_FACTORS = ("relay", "partnership", "rank_fit")  # the post's side of the pair, when no table is given
MAX_LISTED = 10  # bad cells listed per column and expectation


def post_priority(pairs: PairTable, policy) -> np.ndarray:
    """Each pair's post's priority for its cadre (higher is preferred; +inf for a pinned cadre at its pin)."""
    inst = pairs.instance
    table = inst.tables.get(TABLE)
    if table is None:
        priority = np.zeros(len(pairs))
        active = policy.active_factors()
        for name in PRIORITY_FACTORS:
            params = active.get(name)
            if params is not None and params.weight:
                priority += params.weight * FACTORS[name].scores(pairs, params)
    else:
        post = inst.post_index(table["post_id"].to_numpy(str))
        value = table["priority"].to_numpy(float)
        cadre = inst.cadre_index(_column(table, "cadre_id"))
        uni = inst.university_index(_column(table, "university_id"))
        by_cadre = pair_lookup(
            pairs.keys(inst.n_posts, pairs.post), cadre[cadre >= 0] * inst.n_posts + post[cadre >= 0], value[cadre >= 0], np.nan
        )
        uni_keys = pairs.university.astype(np.int64) * inst.n_posts + pairs.post
        by_uni = pair_lookup(uni_keys, uni[uni >= 0] * inst.n_posts + post[uni >= 0], value[uni >= 0], np.nan)
        priority = np.where(~np.isnan(by_cadre), by_cadre, np.where(~np.isnan(by_uni), by_uni, -np.inf))
    if policy.rules.pins and len(inst.pins.cadre):
        pins = inst.pins
        keys = pins.cadre[pins.is_pin] * inst.n_posts + pins.post[pins.is_pin]
        pinned = pair_lookup(pairs.keys(inst.n_posts, pairs.post), keys, np.ones(len(keys), bool), False)
        priority = np.where(pinned, np.inf, priority)
    return priority


def _column(table, name: str) -> np.ndarray:
    return table[name].to_numpy(str) if name in table else np.full(len(table), "")


def priority_problems(tables: dict, shown: str, row_of: Callable[[int], int]) -> list[Problem]:
    """What is wrong with a validated ``post_priorities`` table: whom each row names, and repeats."""
    table = tables[TABLE]
    if "cadre_id" not in table and "university_id" not in table:
        found = ", ".join(table.columns)
        return [Problem(shown, "column cadre_id", _("a column cadre_id or university_id (whom the post ranks)"), found)]
    problems: list[Problem] = []
    cadre, uni = _column(table, "cadre_id"), _column(table, "university_id")

    def listed(rows: np.ndarray, column: str, expected: str, got: Callable[[int], str]) -> None:
        for row in rows[:MAX_LISTED]:
            problems.append(Problem(shown, _("row {row}, column {column}").format(row=row_of(row), column=column), expected, got(row)))
        if len(rows) > MAX_LISTED:
            more = _("{count} more rows like the above (not listed)").format(count=len(rows) - MAX_LISTED)
            problems.append(Problem(shown, _("column {column}").format(column=column), expected, more))

    either = _("a cadre_id or a university_id, not both")
    listed(
        np.flatnonzero((cadre == "") == (uni == "")),
        "cadre_id",
        either,
        lambda row: f"cadre_id {str(cadre[row])!r}, university_id {str(uni[row])!r}",
    )
    for column, source in (("post_id", "posts"), ("cadre_id", "cadres"), ("university_id", "universities")):
        values = _column(table, column)
        bad = np.flatnonzero((values != "") & ~np.isin(values, tables[source][column].to_numpy(str)))
        listed(
            bad,
            column,
            _("a {column} from the {table} table").format(column=column, table=source),
            lambda row, values=values: repr(str(values[row])),
        )
    key = np.char.add(np.char.add(table["post_id"].to_numpy(str), "\x00"), np.char.add(cadre, np.char.add("\x00", uni)))
    first, inverse = np.unique(key, return_index=True, return_inverse=True)[1:]
    repeated = np.flatnonzero(first[inverse] != np.arange(len(key)))
    listed(
        repeated,
        "post_id",
        _("each post to rank each cadre or university once"),
        lambda row: _("again (first at row {row})").format(row=row_of(first[inverse[row]])),
    )
    return problems


@dataclass
class Blocking:
    """The blocking pairs of an allocation, over the allowed pairs of ``state``."""

    state: WishState
    pair: np.ndarray  # the allowed pair (c, p) of each blocking pair
    displaced: np.ndarray  # the cadre p ranks lowest among its holders, -1 when p has an empty seat
    priority: np.ndarray  # p's priority for c
    displaced_priority: np.ndarray  # p's priority for the displaced cadre, nan for an empty seat

    def __len__(self) -> int:
        return len(self.pair)

    def sentences(self) -> list[str]:
        inst, pairs, state = self.state.pairs.instance, self.state.pairs, self.state
        out = []
        for pair, displaced, priority, theirs in zip(self.pair, self.displaced, self.priority, self.displaced_priority):
            cadre, post = pairs.cadre[pair], pairs.post[pair]
            own = state.post_of_cadre[cadre]
            facts = {
                "cadre": inst.cadre_id[cadre],
                "own": inst.post_id[own] if own >= 0 else _("unplaced"),
                "now": wish_words(state.own_choice[cadre]),
                "post": inst.post_id[post],
                "wish": state.choice[pair],
            }
            if displaced < 0:
                text = _("{cadre} ({own}, {now}) ranks {post} as wish {wish}, and {post} has an empty seat")
            else:
                facts.update(displaced=inst.cadre_id[displaced], priority=f"{priority:g}", theirs=f"{theirs:g}")
                text = _(
                    "{cadre} ({own}, {now}) ranks {post} as wish {wish}, and {post} ranks {cadre} above its holder {displaced} (priority {priority} against {theirs})"
                )
            out.append(text.format(**facts))
        return out


def blocking_pairs(state: WishState, policy) -> Blocking:
    """Every blocking pair (c, p) of ``state.post_of_cadre`` (vectorised)."""
    pairs = state.pairs
    inst = pairs.instance
    post_of_cadre = state.post_of_cadre
    placed = np.flatnonzero(post_of_cadre >= 0)
    held = inst.pairs(placed, post_of_cadre[placed])
    held_priority = post_priority(held, policy)
    load = np.bincount(held.post, minlength=inst.n_posts)
    # each post's lowest-ranked holder: the one a cadre it prefers would displace
    order = np.lexsort((placed, held_priority, held.post))
    first = np.searchsorted(held.post[order], np.arange(inst.n_posts))
    occupied = load > 0
    lowest = np.full(inst.n_posts, -1, np.int64)
    lowest_priority = np.full(inst.n_posts, np.inf)
    lowest[occupied] = placed[order][first[occupied]]
    lowest_priority[occupied] = held_priority[order][first[occupied]]
    wanted = np.flatnonzero(state.prefer)
    post = pairs.post[wanted]
    priority = post_priority(pairs.subset(wanted), policy) if len(wanted) else np.zeros(0)
    empty = load[post] < inst.post_capacity[post]
    block = empty | (priority > lowest_priority[post])
    empty = empty[block]
    displaced = np.where(empty, -1, lowest[post[block]])
    theirs = np.where(empty, np.nan, lowest_priority[post[block]])
    return Blocking(state, wanted[block], displaced, priority[block], theirs)


def stability_rows(terms, pair: np.ndarray, policy) -> SideConstraints:
    """The stability row of each given allowed pair (see the module docstring), as ``<=`` rows."""
    pairs = terms.pairs
    inst = pairs.instance
    choice = FACTORS["preferences"].matched_choice(pairs)
    priority = post_priority(pairs, policy)
    cadre, post = pairs.cadre[pair].astype(np.int64), pairs.post[pair]
    cap = inst.post_capacity[post].astype(np.int64)
    # c's pairs that meet a wish at least as good as p
    by_cadre = np.argsort(pairs.cadre, kind="stable")
    row_c, own = expand_matches(pairs.cadre[by_cadre], by_cadre, cadre)
    keep_c = (choice[own] > 0) & (choice[own] <= choice[pair][row_c])
    # p's pairs with other cadres it ranks at least as high as c
    by_post = np.argsort(pairs.post, kind="stable")
    row_p, other = expand_matches(pairs.post[by_post], by_post, post)
    keep_p = (pairs.cadre[other] != cadre[row_p]) & (priority[other] >= priority[pair][row_p])
    labels = [f"stable {c}@{p}" for c, p in zip(inst.cadre_id[cadre], inst.post_id[post])]
    return SideConstraints(
        labels,
        -cap,
        np.concatenate([row_c[keep_c], row_p[keep_p]]),
        np.concatenate([own[keep_c], other[keep_p]]),
        np.concatenate([-cap[row_c[keep_c]], -np.ones(int(keep_p.sum()), np.int64)]),
        "seats",
    )


class Stable(Rule):
    name = "stable"
    summary = N_(
        "no cadre would meet a better wish at a post the pair rules allow that has an empty seat or ranks the cadre above a holder"
    )
    switches = {
        "stable": Switch(
            False,
            N_(
                "only stable allocations: no cadre would meet a better wish at a post that has an empty seat or ranks "
                "the cadre above one of its holders (post_priorities, else relay + partnership + rank fit; see docs/stability.md)"
            ),
        )
    }

    def cut(self, terms, post_of_cadre: np.ndarray, policy) -> SideConstraints | None:
        blocking = blocking_pairs(WishState(terms, post_of_cadre), policy)
        return stability_rows(terms, blocking.pair, policy) if len(blocking) else None

    def violations(self, allocated: Allocated) -> list[str]:
        blocking = blocking_pairs(WishState(allocated.terms, allocated.post_of_cadre), allocated.policy)
        return [_("blocking pair, which the stability rule forbids: {pair}").format(pair=text) for text in blocking.sentences()]

    def conflict(self, label: str, unit: str, limit: int, needed: float, proven: bool) -> str:
        cadre, _at, post = label.removeprefix("stable ").partition("@")
        smallest = _("the smallest") if proven else _("the smallest found")
        return _(
            "The stability rule must give way for {cadre} and {post}: {cadre} would rather have {post}, and no allocation "
            "that meets the other rules keeps {post} full of cadres it ranks at least as high ({smallest} relaxation of the side constraints)."
        ).format(cadre=cadre, post=post, smallest=smallest)
