"""The CP-SAT path, for terms with side rows: tighten, relax, fix, then search.

For each maximisation (the relay count first when relay is a rule, then the
objective): row tightening removes pairs no allocation within the rows can use;
the Lagrangian (``relaxation.py``) gives a certified bound and allocations that
meet every row; for budgets at scale, column generation (``master.py``) gives a
tighter one and its rounding (``rounding.py``) the allocation to improve, and
the Lagrangian is skipped; at scale, the neighbourhood search (``neighbourhood.py``) improves
the best of them by CP-SAT on small sub-models; reduced-cost fixing removes pairs
that cannot be in an optimum;
CP-SAT, built straight from index arrays, searches with that allocation as its
hint and that bound as a row. The Lagrangian's own proof ends it early when
its allocation reaches its bound.
"""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleError, NoSolutionError
from ..factors import SideConstraints
from ..i18n import _
from ..rules import must_place
from . import cpsat, neighbourhood
from .ascent import ascend
from .budget_start import TRIED, feasible_start
from .deadline import Deadline
from .knapsack import GroupRows, knapsack_bound, post_prices
from .master import solve_master
from .relaxation import Lagrangian, floor_bound, lagrangian, terms_flow, tighten
from .rounding import leading_plan, round_plan
from .solution import Log, Phase, Settings, Solution
from .terms import Terms, restrict_rows

RELAY_KEPT = "relay postings kept"
ASCENT_BOUND_ROUNDS = 60
# Flows charged to the plan (deadline.py) for steps that do not count theirs: a Lagrangian round with its
# repairs, the feasible start, and the rounding's flows and exchanges (6 at 982 cadres, 11 at 2,897).
LAGRANGIAN_FLOWS_PER_ROUND = 2
START_FLOWS = 3
ROUNDING_FLOWS = 12
MIN_SEARCH_WORK = 0.01  # below it a search could only return its hint


def maximise(
    terms: Terms, rules, coef, side, settings: Settings, deadline: Deadline, log: Log | None, label: str, share: float, start=None
) -> Phase:
    """max coef.x subject to the assignment rows and ``side`` (all rows <=), with ``share`` of the work left.

    ``start``: an allocation within every row (``budget_start.py``), improved by the budget ascent.
    """
    feasible = tighten(terms, side, rules)
    deadline.charge_flows(len(terms.pairs))
    if start is not None and (start[~feasible] > 0).any():
        start = None  # tightening keeps every pair of an allocation within the rows: never met
    phase = _maximise_tightened(
        terms.subset(feasible), rules, coef[feasible], [restrict_rows(rows, feasible) for rows in side], settings, deadline, log, label, share,
        start[feasible] if start is not None else None,
    )
    chosen = np.zeros(len(terms.pairs), np.int64)
    chosen[np.flatnonzero(feasible)] = phase.chosen
    phase.chosen = chosen
    phase.stats[f"{label}_pairs_removed_by_tightening"] = int((~feasible).sum())
    return phase


