"""Feasibility first: an allocation within every group row (budget) by cheap exact flows, before any search.

1. The allocation of least total cost: one min-cost flow with the row weights
   (yuan), at the objective's scale, as the only cost. When the budgets were set
   at or above each university's spending in such an allocation (as
   ``tools/make_scenarios.py`` sets them), it meets them all. Equally cheap
   allocations spread the spending differently, so the flow runs on all the
   allowed pairs, before row tightening, as the allocation that set the budgets did.
2. When it breaks some rows, the budget repair of ``repair.py`` from it.

Each step is one exact flow, so the rules of the assignment always hold; no step
depends on the clock, so the result depends on the inputs only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import N_
from ..instance import PairTable
from .flow import solve_transportation
from .knapsack import GroupRows
from .repair import repair

TRIED = N_("the allocation of least total cost ({broken} budgets broken) and the budget repair from it")


@dataclass
class Start:
    """The first allocation within every row (None when neither step found one), and how it was found."""

    chosen: np.ndarray | None
    method: str  # "least cost", "repair" or "" when none was found
    broken_at_least_cost: int = 0


def feasible_start(
    pairs: PairTable, coef: np.ndarray, groups: GroupRows, must: np.ndarray, fill_every_post: bool, scale: int, stop=lambda: False
) -> Start:
    """An allocation (0/1 per pair) that meets every group row and the assignment rules, found by flows."""
    inst = pairs.instance
    cost = scale * groups.weight.astype(np.int64)
    flow = solve_transportation(pairs.cadre, pairs.post, -cost, inst.n_cadres, inst.post_capacity, must, fill_every_post)
    if not flow.feasible:
        return Start(None, "")
    broken = groups.spend(pairs, flow.chosen) > groups.rhs + 1e-9
    if not broken.any():
        return Start(flow.chosen, "least cost")
    start = Start(None, "", int(broken.sum()))
    if not stop():
        # the flow's prices are in yuan, not points: the repair's knapsacks go by the objective alone
        repaired = repair(pairs, coef, groups, must, fill_every_post, flow.chosen, np.zeros(inst.n_posts), stop)
        if repaired is not None and not (groups.spend(pairs, repaired) > groups.rhs + 1e-9).any():
            start.chosen, start.method = repaired, "repair"
    return start
