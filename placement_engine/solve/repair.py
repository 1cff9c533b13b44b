"""Budget repair: turn an allocation that breaks some group rows into one that meets them all.

Group rows (``knapsack.py``) are side rows in which every cadre appears at most
once, such as per-university budgets. For such rows a cheap primal heuristic works well:

1. Cadres of rows that hold keep a cost cap equal to what they spend now, plus
   an equal share of what their row has left (one cadre left out per row shares
   too). For
   each broken row, an exact multiple-choice knapsack (``knapsack_choice``) picks
   one option per cadre, priced by the flow's post duals, within the row's limit;
   each cadre's cap is what its pick spends. Caps add up to at most the limit,
   so any allocation within the caps meets every row.
2. One min-cost flow over the pairs within the caps finds the best such
   allocation; it can move any cadre, so posts the broken rows give up are
   refilled along chains.
3. When a post that must be filled is left empty (say, a cross-province post no
   one else can afford) or a must-place cadre is left out, the cadre of a broken
   row who held it in the start keeps it, the knapsacks plan around that, and
   the flow runs again (a few rounds).

It returns None when no round gives a complete allocation; the caller then
relies on its other methods. This happens when many rows are broken: to free
room for each other, the rows would have to plan together. Without broken rows
the start is returned as it is.
"""

from __future__ import annotations

import numpy as np

from ..instance import PairTable
from .flow import solve_transportation
from .knapsack import GroupRows, knapsack_choice

KEEP_ROUNDS = 4


def repair(
    pairs: PairTable,
    coef: np.ndarray,
    groups: GroupRows,
    must: np.ndarray,
    fill_every_post: bool,
    start: np.ndarray,
    prices: np.ndarray,
    stop=lambda: False,
) -> np.ndarray | None:
    """An allocation within every group row, from ``start`` (0/1 per pair) and post ``prices``; None if none found.

    ``stop()`` is asked before each round; when it says so, the repair gives up.
    """
    broken = groups.spend(pairs, start) > groups.rhs + 1e-9
    if not broken.any():
        return start
    in_broken = (groups.row_of_cadre >= 0) & broken[np.maximum(groups.row_of_cadre, 0)]
    kept = np.zeros(pairs.instance.n_cadres, bool)
    for _ in range(KEEP_ROUNDS):
        if stop():
            return None
        caps = _plan_caps(pairs, coef, groups, must, prices, start, in_broken, kept)
        if caps is None:
            return None
        chosen, short_posts, short_cadres = within_caps(pairs, coef, groups, caps, must, fill_every_post)
        if not short_posts.any() and not short_cadres.any():
            return chosen
        blamed = _blamed(pairs, start, chosen, short_posts, short_cadres, in_broken & ~kept)
        if not blamed.any():
            return None
        kept |= blamed
    return None


def _blamed(pairs, start, chosen, short_posts, short_cadres, candidates) -> np.ndarray:
    """Cadres among ``candidates`` whose move left a post short or a must-place cadre out.

    From each short post (or the start post of each must-place cadre left out),
    follow its holder in ``start`` to the post that holder took in ``chosen``, and
    on to that post's holder in ``start``, until a candidate is met: moves of the
    broken rows' cadres open such chains.
    """
    n_cadres = pairs.instance.n_cadres
    post_then, post_now = np.full(n_cadres, -1), np.full(n_cadres, -1)
    post_then[pairs.cadre[start > 0]] = pairs.post[start > 0]
    post_now[pairs.cadre[chosen > 0]] = pairs.post[chosen > 0]
    holder_then = np.full(pairs.instance.n_posts, -1)
    holder_then[pairs.post[start > 0]] = pairs.cadre[start > 0]
    blamed = np.zeros(n_cadres, bool)
    for post in [*np.flatnonzero(short_posts), *post_then[short_cadres & (post_then >= 0)]]:
        cadre, steps = holder_then[post], 0
        while cadre >= 0 and not candidates[cadre] and post_now[cadre] >= 0 and steps < n_cadres:
            cadre, steps = holder_then[post_now[cadre]], steps + 1
        if cadre >= 0 and candidates[cadre]:
            blamed[cadre] = True
    return blamed


def spent_caps(pairs, groups: GroupRows, chosen) -> np.ndarray:
    """Caps that keep every row within what it spends in ``chosen``, or within its limit if that is more.

    A placed cadre may spend what it spends now, and one cadre left out per row
    nothing; what the row has left is shared equally among them. No cap outside rows.
    """
    used = chosen > 0
    n_cadres = pairs.instance.n_cadres
    caps = np.zeros(n_cadres)
    caps[pairs.cadre[used]] = groups.weight[used]
    sharing = np.zeros(n_cadres, bool)
    sharing[pairs.cadre[used]] = True
    waiting = np.flatnonzero(~sharing & (groups.row_of_cadre >= 0))
    sharing[waiting[np.unique(groups.row_of_cadre[waiting], return_index=True)[1]]] = True
    sharing &= groups.row_of_cadre >= 0
    sharers = np.bincount(groups.row_of_cadre[sharing], minlength=len(groups.rhs))
    share = np.maximum(groups.rhs - groups.spend(pairs, chosen), 0.0) / np.maximum(sharers, 1)
    caps[sharing] += share[groups.row_of_cadre[sharing]]
    caps[groups.row_of_cadre < 0] = np.inf
    return caps


def _plan_caps(pairs, coef, groups: GroupRows, must, prices, start, cadres, kept) -> np.ndarray | None:
    """Caps: for ``cadres``, what an exact knapsack within each row's limit spends (``kept`` ones stay on
    their post in ``start``); for the others, what they spend in ``start``."""
    caps = spent_caps(pairs, groups, start)
    options = cadres[pairs.cadre] & (~kept[pairs.cadre] | (start > 0))
    best, pick = knapsack_choice(
        pairs.cadre[options],
        (coef - prices[pairs.post])[options],
        groups.weight[options],
        np.where(cadres, groups.row_of_cadre, -1),
        groups.rhs,
        ~must & cadres & ~kept,
    )
    if not np.isfinite(best):
        return None
    picked = np.flatnonzero(options)
    members = np.flatnonzero(cadres)
    caps[members] = np.where(pick[members] >= 0, groups.weight[picked[np.maximum(pick[members], 0)]], 0.0)
    return caps


def within_caps(pairs, coef, groups: GroupRows, caps, must, fill_every_post):
    """The best allocation with every cadre within its cap, placing as many as the rules need first.

    Returns it, the posts it leaves short that must be filled, and the must-place cadres it leaves out.
    """
    inst = pairs.instance
    allowed = groups.weight <= caps[pairs.cadre] + 1e-9
    needs_placing = fill_every_post | must[pairs.cadre[allowed]]
    # a bonus per placement larger than any difference of objectives: placing comes first
    bonus = int(2 * np.abs(coef).max(initial=0)) * inst.n_cadres + 1
    flow = solve_transportation(
        pairs.cadre[allowed],
        pairs.post[allowed],
        coef[allowed] + bonus * needs_placing,
        inst.n_cadres,
        inst.post_capacity,
        False,
        False,
    )
    chosen = np.zeros(len(pairs), np.int64)
    chosen[np.flatnonzero(allowed)] = flow.chosen
    placed = np.zeros(inst.n_cadres, bool)
    placed[pairs.cadre[chosen > 0]] = True
    short_posts = np.bincount(pairs.post[chosen > 0], minlength=inst.n_posts) < inst.post_capacity
    return chosen, short_posts & fill_every_post, must & ~placed
