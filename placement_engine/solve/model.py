"""Builds and solves the placement model.

The objective is ``max sum_a coef[a] * x[a]`` over the allowed pairs ``a``, where
``coef = rint(objective_scale * sum_f weight_f * score_f)`` (see docs/objective.md).

How it is solved:
- No side constraints: the problem is a transportation problem. It is solved
  exactly by min-cost flow and certified by LP duality (``flow.py``), with no
  CP-SAT search at all. Relay as a rule becomes a lexicographic weight.
- Side constraints (budgets, ...): CP-SAT, built directly from index arrays.
  Before the search, a Lagrangian loop over the flow gives a valid upper bound
  and usually a feasible allocation (budget-like rows are repaired by
  ``repair.py``); CP-SAT gets that allocation as its hint and that bound as a
  constraint on the objective, and runs with parameters that suit an assignment
  structure (an LP-based worker, no probing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..rules.candidates import must_place
from ..errors import InfeasibleError, NoSolutionError
from ..factors import FACTORS, Lexicographic, SideConstraints
from .flow import INT64_SAFE, FlowResult, solve_transportation
from ..instance import PairTable
from .knapsack import GroupRows, knapsack_bound, post_prices
from .repair import repair
from ..schema import Policy

LAGRANGIAN_ROUNDS = 40
MAX_REPAIRS = 3
KNAPSACK_ROUNDS = 10
REPAIR_DOUBLINGS = 30
TIGHTEN_PASSES = 10


@dataclass
class Terms:
    """Everything the model needs, as arrays over the allowed pairs."""

    pairs: PairTable
    weighted: dict[str, np.ndarray]  # factor -> weight * score (points)
    total: np.ndarray  # sum of weighted scores per pair (points)
    coef: np.ndarray  # integer objective coefficient per pair
    scale: int
    side: dict[str, SideConstraints]
    lexicographic: list[Lexicographic]

    @property
    def has_side_constraints(self) -> bool:
        return any(len(rows.labels) for rows in self.side.values())

    def subset(self, mask: np.ndarray) -> Terms:
        """The same terms over the pairs where ``mask`` holds (side rows re-indexed)."""
        return Terms(
            self.pairs.subset(mask),
            {name: values[mask] for name, values in self.weighted.items()},
            self.total[mask],
            self.coef[mask],
            self.scale,
            {name: restrict_rows(rows, mask) for name, rows in self.side.items()},
            [Lexicographic(lex.name, lex.indicator[mask], lex.description) for lex in self.lexicographic],
        )


def restrict_rows(rows: SideConstraints, mask: np.ndarray) -> SideConstraints:
    """Side rows over the pairs where ``mask`` holds, with pair indices renumbered."""
    new_index = np.cumsum(mask) - 1
    keep = mask[rows.pair]
    return SideConstraints(rows.labels, rows.rhs, rows.row[keep], new_index[rows.pair[keep]], rows.coef[keep], rows.unit)


class ScoreCache:
    """Raw factor scores over one set of pairs, keyed by the parameters other than the weight.

    A weight sweep changes only weights, so every point after the first reuses the
    scores; only the weighted sum and its rounding are recomputed.
    """

    def __init__(self, pairs: PairTable):
        self.pairs = pairs
        self._scores: dict[tuple[str, str], np.ndarray] = {}
        self.hits = 0

    def scores(self, name: str, params) -> np.ndarray:
        key = (name, params.model_dump_json(exclude={"weight"}))
        if key in self._scores:
            self.hits += 1
        else:
            self._scores[key] = FACTORS[name].scores(self.pairs, params)
        return self._scores[key]


def build_terms(pairs: PairTable, policy: Policy, cache: ScoreCache | None = None) -> Terms:
    """Weighted factor scores and integer coefficients for the allowed pairs (vectorised)."""
    if cache is not None and cache.pairs is not pairs:
        raise ValueError("the score cache belongs to another set of pairs")
    weighted = {}
    side = {}
    lexicographic = []
    for name, params in policy.active_factors().items():
        factor = FACTORS[name]
        if params.weight:
            raw = cache.scores(name, params) if cache is not None else factor.scores(pairs, params)
            weighted[name] = params.weight * raw
        else:
            weighted[name] = np.zeros(len(pairs))
        rows = factor.side_constraints(pairs, params)
        if rows is not None:
            side[name] = rows
        lex = factor.lexicographic(pairs, params)
        if lex is not None:
            lexicographic.append(lex)
    total = np.sum(list(weighted.values()), axis=0) if weighted else np.zeros(len(pairs))
    scale = policy.solver.objective_scale
    coef = np.rint(total * scale)
    if len(coef) and np.abs(coef).max() * max(pairs.instance.n_cadres, 1) >= INT64_SAFE:
        raise ValueError("objective_scale is too large for these weights: the objective would overflow")
    return Terms(pairs, weighted, total, coef.astype(np.int64), scale, side, lexicographic)


@dataclass
class Solution:
    chosen: np.ndarray  # 0/1 over the allowed pairs
    status: str  # OPTIMAL, FEASIBLE
    proof: str  # who proved the status: "flow duality", "cp-sat", "cp-sat + lagrangian bound", ...
    objective: int  # scaled integer objective
    bound: int  # scaled integer upper bound
    lexicographic: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C stopped the search: the best allocation found by then


def solve_terms(
    terms: Terms,
    policy: Policy,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: Callable[[str], None] | None = None,
) -> Solution:
    rules = policy.rules
    start = time.perf_counter()
    lex = _lexicographic_indicator(terms)
    if not terms.has_side_constraints and policy.solver.method == "auto":
        weight = _lexicographic_weight(terms) if lex is not None else 0
        coef = terms.coef + weight * lex if lex is not None else terms.coef
        flow = _flow(terms, coef, rules)
        if not flow.feasible:
            raise InfeasibleError(f"no allocation meets the hard rules (flow status {flow.status})")
        kept = int((lex * flow.chosen).sum()) if lex is not None else None
        objective = int(terms.coef[flow.chosen > 0].sum())
        bound = flow.bound - weight * kept if lex is not None else flow.bound
        status = "OPTIMAL" if bound == objective else "FEASIBLE"
        return Solution(
            flow.chosen,
            status,
            "flow duality" if status == "OPTIMAL" else "none",
            objective,
            bound,
            {"relay postings kept": kept} if kept is not None else {},
            {"method": "min-cost flow", "seconds": time.perf_counter() - start},
        )
    return _solve_cpsat(terms, policy, lex, time_limit=time_limit, workers=workers, seed=seed, log=log)


def _lexicographic_indicator(terms: Terms) -> np.ndarray | None:
    if not terms.lexicographic:
        return None
    return np.sum([lex.indicator for lex in terms.lexicographic], axis=0).astype(np.int64)


def _lexicographic_weight(terms: Terms) -> int:
    """A weight that makes one more lexicographic unit worth more than any objective change."""
    return int(2 * np.abs(terms.coef).sum() + 1)


def _flow(terms: Terms, coef: np.ndarray, rules, real_coef: np.ndarray | None = None) -> FlowResult:
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
    # hint: CP-SAT proves the default scenario's budgets faster from the Lagrangian's own hint.
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
    terms: Terms, coef: np.ndarray, side: list[SideConstraints], rules, rounds: int = LAGRANGIAN_ROUNDS
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
    rows = [r for r in side if len(r.labels)]
    if not rows:
        flow = _flow(terms, coef, rules, real_coef=coef.astype(float))
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

    for round_number in range(rounds):
        best.rounds = round_number + 1
        real = coef - stacked.penalty(lam, n_pairs)
        flow = _flow(terms, np.rint(real).astype(np.int64), rules, real_coef=real)
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
            repaired = repair(terms.pairs, coef, groups, must, rules.fill_every_post, flow.chosen, prices)
            if repaired is not None and not (stacked.excess(repaired.astype(float)) > 1e-9).any():
                objective = int(coef[repaired > 0].sum())
                if best.repaired_objective is None or objective > best.repaired_objective:
                    best.repaired, best.repaired_objective = repaired, objective
        if broken and repairs < MAX_REPAIRS:
            repairs += 1
            _repair(terms, coef, stacked, lam, scale, flow.chosen, rules, consider)
        incumbent = best.incumbent()[1]
        if incumbent is not None and _floor_bound(best.real_bound) <= incumbent:
            break
        target = best.hint_objective if best.hint_objective is not None else value - 0.01 * max(abs(value), 1.0)
        norm = float(excess @ excess)
        if norm == 0:
            break
        lam = np.maximum(0.0, lam + theta * max(value - target, 1.0) / norm * excess)
    best.bound = _floor_bound(best.real_bound) if best.real_bound is not None else None
    incumbent = best.incumbent()[1]
    if price_starts and best.bound is not None and (incumbent is None or incumbent < best.bound):
        # steps need a target below the bound: without an allocation, only the starts are tried
        value = knapsack_bound(
            terms.pairs, coef, groups, must, rules.fill_every_post, list(price_starts.values()),
            target=incumbent if incumbent is not None else -np.inf, rounds=KNAPSACK_ROUNDS if incumbent is not None else 0,
        )
        if value is not None and _floor_bound(value) < best.bound:
            best.knapsack_bound = _floor_bound(value)
    return best


def _repair(terms, coef, stacked: StackedRows, lam, scale: float, chosen, rules, consider) -> None:
    """Double the multipliers of the rows ``chosen`` breaks until an allocation meets them all."""
    trial = lam.copy()
    for _ in range(REPAIR_DOUBLINGS):
        violated = stacked.excess(chosen.astype(float)) > 1e-9
        if not violated.any():
            consider(chosen)
            return
        trial[violated] = np.maximum(2 * trial[violated], scale)
        attempt = _flow(terms, np.rint(coef - stacked.penalty(trial, len(terms.pairs))).astype(np.int64), rules)
        if not attempt.feasible:
            return
        chosen = attempt.chosen


def _floor_bound(value: float) -> int:
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


def _solve_constrained(terms, rules, coef, side, *, method, use_relaxation, time_limit, workers, seed, log, label):
    """max coef.x subject to the assignment rows and ``side`` (all rows <=); returns (Solution-like parts)."""
    start = time.perf_counter()
    feasible = tighten(terms, side, rules)
    sub = terms.subset(feasible)
    parts = _solve_tightened(
        sub,
        rules,
        coef[feasible],
        [restrict_rows(rows, feasible) for rows in side],
        method=method,
        use_relaxation=use_relaxation,
        time_limit=max(0.1, time_limit - (time.perf_counter() - start)),
        workers=workers,
        seed=seed,
        log=log,
        label=label,
    )
    chosen = np.zeros(len(terms.pairs), np.int64)
    chosen[np.flatnonzero(feasible)] = parts[0]
    parts[-1][f"{label}_pairs_removed_by_tightening"] = int((~feasible).sum())
    return (chosen, *parts[1:])


def _solve_tightened(terms, rules, coef, side, *, method, use_relaxation, time_limit, workers, seed, log, label):
    from . import cpsat

    start = time.perf_counter()
    stats: dict[str, Any] = {}
    relaxed = lagrangian(terms, coef, side, rules) if use_relaxation else Lagrangian(None, None, None, None, None)
    stats.update(
        {
            f"{label}_lagrangian_bound": relaxed.bound,
            f"{label}_lagrangian_rounds": relaxed.rounds,
            f"{label}_hint_objective": relaxed.hint_objective,
            f"{label}_repaired_objective": relaxed.repaired_objective,
            f"{label}_knapsack_bound": relaxed.knapsack_bound,
        }
    )
    incumbent, incumbent_objective = relaxed.incumbent()
    relaxed_bound = relaxed.best_bound()
    if relaxed_bound is not None and incumbent_objective is not None and incumbent_objective >= relaxed_bound and method == "auto":
        return incumbent, "OPTIMAL", "lagrangian duality", incumbent_objective, relaxed_bound, stats

    hint_full, hint_objective = (relaxed.hint, relaxed.hint_objective) if relaxed.hint is not None else (incumbent, incumbent_objective)
    keep = np.ones(len(terms.pairs), bool)
    if relaxed.reduced is not None and hint_objective is not None:
        # A pair whose forcing would push the bound below the best known allocation is in no optimum.
        keep = relaxed.real_bound - np.maximum(relaxed.reduced, 0.0) >= hint_objective - 1e-3
        keep |= hint_full > 0
    stats[f"{label}_pairs_fixed_to_zero"] = int((~keep).sum())
    sub = terms.subset(keep)
    model = cpsat.AssignmentModel(sub.pairs, rules, [restrict_rows(rows, keep) for rows in side])
    if relaxed.bound is not None:
        model.bound_objective(coef[keep], relaxed.bound)
    remaining = max(0.1, time_limit - (time.perf_counter() - start))
    hint = hint_full[keep] if hint_full is not None else None
    result = model.solve(coef[keep], time_limit=remaining, workers=workers, seed=seed, hint=hint, log=log)
    stats.update({f"{label}_{key}": value for key, value in result.stats.items()})
    if result.status == "INFEASIBLE":
        raise InfeasibleError(
            "no allocation meets the hard rules and side constraints",
            {"message": "CP-SAT proved the model with the side constraints infeasible"},
        )
    stats[f"{label}_interrupted"] = result.interrupted
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        if hint is None:
            if result.interrupted:
                raise KeyboardInterrupt
            raise NoSolutionError(f"no feasible allocation found within the time limit ({time_limit:g} s)")
        # The search stopped before its first allocation, so its bound means nothing; the
        # relaxation's hint meets every row and its bound holds.
        result.chosen, result.bound = hint, np.inf
    chosen = np.zeros(len(terms.pairs), np.int64)
    chosen[np.flatnonzero(keep)] = result.chosen
    objective = int(coef[chosen > 0].sum())
    if incumbent_objective is not None and incumbent_objective > objective:
        chosen, objective = incumbent.copy(), incumbent_objective
    bound = int(np.floor(result.bound + 1e-9)) if np.isfinite(result.bound) else None
    if relaxed_bound is not None:
        bound = relaxed_bound if bound is None else min(bound, relaxed_bound)
    status = "OPTIMAL" if objective >= bound else "FEASIBLE"
    return chosen, status, ("cp-sat" if status == "OPTIMAL" else "none"), objective, bound, stats


def _solve_cpsat(terms, policy, lex, *, time_limit, workers, seed, log) -> Solution:
    start = time.perf_counter()
    options = policy.solver
    side = [rows for rows in terms.side.values() if len(rows.labels)]
    common = dict(method=options.method, use_relaxation=options.use_relaxation, workers=workers, seed=seed, log=log)
    stats: dict[str, Any] = {"method": "cp-sat"}
    lex_value = {}
    if lex is not None:
        chosen, status, _, kept, _, phase_stats = _solve_constrained(
            terms, policy.rules, lex, side, time_limit=time_limit / 2, label="relay", **common
        )
        stats.update(phase_stats)
        if phase_stats.get("relay_interrupted"):
            # Ctrl-C: keep this allocation (every hard rule holds; the relay count is not proven
            # the most), bounded by the flow relaxation without side rows
            kept = int(lex[chosen > 0].sum())
            bound = _flow(terms, terms.coef, policy.rules).bound
            objective = int(terms.coef[chosen > 0].sum())
            return Solution(chosen, "FEASIBLE", "none", objective, bound, {"relay postings kept": kept}, stats, True)
        if status != "OPTIMAL":
            raise NoSolutionError(f"could not prove the most relay postings that can be kept within {time_limit / 2:g} s")
        nonzero = np.flatnonzero(lex)
        side = side + [
            SideConstraints(["relay postings kept"], np.array([-kept]), np.zeros(len(nonzero), np.int64), nonzero, -lex[nonzero], "postings")
        ]
        lex_value = {"relay postings kept": int(kept)}
    remaining = max(0.1, time_limit - (time.perf_counter() - start))
    chosen, status, proof, objective, bound, phase_stats = _solve_constrained(
        terms, policy.rules, terms.coef, side, time_limit=remaining, label="objective", **common
    )
    stats.update(phase_stats)
    stats["seconds"] = time.perf_counter() - start
    return Solution(chosen, status, proof, objective, bound, lex_value, stats, stats.get("objective_interrupted", False))