def _maximise_tightened(terms, rules, coef, side, settings: Settings, deadline: Deadline, log, label, share, start) -> Phase:
    stats: dict = {}
    ascended = _plan_budgets(terms, rules, coef, side, start, deadline, stats, label) if start is not None else None
    # the master's bound is below the Lagrangian's, which would only take the neighbourhood search's time
    planned_by_master = f"{label}_master_bound" in stats
    use_lagrangian = settings.use_relaxation and not planned_by_master
    relaxed = lagrangian(terms, coef, side, rules, deadline) if use_lagrangian else Lagrangian(None, None, None, None, None)
    deadline.charge_flows(len(terms.pairs), LAGRANGIAN_FLOWS_PER_ROUND * relaxed.rounds)
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
    if ascended is not None and (incumbent_objective is None or ascended[1] > incumbent_objective):
        incumbent, incumbent_objective = ascended[:2]
    relaxed_bound = relaxed.best_bound()
    if ascended is not None and ascended[2] is not None:
        relaxed_bound = ascended[2] if relaxed_bound is None else min(relaxed_bound, ascended[2])
    if relaxed_bound is not None and incumbent_objective is not None and incumbent_objective >= relaxed_bound and settings.method == "auto":
        return Phase(incumbent, "OPTIMAL", "lagrangian duality", incumbent_objective, relaxed_bound, stats)

    hint_full, hint_objective = (relaxed.hint, relaxed.hint_objective) if relaxed.hint is not None else (incumbent, incumbent_objective)
    # the ascent's allocation, when better, is the hint: from it CP-SAT proved the default budget
    # scenario in 24 s, where the Lagrangian's own hint left a 4 % gap after 60 s
    if ascended is not None and (hint_objective is None or ascended[1] > hint_objective):
        hint_full, hint_objective = ascended[:2]
    if hint_full is not None and neighbourhood.worth_searching(terms.pairs):
        # after the master the full search adds nothing at these sizes within minutes: the rounds get all the plan
        nb_share = share * (1.0 if planned_by_master else neighbourhood.SHARE)
        hint_full, hint_objective, found = neighbourhood.improve(
            terms.pairs, rules, coef, side, hint_full, settings, deadline, nb_share * deadline.work_left, nb_share * deadline.plan_left()
        )
        interrupted = found.pop("neighbourhood_interrupted")
        stats.update({f"{label}_{key}": value for key, value in found.items()})
        if incumbent_objective is None or hint_objective > incumbent_objective:
            incumbent, incumbent_objective = hint_full, hint_objective
        if interrupted:
            return Phase(incumbent, "FEASIBLE", "none", incumbent_objective, relaxed_bound, stats, True, "interrupted")
        if relaxed_bound is not None and incumbent_objective >= relaxed_bound and settings.method == "auto":
            return Phase(incumbent, "OPTIMAL", "lagrangian duality", incumbent_objective, relaxed_bound, stats)
        if planned_by_master:
            return _unproven(incumbent, incumbent_objective, relaxed_bound, stats, deadline)
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
    model_pairs = int(keep.sum())
    # without an allocation yet the search gets the work whatever the plan: only the wall clock can stop it then
    work = deadline.search_work(share, model_pairs) if hint is not None else share * deadline.work_left
    if hint is not None and work < MIN_SEARCH_WORK:
        if incumbent_objective is None or hint_objective > incumbent_objective:
            incumbent, incumbent_objective = hint_full, hint_objective
        return _unproven(incumbent, incumbent_objective, relaxed_bound, stats, deadline)
    wall = deadline.search_wall()
    result = model.solve(coef[keep], wall_limit=wall, work_limit=work, workers=settings.workers, seed=settings.seed, hint=hint, log=log, progress_scale=terms.scale if label == "objective" else None)
    deadline.spend(result.work, model_pairs)
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


def _unproven(chosen, objective, bound, stats, deadline: Deadline) -> Phase:
    """The best allocation when the plan leaves nothing for the full search."""
    return Phase(chosen, "FEASIBLE", "none", objective, bound, stats, False, "wall clock" if deadline.stopped_by_clock else "work limit")


