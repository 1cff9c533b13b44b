"""Relaxations before the search: the flow, a certified Lagrangian bound with repaired allocations, and row tightening.

For side rows ``A x <= b`` and multipliers ``lam >= 0``,
``L(lam) = max (coef - A^T lam) x + lam b`` over the assignment polytope bounds
the constrained optimum from above; each evaluation is one exact flow whose node
potentials certify ``L(lam)``. Every loop here is bounded by an iteration count,
so its result depends only on the inputs; the wall clock (``Deadline``) may cut
it short, and the caller then reports the run as stopped by the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..factors import SideConstraints
from ..rules import must_place
from .deadline import Deadline
from .flow import FlowResult, solve_transportation
from .knapsack import GroupRows, knapsack_bound, post_prices
from .repair import repair
from .terms import Terms

LAGRANGIAN_ROUNDS = 40
MAX_REPAIRS = 3
KNAPSACK_ROUNDS = 10
REPAIR_DOUBLINGS = 30
TIGHTEN_PASSES = 10


def terms_flow(terms: Terms, coef: np.ndarray, rules, real_coef: np.ndarray | None = None) -> FlowResult:
    inst = terms.pairs.instance
    return solve_transportation(
        terms.pairs.cadre,
        terms.pairs.post,
        coef,
        inst.n_cadres,
        inst.post_capacity,
        must_place(inst, rules),
        rules.fill_every_post,
        real_coef=real_coef,
    )


# ---- side constraints: Lagrangian bound and hint, reduced-cost fixing, then CP-SAT ----------


@dataclass
class Lagrangian:
    bound: int | None  # valid upper bound on the constrained optimum (scaled units)
    hint: np.ndarray | None  # best allocation found that meets every side row
    hint_objective: int | None
    reduced: np.ndarray | None  # per pair, at the best multipliers: forcing it lowers ``real_bound`` this much
    real_bound: float | None
    rounds: int = 0
    # The best allocation that ``repair.py`` made of a step's flow. It is kept apart from the
    # hint: as a hint it slowed CP-SAT's proof on the default scenario (the budget ascent's does not).
    repaired: np.ndarray | None = None
    repaired_objective: int | None = None
    # The bound of ``knapsack.py`` for group rows, when below ``bound``. It only tightens the
    # bound reported at the end: as a constraint, it slowed CP-SAT's proof on the default scenario.
    knapsack_bound: int | None = None

    def best_bound(self) -> int | None:
        return self.bound if self.knapsack_bound is None else self.knapsack_bound

    def incumbent(self) -> tuple[np.ndarray | None, int | None]:
        """The better of the hint and the repaired allocation, with its objective."""
        if self.repaired_objective is not None and (self.hint_objective is None or self.repaired_objective > self.hint_objective):
            return self.repaired, self.repaired_objective
        return self.hint, self.hint_objective


@dataclass
class StackedRows:
    """All side rows ``A x <= b`` as one sparse matrix in coordinate form."""

    rhs: np.ndarray
    row: np.ndarray
    pair: np.ndarray
    coef: np.ndarray

    @classmethod
    def of(cls, rows: list[SideConstraints]) -> StackedRows:
        offsets = np.cumsum([0] + [len(r.labels) for r in rows])
        return cls(
            np.concatenate([r.rhs for r in rows]).astype(float),
            np.concatenate([r.row + off for r, off in zip(rows, offsets)]).astype(np.int64),
            np.concatenate([r.pair for r in rows]).astype(np.int64),
            np.concatenate([r.coef for r in rows]).astype(float),
        )

    def excess(self, chosen: np.ndarray) -> np.ndarray:
        """A x - b: positive entries are violated rows."""
        return np.bincount(self.row, weights=self.coef * chosen[self.pair], minlength=len(self.rhs)) - self.rhs

    def penalty(self, lam: np.ndarray, n_pairs: int) -> np.ndarray:
        """A^T lam, per pair."""
        return np.bincount(self.pair, weights=self.coef * lam[self.row], minlength=n_pairs)


def lagrangian(
    terms: Terms, coef: np.ndarray, side: list[SideConstraints], rules, deadline: Deadline | None = None, rounds: int = LAGRANGIAN_ROUNDS
) -> Lagrangian:
    """Subgradient search on the multipliers of the side rows, each step one exact flow.

    For multipliers lam >= 0, L(lam) = max (coef - A^T lam) x + lam b over the
    assignment polytope bounds the constrained optimum from above; the flow's node
    potentials certify L(lam) exactly, with no allowance for rounding. Steps follow
    Polyak's rule towards the best allocation found, halving when the bound stalls.
    Allocations that meet the rows become hints. When a step's allocation breaks
    some rows, it is repaired: the first few times by doubling the broken rows'
    multipliers, and for group rows such as budgets (``repair.py``) also whenever
    it breaks fewer rows than any step before.
    """
    deadline = deadline or Deadline(float("inf"))
    rows = [r for r in side if len(r.labels)]
    if not rows:
        flow = terms_flow(terms, coef, rules, real_coef=coef.astype(float))
        if not flow.feasible:
            return Lagrangian(None, None, None, None, None)
        return Lagrangian(flow.bound, flow.chosen, flow.objective, flow.reduced, flow.real_bound, 1)
    stacked = StackedRows.of(rows)
    n_pairs = len(terms.pairs)
    lam = np.zeros(len(stacked.rhs))
    # a first multiplier for a repaired row: one row unit is worth a typical pair coefficient
    scale = 1.0
    if n_pairs and len(stacked.coef):
        scale = float(np.median(np.abs(coef))) / max(float(np.median(np.abs(stacked.coef))), 1e-9)
    best = Lagrangian(None, None, None, None, None)
    theta, stalled, repairs = 2.0, 0, 0
    groups = GroupRows.of(terms.pairs, rows)
    must = must_place(terms.pairs.instance, rules)
    n_cadres = terms.pairs.instance.n_cadres
    n_posts = len(terms.pairs.instance.post_capacity)
    fewest_broken = np.inf
    price_starts: dict[str, np.ndarray] = {}  # post prices to start the knapsack bound from

    def consider(chosen: np.ndarray) -> bool:
        if (stacked.excess(chosen.astype(float)) > 1e-9).any():
            return False
        objective = int(coef[chosen > 0].sum())
        if best.hint_objective is None or objective > best.hint_objective:
            best.hint, best.hint_objective = chosen.copy(), objective
        return True

    def stop() -> bool:
        return deadline.pre_phase_over("lagrangian")

    for round_number in range(rounds):
        if stop():
            break
        best.rounds = round_number + 1
        real = coef - stacked.penalty(lam, n_pairs)
        flow = terms_flow(terms, np.rint(real).astype(np.int64), rules, real_coef=real)
        if not flow.feasible:
            break
        value = flow.real_bound + float(lam @ stacked.rhs)
        prices = post_prices(flow, n_cadres, n_posts) if groups is not None else None
        if prices is not None:
            price_starts.setdefault("first", prices)
        if best.real_bound is None or value < best.real_bound:
            best.real_bound, best.reduced, stalled = value, flow.reduced, 0
            if prices is not None:
                price_starts["best"] = prices
        else:
            stalled += 1
            if stalled >= 3:
                theta, stalled = theta / 2, 0
        excess = stacked.excess(flow.chosen.astype(float))
        broken = int((excess > 1e-9).sum())
        if not broken:
            consider(flow.chosen)
        if broken and groups is not None and broken < fewest_broken:
            fewest_broken = broken
            repaired = repair(terms.pairs, coef, groups, must, rules.fill_every_post, flow.chosen, prices, stop)
            if repaired is not None and not (stacked.excess(repaired.astype(float)) > 1e-9).any():
                objective = int(coef[repaired > 0].sum())
                if best.repaired_objective is None or objective > best.repaired_objective:
                    best.repaired, best.repaired_objective = repaired, objective
        if broken and repairs < MAX_REPAIRS:
            repairs += 1
            _repair(terms, coef, stacked, lam, scale, flow.chosen, rules, consider, stop)
        incumbent = best.incumbent()[1]
        if incumbent is not None and floor_bound(best.real_bound) <= incumbent:
            break
        target = best.hint_objective if best.hint_objective is not None else value - 0.01 * max(abs(value), 1.0)
        norm = float(excess @ excess)
        if norm == 0:
            break
        lam = np.maximum(0.0, lam + theta * max(value - target, 1.0) / norm * excess)
    best.bound = floor_bound(best.real_bound) if best.real_bound is not None else None
    incumbent = best.incumbent()[1]
    if price_starts and best.bound is not None and (incumbent is None or incumbent < best.bound) and not stop():
        # steps need a target below the bound: without an allocation, only the starts are tried
        value = knapsack_bound(
            terms.pairs, coef, groups, must, rules.fill_every_post, list(price_starts.values()),
            target=incumbent if incumbent is not None else -np.inf, rounds=KNAPSACK_ROUNDS if incumbent is not None else 0,
            stop=lambda: deadline.pre_phase_over("knapsack bound"),
        )
        if value is not None and floor_bound(value) < best.bound:
            best.knapsack_bound = floor_bound(value)
    return best


def _repair(terms, coef, stacked: StackedRows, lam, scale: float, chosen, rules, consider, stop) -> None:
    """Double the multipliers of the rows ``chosen`` breaks until an allocation meets them all."""
    trial = lam.copy()
    for _ in range(REPAIR_DOUBLINGS):
        if stop():
            return
        violated = stacked.excess(chosen.astype(float)) > 1e-9
        if not violated.any():
            consider(chosen)
            return
        trial[violated] = np.maximum(2 * trial[violated], scale)
        attempt = terms_flow(terms, np.rint(coef - stacked.penalty(trial, len(terms.pairs))).astype(np.int64), rules)
        if not attempt.feasible:
            return
        chosen = attempt.chosen


def floor_bound(value: float) -> int:
    """The integer bound implied by a real one; the margin covers floating-point summation error."""
    return int(np.floor(value + 1e-3))


def tighten(terms: Terms, side: list[SideConstraints], rules) -> np.ndarray:
    """Pairs that can appear in some allocation meeting the side rows (row-wise bound tightening).

    A cadre adds at most one pair's coefficient to a row. At the least it adds the
    smallest coefficient of its pairs in the row when it must be placed and all its
    pairs are in the row, else min(0, that). A pair whose coefficient, plus the
    least every other cadre adds, already exceeds the row's limit is in no feasible
    allocation. Removing pairs can raise the least contributions, so this repeats.
    This is what makes the flow relaxation of per-university budgets tight enough
    to be useful.
    """
    pairs = terms.pairs
    n_cadres = pairs.instance.n_cadres
    must = must_place(pairs.instance, rules)
    keep = np.ones(len(pairs), bool)
    for _ in range(TIGHTEN_PASSES):
        removed = False
        live_pairs = np.bincount(pairs.cadre[keep], minlength=n_cadres)
        for rows in side:
            live = np.flatnonzero(keep[rows.pair])
            if not len(live):
                continue
            cadre = pairs.cadre[rows.pair[live]]
            keys, entry = np.unique(rows.row[live].astype(np.int64) * n_cadres + cadre, return_inverse=True)
            least = np.full(len(keys), np.inf)
            np.minimum.at(least, entry, rows.coef[live].astype(float))
            key_cadre = keys % n_cadres
            covers = must[key_cadre] & (np.bincount(entry, minlength=len(keys)) == live_pairs[key_cadre])
            least = np.where(covers, least, np.minimum(least, 0.0))
            total = np.bincount(keys // n_cadres, weights=least, minlength=len(rows.labels))
            row = rows.row[live]
            over = rows.coef[live] + total[row] - least[entry] > rows.rhs[row] + 1e-9
            if over.any():
                keep[rows.pair[live[over]]] = False
                removed = True
        if not removed:
            break
    return keep
