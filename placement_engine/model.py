"""Builds and solves the placement model.

The objective is ``max sum_a coef[a] * x[a]`` over the allowed pairs ``a``, where
``coef = rint(objective_scale * sum_f weight_f * score_f)`` (see docs/objective.md).

How it is solved:
- No side constraints: the problem is a transportation problem. It is solved
  exactly by min-cost flow and certified by LP duality (``flow.py``), with no
  CP-SAT search at all. Relay as a rule becomes a lexicographic weight.
- Side constraints (budgets, ...): CP-SAT, built directly from index arrays.
  Before the search, a Lagrangian loop over the flow gives a valid upper bound
  and usually a feasible allocation; CP-SAT gets that allocation as its hint and
  that bound as a constraint on the objective, and runs with parameters that
  suit an assignment structure (an LP-based worker, no probing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .candidates import must_place
from .errors import InfeasibleError, NoSolutionError
from .factors import FACTORS, Lexicographic, SideConstraints
from .flow import INT64_SAFE, FlowResult, solve_transportation
from .instance import Instance, PairTable
from .schema import Policy

LAGRANGIAN_ROUNDS = 40


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


def build_terms(pairs: PairTable, policy: Policy) -> Terms:
    """Weighted factor scores and integer coefficients for the allowed pairs (vectorised)."""
    weighted = {}
    side = {}
    lexicographic = []
    for name, params in policy.active_factors().items():
        factor = FACTORS[name]
        weighted[name] = params.weight * factor.scores(pairs, params) if params.weight else np.zeros(len(pairs))
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


def solve_terms(
    terms: Terms,
    policy: Policy,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: Callable[[str], None] | None = None,
) -> Solution:
    inst = terms.pairs.instance
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


def _flow(terms: Terms, coef: np.ndarray, rules) -> FlowResult:
    inst = terms.pairs.instance
    return solve_transportation(
        terms.pairs.cadre,
        terms.pairs.post,
        coef,
        inst.n_cadres,
        inst.post_capacity,
        must_place(inst, rules),
        rules.fill_every_post,
    )


# ---- side constraints: Lagrangian bound and hint, then CP-SAT ---------------------------------


@dataclass
class Lagrangian:
    bound: int | None  # valid upper bound on the constrained optimum (scaled units)
    hint: np.ndarray | None  # best allocation found that meets every side constraint
    hint_objective: int | None


def lagrangian(terms: Terms, coef: np.ndarray, rules, rounds: int = LAGRANGIAN_ROUNDS) -> Lagrangian:
    """Subgradient search on the multipliers of the side constraints.

    For multipliers lam >= 0, max sum (coef - A^T lam) x + lam.b over the assignment
    polytope is an upper bound on the constrained optimum; the flow computes it
    exactly (its duality bound is used, so the value is certified). Every flow
    solution that happens to meet the side constraints is a candidate hint.
    """
    rows = [r for r in terms.side.values() if len(r.labels)]
    if not rows:
        flow = _flow(terms, coef, rules)
        if not flow.feasible:
            return Lagrangian(None, None, None)
        return Lagrangian(flow.bound, flow.chosen, flow.objective)
    n_pairs = len(terms.pairs)
    row_offset = np.cumsum([0] + [len(r.labels) for r in rows])
    rhs = np.concatenate([r.rhs for r in rows]).astype(float)
    a_row = np.concatenate([r.row + off for r, off in zip(rows, row_offset)])
    a_pair = np.concatenate([r.pair for r in rows])
    a_coef = np.concatenate([r.coef for r in rows]).astype(float)
    lam = np.zeros(len(rhs))
    best_bound: int | None = None
    hint = None
    hint_objective = None
    step = None
    for _ in range(rounds):
        penalty = np.bincount(a_pair, weights=a_coef * lam[a_row], minlength=n_pairs)
        adjusted = np.floor(coef - penalty).astype(np.int64)
        flow = _flow(terms, adjusted, rules)
        if not flow.feasible:
            break
        # coef - penalty <= adjusted + 1 per pair; bound each pair's rounding by at most one unit per cadre
        bound = flow.bound + int(np.ceil(lam @ rhs)) + terms.pairs.instance.n_cadres
        best_bound = bound if best_bound is None else min(best_bound, bound)
        chosen = flow.chosen.astype(float)
        lhs = np.bincount(a_row, weights=a_coef * chosen[a_pair], minlength=len(rhs))
        violation = lhs - rhs
        if (violation <= 0).all():
            objective = int(coef[flow.chosen > 0].sum())
            if hint_objective is None or objective > hint_objective:
                hint, hint_objective = flow.chosen.copy(), objective
        gap = best_bound - (hint_objective if hint_objective is not None else bound - max(abs(bound), 1))
        norm = float(violation @ violation)
        if norm == 0 or (hint_objective is not None and best_bound <= hint_objective):
            break
        step = max(gap, 1) / norm if step is None else min(step, max(gap, 1) / norm)
        lam = np.maximum(0.0, lam + 2.0 * step * violation)
    return Lagrangian(best_bound, hint, hint_objective)


def _solve_cpsat(terms, policy, lex, *, time_limit, workers, seed, log) -> Solution:
    from . import cpsat

    rules = policy.rules
    start = time.perf_counter()
    stats: dict[str, Any] = {"method": "cp-sat"}
    lex_value = {}
    builder = cpsat.AssignmentModel(terms, rules)
    if lex is not None:
        phase = builder.solve(lex, time_limit=time_limit / 2, workers=workers, seed=seed, log=log)
        if phase.status == "INFEASIBLE":
            raise InfeasibleError(
                "no allocation meets the hard rules and side constraints",
                {"message": "CP-SAT proved the model infeasible"},
            )
        if phase.status not in ("OPTIMAL",):
            raise NoSolutionError(
                f"could not prove the most relay postings that can be kept within {time_limit / 2:g} s"
                if phase.status == "FEASIBLE"
                else "no allocation found for the relay rule within the time limit"
            )
        kept = int(round(phase.objective))
        builder.add_at_least(lex, kept)
        lex_value = {"relay postings kept": kept}
    use_relaxation = policy.solver.use_relaxation and lex is None
    relaxed = lagrangian(terms, terms.coef, rules) if use_relaxation else Lagrangian(None, None, None)
    stats["lagrangian_bound"] = relaxed.bound
    stats["hint_objective"] = relaxed.hint_objective
    certified = relaxed.bound is not None and relaxed.hint_objective is not None and relaxed.hint_objective >= relaxed.bound
    if certified and policy.solver.method == "auto":
        stats["seconds"] = time.perf_counter() - start
        return Solution(relaxed.hint, "OPTIMAL", "lagrangian duality", relaxed.hint_objective, relaxed.bound, lex_value, stats)
    if relaxed.bound is not None:
        builder.bound_objective(terms.coef, relaxed.bound)
    remaining = max(0.1, time_limit - (time.perf_counter() - start))
    result = builder.solve(terms.coef, time_limit=remaining, workers=workers, seed=seed, hint=relaxed.hint, log=log)
    stats.update(result.stats)
    stats["seconds"] = time.perf_counter() - start
    if result.status == "INFEASIBLE":
        raise InfeasibleError("no allocation meets the hard rules and side constraints", {"message": "CP-SAT proved the model infeasible"})
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        raise NoSolutionError(f"no feasible allocation found within {time_limit:g} s")
    bound = int(np.floor(result.bound + 1e-9))
    if relaxed.bound is not None:
        bound = min(bound, relaxed.bound)
    objective = int(terms.coef[result.chosen > 0].sum())
    status = "OPTIMAL" if objective >= bound else "FEASIBLE"
    return Solution(result.chosen, status, "cp-sat" if status == "OPTIMAL" else "none", objective, bound, lex_value, stats)