def _plan_budgets(terms: Terms, rules, coef, side, start, deadline: Deadline, stats: dict, label: str) -> tuple[np.ndarray, int, int | None] | None:
    """An allocation within every group row, improved from ``start``, its objective, and a certified bound.

    Small instances: the budget ascent (``ascent.py``) from ``start`` at the unconstrained flow's post
    prices, and the knapsack bound (``knapsack.py``) from those prices. From ``neighbourhood.MIN_CADRES``
    cadres: column generation (``master.py``) for the bound, its plans rounded (``rounding.py``), and the
    ascent from the better of that and ``start`` at the master's prices.
    """
    groups = GroupRows.of(terms.pairs, side)
    flow = terms_flow(terms, coef, rules)
    n_pairs = len(terms.pairs)
    deadline.charge_flows(n_pairs)
    if groups is None or not flow.feasible:
        return None
    inst = terms.pairs.instance
    prices = post_prices(flow, inst.n_cadres, inst.n_posts)
    must = must_place(inst, rules)
    stats[f"{label}_start_objective"] = int(coef[start > 0].sum())
    bound = None
    if neighbourhood.worth_searching(terms.pairs):
        master = solve_master(terms.pairs, coef, groups, must, rules.fill_every_post, start, prices, stop=lambda: deadline.pre_phase_over("budget master"))
        if master is not None:
            bound, prices = floor_bound(master.bound), master.prices
            rounded = round_plan(terms.pairs, coef, groups, must, rules.fill_every_post, leading_plan(master, len(terms.pairs)))
            deadline.charge_master(n_pairs, master.rounds)
            deadline.charge_flows(n_pairs, ROUNDING_FLOWS)
            stats.update({f"{label}_master_rounds": master.rounds, f"{label}_master_bound": bound})
            stats[f"{label}_rounded_objective"] = None if rounded is None else int(coef[rounded > 0].sum())
            if rounded is not None and coef[rounded > 0].sum() > coef[start > 0].sum():
                start = rounded
    chosen, objective, rounds = ascend(
        terms.pairs, coef, groups, must, rules.fill_every_post, start, prices, stop=lambda: deadline.pre_phase_over("budget ascent")
    )
    deadline.charge_flows(n_pairs, rounds)
    if bound is None:
        # the knapsack bound from the same prices, its steps aimed at the ascent's allocation
        bound = knapsack_bound(
            terms.pairs, coef, groups, must, rules.fill_every_post, [prices], objective, ASCENT_BOUND_ROUNDS, patience=5,
            stop=lambda: deadline.pre_phase_over("knapsack bound"),
        )
        bound = None if bound is None else floor_bound(bound)
        deadline.charge_master(n_pairs, ASCENT_BOUND_ROUNDS)  # a knapsack step costs at most a master round
    stats.update({f"{label}_ascent_objective": objective, f"{label}_ascent_rounds": rounds, f"{label}_budget_bound": bound})
    return chosen, objective, bound


def _budget_start(terms: Terms, policy, side, deadline: Deadline, stats: dict) -> np.ndarray | None:
    """An allocation within every group row by flows (``budget_start.py``), before tightening; None if none found."""
    groups = GroupRows.of(terms.pairs, side)
    if groups is None:
        return None
    inst = terms.pairs.instance
    start = feasible_start(
        terms.pairs, terms.coef, groups, must_place(inst, policy.rules), policy.rules.fill_every_post, terms.scale,
        stop=lambda: deadline.pre_phase_over("budget start"),
    )
    deadline.charge_flows(len(terms.pairs), START_FLOWS)
    stats["objective_start_method"] = start.method or "none found"
    stats["objective_start_seconds"] = deadline.elapsed()  # for reports only: nothing depends on it
    if start.chosen is None:
        stats["objective_start_tried"] = _(TRIED).format(broken=start.broken_at_least_cost)
    return start.chosen


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
    # feasibility first: without relay as a rule, budgets alone are group rows, and flows find an allocation within
    # them; ``use_relaxation: false`` leaves CP-SAT alone, as for the relaxation
    start = _budget_start(terms, policy, side, deadline, stats) if lex is None and settings.use_relaxation else None
    try:
        phase = maximise(terms, rules, coef, side, settings, deadline, log, "objective", 1.0, start)
    except NoSolutionError as error:
        if "objective_start_tried" not in stats:
            raise
        raise NoSolutionError(_("{error}; tried first: {tried}, which found none").format(error=error, tried=stats["objective_start_tried"])) from None
    stats.update(phase.stats)
    # without a bound from the search or the relaxation, the flow without side rows still bounds it
    bound = phase.bound if phase.bound is not None else terms_flow(terms, coef, rules).bound
    return Solution(phase.chosen, phase.status, phase.proof, phase.objective, bound, terms, lex_value, stats, phase.interrupted, phase.stopped_by)
