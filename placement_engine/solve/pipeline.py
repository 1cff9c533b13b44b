"""The one way from model terms to an allocation: every caller that needs an optimum comes here.

``solve_model`` keeps every hard rule and one deadline on every path (a solve,
the price of a wish, a sweep point, a Pareto point, a chained batch):

1. the counting pre-check (one flow; Hall sets when it fails) when CP-SAT would
   otherwise prove a counting conflict slowly;
2. without side rows, the exact min-cost flow, certified by duality (relay as a
   rule becomes a lexicographic weight); with them, ``constrained.py``
   (tightening, Lagrangian bound and repair, reduced-cost fixing, CP-SAT);
3. lazy rules (the swap-free rule): the rows the allocation breaks are added
   and the model solved again, until it breaks none;
4. when no allocation exists, the diagnosis, which also runs its elastic model
   through this module.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..errors import InfeasibleError, NoSolutionError
from ..evaluate import posts_of
from ..factors import SideConstraints
from ..rules import allowed_pairs, lazy_rules
from . import cpsat
from .constrained import RELAY_KEPT, solve_with_cpsat
from .deadline import Deadline
from .diagnosis import diagnose_conflicts, infeasible
from .feasibility import assignment_feasible
from .relaxation import terms_flow
from .solution import Log, Settings, Solution
from .terms import Terms, build_terms


def solve_model(terms: Terms, policy, settings: Settings, *, log: Log | None = None, deadline: Deadline | None = None) -> Solution:
    """Maximise ``terms.coef`` under every hard rule of ``policy``; raise ``InfeasibleError`` with a diagnosis when none holds.

    One ``Deadline`` covers the whole call: pre-checks, relaxations, every
    search, the lazy-rule rounds and the diagnosis.
    """
    deadline = deadline or Deadline(settings.time_limit, settings.work_limit)
    rounds: dict[str, int] = {}
    try:
        if (terms.has_side_constraints or settings.method == "cpsat") and not assignment_feasible(terms.pairs, policy):
            raise InfeasibleError("the pair rules, capacities and place/fill rules admit no allocation")
        first = solution = _solve_once(terms, policy, settings, deadline, log)
        while cuts := _lazy_cuts(terms, policy, solution):
            if solution.interrupted:
                raise KeyboardInterrupt  # no allocation found so far meets the lazy rules
            if deadline.expired("lazy rules"):
                raise NoSolutionError(
                    f"the wall clock ({settings.time_limit:g} s) ran out before an allocation met {', '.join(cuts)}"
                )
            for name, rows in cuts.items():
                terms = with_rows(terms, name, rows)
                rounds[name] = rounds.get(name, 0) + 1
            solution = _solve_once(terms, policy, settings, deadline, log)
    except InfeasibleError:
        raise infeasible(diagnose_terms(terms, policy, settings, deadline)) from None
    solution.terms = terms
    solution.clock_cut = list(deadline.clock_stopped)
    if solution.status != "OPTIMAL" and deadline.stopped_by_clock and not solution.stopped_by:
        solution.stopped_by = "wall clock"
    solution.stats["work_spent"] = settings.work_limit - deadline.work_left
    without = float(terms.total[first.chosen > 0].sum())
    with_rule = float(terms.total[solution.chosen > 0].sum())
    for rule in lazy_rules(policy):
        name = rule.name
        solution.lazy_rules[name] = {
            "rounds": rounds.get(name, 0),
            "rows": len(terms.side[name].labels) if name in terms.side else 0,
            "objective_without_rule": without,
            "status_without_rule": first.status,
            "objective": with_rule,
            "cost": without - with_rule,
        }
    return solution


def _solve_once(terms: Terms, policy, settings: Settings, deadline: Deadline, log: Log | None) -> Solution:
    lex = terms.lexicographic_indicator()
    if terms.has_side_constraints or settings.method != "auto":
        return solve_with_cpsat(terms, policy, terms.coef, lex, settings, deadline, log)
    start = time.perf_counter()
    weight = _lexicographic_weight(terms) if lex is not None else 0
    flow = terms_flow(terms, terms.coef + weight * lex if lex is not None else terms.coef, policy.rules)
    if not flow.feasible:
        raise InfeasibleError(f"no allocation meets the hard rules (flow status {flow.status})")
    kept = int((lex * flow.chosen).sum()) if lex is not None else None
    objective = int(terms.coef[flow.chosen > 0].sum())
    # every allocation that keeps ``kept`` relay postings scores at most this
    bound = flow.bound - weight * kept if lex is not None else flow.bound
    proven = bound == objective
    return Solution(
        flow.chosen,
        "OPTIMAL" if proven else "FEASIBLE",
        "flow duality" if proven else "none",
        objective,
        bound,
        terms,
        {RELAY_KEPT: kept} if kept is not None else {},
        {"method": "min-cost flow", "seconds": time.perf_counter() - start},
    )


def _lazy_cuts(terms: Terms, policy, solution: Solution) -> dict[str, SideConstraints]:
    post_of_cadre = posts_of(terms.pairs, solution.chosen)
    cuts = {rule.name: rule.cut(terms, post_of_cadre, policy) for rule in lazy_rules(policy)}
    return {name: rows for name, rows in cuts.items() if rows is not None}


def with_rows(terms: Terms, name: str, rows: SideConstraints) -> Terms:
    """``terms`` with ``rows`` added to its side rows called ``name``."""
    old = terms.side.get(name)
    if old is not None:
        rows = SideConstraints(
            old.labels + rows.labels,
            np.concatenate([old.rhs, rows.rhs]),
            np.concatenate([old.row, rows.row + len(old.labels)]),
            np.concatenate([old.pair, rows.pair]),
            np.concatenate([old.coef, rows.coef]),
            rows.unit,
        )
    return replace(terms, side={**terms.side, name: rows})


def _lexicographic_weight(terms: Terms) -> int:
    """A weight that makes one more lexicographic unit worth more than any objective change."""
    return int(2 * np.abs(terms.coef).sum() + 1)


# ---- the diagnosis ---------------------------------------------------------------------------


def diagnose_terms(terms: Terms, policy, settings: Settings, deadline: Deadline | None = None) -> dict:
    """Why ``terms`` admit no allocation under ``policy``: counting conflicts, else the side rows that must give way."""
    deadline = deadline or Deadline(settings.time_limit, settings.work_limit)
    return diagnose_conflicts(terms, policy, lambda: _elastic(terms, policy, settings, deadline), settings, deadline)


def diagnose(instance, policy, *, time_limit: float | None = None, workers: int | None = None, seed: int | None = None) -> dict:
    """A JSON-able diagnosis of a scenario's instance under ``policy``, each conflict with a plain-language ``message``."""
    terms = build_terms(allowed_pairs(instance, policy), policy)
    return diagnose_terms(terms, policy, Settings.of(policy.solver, time_limit, workers, seed))


def _elastic(terms: Terms, policy, settings: Settings, deadline: Deadline):
    """Every side row with a slack, total slack minimised, every other rule hard (CP-SAT)."""
    named = [(name, rows) for name, rows in terms.side.items() if len(rows.labels)]
    model = cpsat.AssignmentModel(terms.pairs, policy.rules)
    slack = np.concatenate([np.asarray(model.add_rows(rows, elastic=True), np.int64) for _, rows in named])
    coef = np.zeros(int(slack.max()) + 1, np.int64)
    coef[slack] = -1
    result = model.solve(
        coef, wall_limit=deadline.search_wall(), work_limit=deadline.search_work(1.0, len(terms.pairs)), workers=settings.workers, seed=settings.seed
    )
    deadline.spend(result.work, len(terms.pairs))
    if result.interrupted:
        raise KeyboardInterrupt
    return named, result
