"""From the master's plans to an allocation within every budget that fills what must be filled.

1. **Leading plans.** Each group takes its plan of largest weight in the master
   (``master.py``); its cadres' spending in that plan, plus an equal share of what
   the group has left, are their cost caps (``repair.spent_caps``), so any
   allocation within the caps meets every budget.
2. **One exact flow over the caps**, with placing first: the best allocation
   within them. Plans of different groups overlap and leave gaps, so a few posts
   that must be filled can stay empty.
3. **The fill.** One more flow over every pair, placing first, and then the
   objective less ``EXCESS_PRICE`` points per yuan spent over a cadre's cap:
   it fills every seat, and the few budgets it breaks are over by little.
4. **Priced flows.** While some budgets are broken, one more flow in which
   every cadre keeps to a cap (for a broken university's cadres, what each
   spends now, so its spending cannot grow) and a broken university's cadres
   pay a price per yuan, doubled each time the budget stays broken. The
   allocation before the flow is within the caps, so the flow fills every seat.
   At 982 cadres this mended 3 budgets in 3 flows for 187 points, where the
   exchanges below alone cost 325.
5. **Exchanges.** While a budget is still broken, the best single exchange that
   mends it without breaking another: a cadre of that university hands its post
   to a cadre left unplaced and goes home, or swaps posts with another cadre for
   a cheaper one. Each exchange is evaluated for all candidates at once.

None when a budget cannot be mended this way; the caller falls back on the
allocation it already has. No step depends on the clock.
"""

from __future__ import annotations

import numpy as np

from ..instance import PairTable
from .flow import solve_transportation
from .knapsack import GroupRows
from .master import Master
from .repair import spent_caps, within_caps

EXCESS_PRICE = 0.001  # of the largest coefficient, per yuan over a cap; 0.0003 and 0.003 rounded worse at 982 and nationally
MAX_EXCHANGES = 400
# doublings of the price on a broken row's spending: from 1/8 of the fill's price per yuan to 2**(rounds - 4) times it
PRICED_ROUNDS = 8


def leading_plan(master: Master, n_pairs: int) -> np.ndarray:
    """0/1 per pair: every group's plan of largest weight (the first such column on ties)."""
    order = np.lexsort((-master.weight, master.column_group))
    groups = master.column_group[order]
    first = order[np.r_[0, np.flatnonzero(np.diff(groups)) + 1]]
    plan = np.zeros(n_pairs, np.int64)
    if len(first):
        plan[np.concatenate([master.column_pairs[c] for c in first])] = 1
    return plan


def round_plan(pairs: PairTable, coef: np.ndarray, groups: GroupRows, must: np.ndarray, fill_every_post: bool, plan: np.ndarray) -> np.ndarray | None:
    """An allocation within every group row and the assignment rules from ``plan`` (one plan per group); None if none found."""
    caps = spent_caps(pairs, groups, plan)
    chosen, short_posts, short_cadres = within_caps(pairs, coef, groups, caps, must, fill_every_post)
    if not short_posts.any() and not short_cadres.any():
        return chosen
    inst = pairs.instance
    excess = np.maximum(groups.weight - caps[pairs.cadre], 0.0)
    price = EXCESS_PRICE * float(np.abs(coef).max(initial=1.0))
    value = np.rint(coef - price * excess).astype(np.int64)
    bonus = int(2 * np.abs(value).max(initial=0)) * inst.n_cadres + 1
    needs_placing = fill_every_post | must[pairs.cadre]
    flow = solve_transportation(pairs.cadre, pairs.post, value + bonus * needs_placing, inst.n_cadres, inst.post_capacity, False, False)
    filled = flow.chosen
    placed = np.zeros(inst.n_cadres, bool)
    placed[pairs.cadre[filled > 0]] = True
    seats_short = np.bincount(pairs.post[filled > 0], minlength=inst.n_posts) < inst.post_capacity
    if (must & ~placed).any() or (fill_every_post and seats_short.any()):
        return None
    return mend_budgets(pairs, coef, groups, must, price_budgets(pairs, coef, groups, must, fill_every_post, filled, price))


def price_budgets(pairs: PairTable, coef: np.ndarray, groups: GroupRows, must: np.ndarray, fill_every_post: bool, chosen: np.ndarray, price: float) -> np.ndarray:
    """``chosen`` with fewer broken group rows: flows in which a broken row's cadres may spend no more than now and pay a
    price per yuan that doubles while the row stays broken (module docstring, step 4). ``chosen`` must be complete."""
    rows, lam = groups.row_of_cadre, np.zeros(len(groups.rhs))
    in_row = rows[pairs.cadre] >= 0
    for _ in range(PRICED_ROUNDS):
        broken = groups.spend(pairs, chosen) > groups.rhs + 1e-9
        if not broken.any():
            break
        lam[broken] = np.maximum(2 * lam[broken], price / 8)
        # the current allocation is within these caps, so the flow finds a complete one
        caps = spent_caps(pairs, groups, chosen)
        charge = np.where(in_row, lam[np.maximum(rows[pairs.cadre], 0)], 0.0) * groups.weight
        found, short_posts, short_cadres = within_caps(pairs, np.rint(coef - charge).astype(np.int64), groups, caps, must, fill_every_post)
        if short_posts.any() or short_cadres.any():
            break
        chosen = found
    return chosen


