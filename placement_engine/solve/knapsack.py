"""Group rows and their knapsacks: side rows in which every cadre appears at most once.

Per-university budgets are such rows: row r holds the cadres of one university,
and ``sum_i w[i, post(i)] <= b_r``. Over them the placement problem, with the
post rows priced instead of kept, falls apart into one small problem per row:
give each cadre of the row one option (or none, if it may stay unplaced), within
the row's limit, for the most value. That is a multiple-choice knapsack, solved
exactly here (``knapsack_choice``). It serves the budget repair (``repair.py``)
and an upper bound (``knapsack_bound``).

The bound. For post prices pi (free when every post must be filled, else >= 0),

    L(pi) = sum_j pi_j * capacity_j
            + sum over rows r of  max { sum_{i in r} (coef[i, p(i)] - pi_p(i)) : the row's knapsack }
            + sum over cadres in no row of  max(0 if the cadre may stay unplaced, max_p coef[i, p] - pi_p)

is at least the objective of every allocation that meets the rows, whatever pi
is: each allocation is feasible for the knapsacks, and its post rows only lower
the priced terms. Unlike a bound that prices the budget rows (whose best is the
LP bound), this one keeps each budget's integrality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..factors import SideConstraints
from ..instance import PairTable
from .flow import FlowResult

MAX_GROUP_CADRES = 40  # the largest university in the national scenario sends 17


@dataclass
class GroupRows:
    """Side rows in which each cadre appears at most once, as arrays over pairs and cadres."""

    weight: np.ndarray  # per pair: its coefficient in its cadre's row (0 outside rows)
    row_of_cadre: np.ndarray  # per cadre: its row, -1 when in none
    rhs: np.ndarray

    @classmethod
    def of(cls, pairs: PairTable, side: list[SideConstraints]) -> GroupRows | None:
        """The rows as groups, or None when they are not: some pair or cadre is in two rows, a
        coefficient is negative, or a row holds more than MAX_GROUP_CADRES cadres.

        With no negative coefficient a cadre left unplaced adds nothing, so it never
        adds more than its cap. A row over many cadres (a Pareto front's epsilon row
        holds them all) would make the knapsack's fronts too long to merge quickly.
        """
        rows = [r for r in side if len(r.labels)]
        if not rows or any((r.coef < 0).any() for r in rows):
            return None
        offsets = np.cumsum([0] + [len(r.labels) for r in rows])
        pair = np.concatenate([r.pair for r in rows]).astype(np.int64)
        row = np.concatenate([r.row + offset for r, offset in zip(rows, offsets)]).astype(np.int64)
        if len(pair) and np.bincount(pair).max() > 1:
            return None
        cadre_rows = np.unique(pairs.cadre[pair].astype(np.int64) * offsets[-1] + row)
        if len(np.unique(cadre_rows // offsets[-1])) < len(cadre_rows):
            return None
        if np.bincount(cadre_rows % offsets[-1]).max(initial=0) > MAX_GROUP_CADRES:
            return None
        weight = np.zeros(len(pairs))
        weight[pair] = np.concatenate([r.coef for r in rows])
        row_of_cadre = np.full(pairs.instance.n_cadres, -1)
        row_of_cadre[pairs.cadre[pair]] = row
        return cls(weight, row_of_cadre, np.concatenate([r.rhs for r in rows]).astype(float))

    def spend(self, pairs: PairTable, chosen: np.ndarray) -> np.ndarray:
        """Each row's left-hand side under the 0/1 allocation ``chosen``."""
        used = chosen > 0
        in_row = used & (self.row_of_cadre[pairs.cadre] >= 0)
        return np.bincount(self.row_of_cadre[pairs.cadre[in_row]], weights=self.weight[in_row], minlength=len(self.rhs))


