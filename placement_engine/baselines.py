"""Two reference allocations to measure the optimum against: a hand allocator's greedy and a random one.

Both return a ``Baseline`` whose ``table`` has the format of ``allocation.csv``
(``evaluate.allocation_table``), so the same metrics, objective and solver-free
``check`` score them as they score the engine.

- ``greedy_allocation``: serial dictatorship, as allocators do it by hand. Pinned
  cadres go first, then the universities in the order of the universities table,
  each university's cadres in the order of the cadres table. Each cadre takes the
  best wish still free (the lowest wish number a free post meets, the nearest
  such post when a wish names a prefecture or province), else the nearest free
  post. Only posts the hard pair rules allow, with capacity left, and within every
  side row (e.g. a budget) count. It does not look ahead, so it may leave cadres
  without a post and posts unfilled; ``unplaced`` and ``unfilled`` list them.
- ``random_allocation``: an allocation drawn at random among those that meet the
  hard rules: the exact transportation solver (``flow.py``) with independent
  uniform random scores on the allowed pairs. It meets every pair rule, places
  every cadre who must be placed and fills every post that must be filled. It
  cannot honour side constraints, so a policy with any is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InfeasibleError
from .evaluate import allocation_table, metrics
from .factors import FACTORS
from .instance import PairTable
from .reports.check import CheckReport, check_allocation
from .rules import allowed_pairs, must_place
from .scenario import Scenario
from .schema import Policy
from .solve.flow import solve_transportation
from .solve.relaxation import StackedRows

RANDOM_SCORE_RANGE = 1_000_000


@dataclass
class Baseline:
    """A reference allocation, scored like the engine's."""

    name: str
    scenario: Scenario
    policy: Policy
    table: pd.DataFrame
    post_of_cadre: np.ndarray = field(repr=False)
    unplaced: list[str] = field(default_factory=list)  # cadres it gave no post
    unfilled: list[str] = field(default_factory=list)  # posts left below capacity

    @property
    def objective(self) -> float:
        return float(self.table["score_total"].sum())

    @property
    def metrics(self) -> dict:
        return metrics(self.scenario.instance, self.policy, self.table)

    def check(self) -> CheckReport:
        """The solver-free audit, as for the engine: every hard rule the baseline broke is listed."""
        return check_allocation(self.scenario.with_policy(self.policy), self.table)


def greedy_allocation(scenario: Scenario, policy: Policy | None = None) -> Baseline:
    """Serial dictatorship by university order: best free wish, else nearest free post (see the module docstring)."""
    policy = policy or scenario.policy
    inst = scenario.instance
    pairs = allowed_pairs(inst, policy)
    choice = FACTORS["preferences"].matched_choice(pairs)
    rank = np.where(choice > 0, choice, np.iinfo(np.int64).max)  # wishes first, in order; then the rest
    distance = pairs.distance_km
    rows = _SideRows(pairs, policy)
    bounds = np.searchsorted(pairs.cadre, np.arange(inst.n_cadres + 1))
    remaining = inst.post_capacity.astype(np.int64)
    post_of_cadre = np.full(inst.n_cadres, -1, np.int64)
    pinned = _pinned(inst, policy)
    order = np.lexsort((np.arange(inst.n_cadres), inst.cadre_university, ~pinned))
    for cadre in order.tolist():
        start, stop = bounds[cadre], bounds[cadre + 1]
        free = np.flatnonzero((remaining[pairs.post[start:stop]] > 0) & rows.fits(start, stop))
        if not len(free):
            continue
        best = start + free[np.lexsort((distance[start + free], rank[start + free]))[0]]
        post_of_cadre[cadre] = pairs.post[best]
        remaining[pairs.post[best]] -= 1
        rows.take(best)
    return _baseline("greedy", scenario, policy, post_of_cadre, remaining)


def random_allocation(scenario: Scenario, policy: Policy | None = None, seed: int = 0) -> Baseline:
    """An allocation meeting every hard rule, drawn with uniform random scores on the allowed pairs."""
    policy = policy or scenario.policy
    inst = scenario.instance
    pairs = allowed_pairs(inst, policy)
    if _SideRows(pairs, policy).count:
        raise ValueError("the random baseline cannot honour side constraints (e.g. budgets); turn them off first")
    score = np.random.default_rng(seed).integers(0, RANDOM_SCORE_RANGE, len(pairs))
    flow = solve_transportation(
        pairs.cadre, pairs.post, score, inst.n_cadres, inst.post_capacity,
        must_place(inst, policy.rules), policy.rules.fill_every_post,
    )  # fmt: skip
    if not flow.feasible:
        raise InfeasibleError(f"no allocation meets the hard rules (flow status {flow.status})")
    chosen = np.flatnonzero(flow.chosen > 0)
    post_of_cadre = np.full(inst.n_cadres, -1, np.int64)
    post_of_cadre[pairs.cadre[chosen]] = pairs.post[chosen]
    remaining = inst.post_capacity - np.bincount(pairs.post[chosen], minlength=inst.n_posts)
    return _baseline("random", scenario, policy, post_of_cadre, remaining)


def _baseline(name, scenario: Scenario, policy: Policy, post_of_cadre: np.ndarray, remaining: np.ndarray) -> Baseline:
    inst = scenario.instance
    return Baseline(
        name,
        scenario,
        policy,
        allocation_table(inst, policy, post_of_cadre),
        post_of_cadre,
        inst.cadre_id[post_of_cadre < 0].tolist(),
        inst.post_id[remaining > 0].tolist(),
    )


def _pinned(inst, policy: Policy) -> np.ndarray:
    """Cadres a pin sends to a post: they choose first, so nobody takes their post."""
    pinned = np.zeros(inst.n_cadres, bool)
    pins = inst.tables.get("pins")
    if policy.rules.pins and pins is not None and len(pins):
        is_pin = pins["kind"].to_numpy(str) == "pin"
        pinned[inst.cadre_index(pins["cadre_id"].to_numpy(str)[is_pin])] = True
    return pinned


class _SideRows:
    """Every factor's side rows over the allowed pairs, with the load taken so far."""

    def __init__(self, pairs: PairTable, policy: Policy):
        rows = [
            rows
            for name, params in policy.active_factors().items()
            if (rows := FACTORS[name].side_constraints(pairs, params)) is not None and len(rows.labels)
        ]
        none = np.zeros(0, np.int64)
        stacked = StackedRows.of(rows) if rows else StackedRows(np.zeros(0), none, none, np.zeros(0))
        order = np.argsort(stacked.pair, kind="stable")
        self.rhs, self.count = stacked.rhs, len(stacked.rhs)
        self.row, self.pair, self.coef = stacked.row[order], stacked.pair[order], stacked.coef[order]
        self.load = np.zeros(self.count)

    def _entries(self, start: int, stop: int) -> slice:
        return slice(*np.searchsorted(self.pair, [start, stop]))

    def fits(self, start: int, stop: int) -> np.ndarray:
        """For pairs start..stop-1: would taking it keep every row within its limit?"""
        ok = np.ones(stop - start, bool)
        entries = self._entries(start, stop)
        over = self.load[self.row[entries]] + self.coef[entries] > self.rhs[self.row[entries]] + 1e-9
        ok[self.pair[entries][over] - start] = False
        return ok

    def take(self, pair: int) -> None:
        entries = self._entries(pair, pair + 1)
        np.add.at(self.load, self.row[entries], self.coef[entries])
