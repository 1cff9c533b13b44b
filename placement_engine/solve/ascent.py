"""Budget ascent: improve an allocation within every group row by exact flows, each step within budget.

From an allocation within every row, each cadre gets a cost cap: what it spends
now plus a part of its row's slack. Caps add up to at most each row's limit, so
every allocation within them meets every budget, and the current one is among
them. One min-cost flow over the pairs within the caps (``repair.within_caps``)
then finds the best such allocation, with any cadre free to move: the objective
never falls. Steps take turns in how the slack is handed out:

- shared equally among a row's cadres (``repair.spent_caps``);
- planned afresh for every row by its exact knapsack at post prices
  (``knapsack_choice``), so that a row can trade one cadre's spending for another's;
- all of it to one cadre per row, each in turn, so that a single cadre can move
  to a dearer post it values more.

The ascent stops when a whole cycle of these gains nothing, or after its rounds;
both are counted, so the result depends on the inputs only.
"""

from __future__ import annotations

import numpy as np

from ..instance import PairTable
from .knapsack import GroupRows, knapsack_choice
from .repair import spent_caps, within_caps

ASCENT_ROUNDS = 40


def ascend(
    pairs: PairTable,
    coef: np.ndarray,
    groups: GroupRows,
    must: np.ndarray,
    fill_every_post: bool,
    start: np.ndarray,
    prices: np.ndarray,
    rounds: int = ASCENT_ROUNDS,
    stop=lambda: False,
) -> tuple[np.ndarray, int, int]:
    """The best allocation found from ``start`` (within every row), its objective and the rounds run."""
    best, best_objective = start, int(coef[start > 0].sum())
    largest_row = int(np.bincount(groups.row_of_cadre[groups.row_of_cadre >= 0]).max(initial=1))
    strategies = ["equal", "planned", *range(largest_row)]
    failed_in_a_row = 0
    for round_number in range(rounds):
        if stop() or failed_in_a_row >= len(strategies):
            return best, best_objective, round_number
        strategy = strategies[round_number % len(strategies)]
        caps = spent_caps(pairs, groups, best)
        if strategy == "planned":
            caps = _planned_caps(pairs, coef, groups, must, prices, caps)
        elif strategy != "equal":
            caps = _turn_caps(pairs, groups, best, strategy)
        chosen, short_posts, short_cadres = within_caps(pairs, coef, groups, caps, must, fill_every_post)
        objective = int(coef[chosen > 0].sum())
        complete = not short_posts.any() and not short_cadres.any()
        within = not (groups.spend(pairs, chosen) > groups.rhs + 1e-9).any()
        if complete and within and objective > best_objective:
            best, best_objective, failed_in_a_row = chosen, objective, 0
        else:
            failed_in_a_row += 1
    return best, best_objective, rounds


def _planned_caps(pairs, coef, groups: GroupRows, must, prices, caps) -> np.ndarray:
    """Per cadre, what its row's exact knapsack at post ``prices`` lets it spend; no cap outside rows.

    Where the knapsack places a cadre nowhere, it spends nothing.
    """
    if not len(pairs):
        return caps
    value, pick = knapsack_choice(pairs.cadre, coef - prices[pairs.post], groups.weight, groups.row_of_cadre, groups.rhs, ~must)
    if not np.isfinite(value):
        return caps  # some row has no plan within its limit: the current caps stand
    planned = np.where(pick >= 0, groups.weight[np.maximum(pick, 0)], 0.0)
    return np.where(groups.row_of_cadre >= 0, planned, caps)


def _turn_caps(pairs, groups: GroupRows, chosen, turn: int) -> np.ndarray:
    """What each cadre spends in ``chosen``, with all of each row's slack given to its ``turn``-th cadre (cyclically)."""
    used = chosen > 0
    n_cadres = pairs.instance.n_cadres
    caps = np.zeros(n_cadres)
    caps[pairs.cadre[used]] = groups.weight[used]
    members = np.flatnonzero(groups.row_of_cadre >= 0)
    members = members[np.argsort(groups.row_of_cadre[members], kind="stable")]
    rows = groups.row_of_cadre[members]
    size = np.bincount(rows, minlength=len(groups.rhs))
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.arange(len(members)) - first[rows]
    lucky = members[rank == turn % np.maximum(size[rows], 1)]
    slack = np.maximum(groups.rhs - groups.spend(pairs, chosen), 0.0)
    caps[lucky] += slack[groups.row_of_cadre[lucky]]
    caps[groups.row_of_cadre < 0] = np.inf
    return caps
