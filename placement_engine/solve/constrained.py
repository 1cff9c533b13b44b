"""The CP-SAT path, for terms with side rows: tighten, relax, fix, then search.

For each maximisation (the relay count first when relay is a rule, then the
objective): row tightening removes pairs no allocation within the rows can use;
the Lagrangian (``relaxation.py``) gives a certified bound and allocations that
meet every row; reduced-cost fixing removes pairs that cannot be in an optimum;
CP-SAT, built straight from index arrays, searches with that allocation as its
hint and that bound as a row. The Lagrangian's own proof ends it early when
its allocation reaches its bound.
"""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, NoSolutionError
from ..factors import SideConstraints
from . import cpsat
from .deadline import Deadline
from .relaxation import Lagrangian, lagrangian, terms_flow, tighten
from .solution import Log, Phase, Settings, Solution
from .terms import Terms, restrict_rows

RELAY_KEPT = "relay postings kept"


def maximise(terms: Terms, rules, coef, side, settings: Settings, deadline: Deadline, log: Log | None, label: str, share: float) -> Phase:
    """max coef.x subject to the assignment rows and ``side`` (all rows <=), with ``share`` of the work left."""
    feasible = tighten(terms, side, rules)
    phase = _maximise_tightened(
        terms.subset(feasible), rules, coef[feasible], [restrict_rows(rows, feasible) for rows in side], settings, deadline, log, label, share
    )
    chosen = np.zeros(len(terms.pairs), np.int64)
    chosen[np.flatnonzero(feasible)] = phase.chosen
    phase.chosen = chosen
    phase.stats[f"{label}_pairs_removed_by_tightening"] = int((~feasible).sum())
    return phase


def _maximise_tightened(terms, rules, coef, side, settings: Settings, deadline: Deadline, log, label, share) -> Phase:
    stats: dict = {}
    relaxed = lagrangian(terms, coef, side, rules, deadline) if settings.use_relaxation else Lagrangian(None, None, None, None, None)
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
    if relaxed_bound is not None and incumbent_objective is not None and incumbent_objective >= relaxed_bound and settings.method == "auto":
        return Phase(incumbent, "OPTIMAL", "lagrangian duality", incumbent_objective, relaxed_bound, stats)

    hint_full, hint_objective = (relaxed.hint, relaxed.hint_objective) if relaxed.hint is not None else (incumbent, incumbent_objective)
    keep = np.ones(len(terms.pairs), bool)
    if relaxed.reduced is not None and hint_objective is not None:
        # A pair whose forcing would push the bound below the best known allocation is in no optimum.
        keep = relaxed.real_bound - np.maximum(relaxed.reduced, 0.0) >= hint_objective - 1e-3
        keep |= hint_full > 0
    stats[f"{label}_pairs_fixed_to_zero"] = int((~keep).sum())
    model = cpsat.AssignmentModel(terms.pairs.subset(keep), rules, [restrict_rows(rows, keep) for rows in side])
    if relaxed.bound is not None:
        model.bound_objective(coef[keep], relaxed.bound)
    hint = hint_full[keep] if hint_full is not None else None
    wall, work = deadline.search_wall(), deadline.work_left * share
    result = model.solve(coef[keep], wall_limit=wall, work_limit=work, workers=settings.workers, seed=settings.seed, hint=hint, log=log)
    deadline.spend(result.work)
    if result.stopped_by == "wall clock":
        deadline.cut(f"{label} search")
    stats.update({f"{label}_{key}": value for key, value in result.stats.items()})
    if result.status == "INFEASIBLE":
        raise InfeasibleError(
            "no allocation meets the hard rules and side constraints",
            {"message": "CP-SAT proved the model with the side constraints infeasible"},
        )
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        if hint is None:
            if result.interrupted:
                raise KeyboardInterrupt
            raise NoSolutionError(
                f"no feasible allocation found within the time limit ({settings.time_limit:g} s wall clock, "
                f"{settings.work_limit:g} work units; the {result.stopped_by} stopped the search)"
            )
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
    proven = bound is not None and objective >= bound
    return Phase(
        chosen,
        "OPTIMAL" if proven else "FEASIBLE",
        "cp-sat" if proven else "none",
        objective,
        bound,
        stats,
        result.interrupted,
        "" if proven else result.stopped_by or ("wall clock" if deadline.stopped_by_clock else "work limit"),
    )


def solve_with_cpsat(terms: Terms, policy, coef: np.ndarray, lex: np.ndarray | None, settings: Settings, deadline: Deadline, log: Log | None) -> Solution:
    """The relay count (when relay is a rule, with half the work), then the objective with that count kept."""
    rules = policy.rules
    side = [rows for rows in terms.side.values() if len(rows.labels)]
    stats: dict = {"method": "cp-sat"}
    lex_value = {}
    if lex is not None:
        relay = maximise(terms, rules, lex, side, settings, deadline, log, "relay", 0.5)
        stats.update(relay.stats)
        if relay.interrupted:
            # Ctrl-C: keep this allocation (every hard rule holds; the relay count is not proven
            # the most), bounded by the flow relaxation without side rows
            kept = int(lex[relay.chosen > 0].sum())
            bound = terms_flow(terms, coef, rules).bound
            objective = int(coef[relay.chosen > 0].sum())
            return Solution(relay.chosen, "FEASIBLE", "none", objective, bound, terms, {RELAY_KEPT: kept}, stats, True, "interrupted")
        if relay.status != "OPTIMAL":
            raise NoSolutionError(
                f"could not prove the most relay postings that can be kept within the limits "
                f"(the search was stopped by the {relay.stopped_by})"
            )
        nonzero = np.flatnonzero(lex)
        side = side + [SideConstraints([RELAY_KEPT], np.array([-relay.objective]), np.zeros(len(nonzero), np.int64), nonzero, -lex[nonzero], "postings")]
        lex_value = {RELAY_KEPT: int(relay.objective)}
    phase = maximise(terms, rules, coef, side, settings, deadline, log, "objective", 1.0)
    stats.update(phase.stats)
    # without a bound from the search or the relaxation, the flow without side rows still bounds it
    bound = phase.bound if phase.bound is not None else terms_flow(terms, coef, rules).bound
    return Solution(phase.chosen, phase.status, phase.proof, phase.objective, bound, terms, lex_value, stats, phase.interrupted, phase.stopped_by)