def mend_budgets(pairs: PairTable, coef: np.ndarray, groups: GroupRows, must: np.ndarray, chosen: np.ndarray) -> np.ndarray | None:
    """``chosen`` with its broken group rows mended by single exchanges (module docstring, step 5); None if some stay broken."""
    inst = pairs.instance
    key = pairs.cadre.astype(np.int64) * inst.n_posts + pairs.post
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]

    def pair_of(cadre, post):
        """The pair index of each (cadre, post), -1 where it is not allowed."""
        wanted = cadre.astype(np.int64) * inst.n_posts + post
        at = np.minimum(np.searchsorted(sorted_key, wanted), len(sorted_key) - 1)
        return np.where(sorted_key[at] == wanted, order[at], -1)

    chosen = chosen.copy()
    row = groups.row_of_cadre
    weight, value = groups.weight, coef.astype(np.int64)
    for _ in range(MAX_EXCHANGES):
        over = groups.spend(pairs, chosen) - groups.rhs
        if not (over > 1e-9).any():
            return chosen
        slack = np.where(over < 0, -over, 0.0)
        pair_now = np.full(inst.n_cadres, -1)
        pair_now[pairs.cadre[chosen > 0]] = np.flatnonzero(chosen > 0)
        broken = (row >= 0) & (over[np.maximum(row, 0)] > 1e-9) & (pair_now >= 0)
        best = _best_exchange(pairs, pair_of, chosen, pair_now, broken, row, over, slack, weight, value, must)
        if best is None:
            return None
        for pair, on in best:
            chosen[pair] = on
    return None


def _room(row, slack, cadre):
    """What each cadre's row has left (unlimited outside rows)."""
    return np.where(row[cadre] >= 0, slack[np.maximum(row[cadre], 0)], np.inf)


def _best_exchange(pairs, pair_of, chosen, pair_now, broken, row, over, slack, weight, value, must):
    """The exchange of largest objective change that mends one broken row and breaks none, as (pair, 0/1) settings."""
    n_posts = pairs.instance.n_posts
    givers = np.flatnonzero(broken)
    given = pair_now[givers]
    post_given = pairs.post[given]
    moves = []  # (change in objective, settings)
    # a giver goes home, a cadre left unplaced takes its post
    idle = np.flatnonzero(pair_now < 0)
    if len(idle):
        taker_pairs = np.flatnonzero(np.isin(pairs.cadre, idle) & np.isin(pairs.post, post_given))
        giver_of_post = np.full(n_posts, -1)
        giver_of_post[post_given] = np.arange(len(givers))
        g = giver_of_post[pairs.post[taker_pairs]]
        taker = pairs.cadre[taker_pairs]
        mends = ~must[givers[g]] & (weight[given[g]] >= over[row[givers[g]]] - 1e-9)
        fits = weight[taker_pairs] <= _room(row, slack, taker) + 1e-9
        ok = mends & fits & (row[taker] != row[givers[g]])
        for k in np.flatnonzero(ok):
            moves.append((int(value[taker_pairs[k]] - value[given[g[k]]]), [(given[g[k]], 0), (taker_pairs[k], 1)]))
    # a giver swaps posts with another cadre for a cheaper one
    options = np.flatnonzero(broken[pairs.cadre] & (chosen == 0))
    giver = pairs.cadre[options]
    holder_pair = np.full(n_posts, -1)
    holder_pair[pairs.post[chosen > 0]] = np.flatnonzero(chosen > 0)
    other = holder_pair[pairs.post[options]]
    options, giver, other = options[other >= 0], giver[other >= 0], other[other >= 0]
    other_cadre = pairs.cadre[other]
    back = pair_of(other_cadre, pairs.post[pair_now[giver]])
    keep = back >= 0
    options, giver, other, other_cadre, back = options[keep], giver[keep], other[keep], other_cadre[keep], back[keep]
    giver_change = weight[options] - weight[pair_now[giver]]
    other_change = weight[back] - weight[other]
    same = row[other_cadre] == row[giver]
    mends = np.where(same, giver_change + other_change, giver_change) <= -over[row[giver]] + 1e-9
    fits = same | (other_change <= _room(row, slack, other_cadre) + 1e-9)
    ok = np.flatnonzero(mends & fits)
    gain = value[options] + value[back] - value[pair_now[giver]] - value[other]
    for k in ok[np.argsort(-gain[ok], kind="stable")[:1]]:
        moves.append((int(gain[k]), [(pair_now[giver[k]], 0), (other[k], 0), (options[k], 1), (back[k], 1)]))
    if not moves:
        return None
    return max(moves, key=lambda move: move[0])[1]