def knapsack_choice(cadre, value, weight, row_of_cadre, rhs, optional) -> tuple[float, np.ndarray]:
    """max sum(value): at most (exactly, unless ``optional``) one option per cadre, each row within ``rhs``.

    ``cadre``, ``value`` and ``weight`` describe the options (pairs). Returns the
    maximum (-inf when some row cannot be met) and the chosen option per cadre
    (-1: none). Each cadre's options are first cut to its front: none costs more
    for less value. A row whose cadres' best options fit takes them; the others
    merge fronts cadre by cadre, an exact dynamic programme on (spend, value).
    """
    n_cadres = len(row_of_cadre)
    home = np.flatnonzero(optional)
    cadre = np.concatenate([cadre, home])
    spend = np.concatenate([weight, np.zeros(len(home))])
    gain = np.concatenate([value, np.zeros(len(home))])
    option = np.concatenate([np.arange(len(value)), np.full(len(home), -1)])
    order = np.lexsort((-gain, spend, cadre))
    cadre, spend, gain, option = cadre[order], spend[order], gain[order], option[order]
    start = np.searchsorted(cadre, np.arange(n_cadres + 1))
    # a segmented running maximum (an offset per cadre keeps cadres apart): an option
    # stays if it beats every cheaper option of its cadre
    lifted = gain + _cadre_offsets(gain, start)
    on_front = lifted > np.concatenate([[-np.inf], np.maximum.accumulate(lifted)[:-1]])
    cadre, spend, gain, option = cadre[on_front], spend[on_front], gain[on_front], option[on_front]
    start = np.searchsorted(cadre, np.arange(n_cadres + 1))
    best = start[1:] - 1  # a front's last option is its cadre's best
    has_option = start[1:] > start[:-1]
    choice = np.where(has_option, option[np.maximum(best, 0)], -1)
    total = float(gain[best[has_option]].sum())
    in_row = (row_of_cadre >= 0) & has_option
    best_spend = np.bincount(row_of_cadre[in_row], weights=spend[best[in_row]], minlength=len(rhs))
    members = np.argsort(row_of_cadre, kind="stable")
    row_start = np.searchsorted(row_of_cadre[members], np.arange(len(rhs) + 1))
    for row in np.flatnonzero(best_spend > rhs + 1e-9):
        cadres = members[row_start[row] : row_start[row + 1]]
        fronts = [slice(start[c], start[c + 1]) for c in cadres]
        # what the cadres after each one need at least, so that every partial front can be completed
        least = np.array([spend[f][0] for f in fronts])
        reserve = np.concatenate([np.cumsum(least[::-1])[::-1][1:], [0.0]])
        front_spend, front_gain = np.zeros(1), np.zeros(1)
        origins = []
        for f, needed_after in zip(fronts, reserve):
            sums = (front_spend[:, None] + spend[f][None, :]).ravel()
            gains = (front_gain[:, None] + gain[f][None, :]).ravel()
            fits = np.flatnonzero(sums <= rhs[row] - needed_after + 1e-9)
            if not len(fits):
                return -np.inf, choice
            by_spend = fits[np.lexsort((-gains[fits], sums[fits]))]
            kept = by_spend[gains[by_spend] > np.concatenate([[-np.inf], np.maximum.accumulate(gains[by_spend])[:-1]])]
            front_spend, front_gain = sums[kept], gains[kept]
            origins.append((kept, f.stop - f.start))
        position = int(np.argmax(front_gain))
        total += float(front_gain[position]) - float(gain[best[cadres]].sum())
        for c, f, (kept, width) in zip(cadres[::-1], fronts[::-1], origins[::-1]):
            origin = int(kept[position])
            choice[c] = option[f][origin % width]
            position = origin // width
    return total, choice


def _cadre_offsets(gain: np.ndarray, start: np.ndarray) -> np.ndarray:
    if not len(gain):
        return gain
    span = float(gain.max() - gain.min()) + 1.0
    return np.repeat(np.arange(len(start) - 1), np.diff(start)) * span


def post_prices(flow: FlowResult, n_cadres: int, n_posts: int) -> np.ndarray:
    """The flow's duals of the post rows (what one more seat at each post is worth)."""
    sink = n_cadres + n_posts
    return (flow.potential[sink] - flow.potential[n_cadres:sink]).astype(float)


def knapsack_bound(
    pairs: PairTable,
    coef: np.ndarray,
    groups: GroupRows,
    must: np.ndarray,
    fill_every_post: bool,
    starts: list[np.ndarray],
    target: float | None,
    rounds: int,
    patience: int = 1,
    stop=lambda: False,
) -> float | None:
    """The least L(pi) found from the ``starts`` prices and ``rounds`` subgradient steps towards ``target``.

    Steps follow Polyak's rule (the subgradient of L is capacity minus the posts the
    knapsacks choose) towards ``target``, or 1 % under the current value without
    one, halving after ``patience`` steps in a row that do not improve. None when
    some row cannot be met at all, so that no allocation can. ``stop()`` is asked
    before each step; every value found so far is a valid bound.
    """
    capacity = pairs.instance.post_capacity.astype(float)

    def evaluate(prices):
        prices = prices if fill_every_post else np.maximum(prices, 0.0)
        value, choice = knapsack_choice(pairs.cadre, coef - prices[pairs.post], groups.weight, groups.row_of_cadre, groups.rhs, ~must)
        load = np.bincount(pairs.post[choice[choice >= 0]], minlength=len(capacity))
        return value + float(prices @ capacity), prices, capacity - load

    best = min((evaluate(prices) for prices in starts), key=lambda result: result[0])
    if not np.isfinite(best[0]):
        return None
    value, prices, step = best
    theta, stalled = 1.0, 0
    for _ in range(rounds):
        aim = target if target is not None else value - 0.01 * abs(value)
        if value <= aim or not step.any() or stop():
            break
        value, prices, step = evaluate(prices - theta * (value - aim) / float(step @ step) * step)
        if value < best[0]:
            best, stalled = (value, prices, step), 0
        else:
            stalled += 1
            if stalled >= patience:
                theta, stalled = theta / 2, 0
    return best[0]
