"""Feasibility first and the budget ascent: allocations within every budget, by flows; bounds checked by oracles."""

from __future__ import annotations

import itertools
from pathlib import Path

import highspy
import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.rules import allowed_pairs, must_place
from placement_engine.solve import build_terms
from placement_engine.solve.ascent import ascend
from placement_engine.solve.budget_start import feasible_start
from placement_engine.solve.knapsack import GroupRows, post_prices
from placement_engine.solve.relaxation import terms_flow
from tests.strategies import scenarios
from tests.test_repair import _assert_meets_rules_and_budgets

ROOT = Path(__file__).resolve().parent.parent


def _squeezed_terms(scenario: pe.Scenario, squeeze: float):
    """Terms whose budget rows allow ``squeeze`` of what the unconstrained optimum spends, with their group rows."""
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    flow = terms_flow(terms, terms.coef, scenario.policy.rules)
    if not flow.feasible:
        return terms, None, None
    for rows in terms.side.values():
        rows.rhs = np.floor(squeeze * rows.lhs(flow.chosen)).astype(np.int64)
    return terms, flow, GroupRows.of(terms.pairs, list(terms.side.values()))


@settings(max_examples=120, deadline=None)
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0.5, 0.8, 0.95]))
def test_the_start_and_every_ascent_step_meet_every_rule_and_budget(scenario, squeeze):
    terms, flow, groups = _squeezed_terms(scenario, squeeze)
    if groups is None:
        event("no flow or no group rows")
        return
    inst, rules = scenario.instance, scenario.policy.rules
    must = must_place(inst, rules)
    start = feasible_start(terms.pairs, terms.coef, groups, must, rules.fill_every_post, terms.scale)
    event(start.method or "no start")
    if start.chosen is None:
        return
    _assert_meets_rules_and_budgets(scenario, terms, start.chosen)
    prices = post_prices(flow, inst.n_cadres, inst.n_posts)
    chosen, objective, _ = ascend(terms.pairs, terms.coef, groups, must, rules.fill_every_post, start.chosen, prices)
    _assert_meets_rules_and_budgets(scenario, terms, chosen)
    assert objective == terms.coef[chosen > 0].sum() >= terms.coef[start.chosen > 0].sum()


def _brute_force(terms, rules) -> int | None:
    """The best objective over every allocation that meets the rules and the side rows, by enumeration."""
    pairs, inst = terms.pairs, terms.pairs.instance
    must = must_place(inst, rules)
    options = [[-1, *np.flatnonzero(pairs.cadre == c)] if not must[c] else list(np.flatnonzero(pairs.cadre == c)) for c in range(inst.n_cadres)]
    best = None
    for pick in itertools.product(*options):
        chosen = np.zeros(len(pairs))
        used = [p for p in pick if p >= 0]
        chosen[used] = 1
        load = np.bincount(pairs.post[used], minlength=inst.n_posts) if used else np.zeros(inst.n_posts)
        if (load > inst.post_capacity).any() or (rules.fill_every_post and (load < inst.post_capacity).any()):
            continue
        if any((rows.lhs(chosen) > rows.rhs).any() for rows in terms.side.values()):
            continue
        value = int(terms.coef[used].sum())
        best = value if best is None else max(best, value)
    return best


def _highs_optimum(terms, rules) -> int | None:
    """HiGHS MIP on the same model: its proven optimum, or None when no allocation exists."""
    pairs, inst = terms.pairs, terms.pairs.instance
    n = len(pairs)
    must = must_place(inst, rules)
    rows = []  # (lower, upper, pair indices, coefficients)
    for cadre in range(inst.n_cadres):
        rows.append((1.0 if must[cadre] else 0.0, 1.0, np.flatnonzero(pairs.cadre == cadre), None))
    for post in range(inst.n_posts):
        cap = float(inst.post_capacity[post])
        rows.append((cap if rules.fill_every_post else 0.0, cap, np.flatnonzero(pairs.post == post), None))
    for side in terms.side.values():
        for row in range(len(side.labels)):
            members = np.flatnonzero(side.row == row)
            rows.append((-highspy.kHighsInf, float(side.rhs[row]), side.pair[members], side.coef[members].astype(float)))
    if any(lower > 0 and not len(index) for lower, _, index, _ in rows):
        return None  # a cadre that must be placed, or a post that must be filled, has no pair
    if not n:
        return 0
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.addVars(n, np.zeros(n), np.ones(n))
    solver.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    solver.changeColsCost(n, np.arange(n, dtype=np.int32), -terms.coef.astype(float))
    for lower, upper, index, values in rows:
        if len(index):
            coefficients = np.ones(len(index)) if values is None else values
            solver.addRow(lower, upper, len(index), index.astype(np.int32), coefficients)
    solver.run()
    if solver.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return None
    assert solver.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return int(np.rint(-solver.getInfo().objective_function_value))


def _solve_or_none(scenario):
    try:
        return pe.solve(scenario, time_limit=20)
    except pe.InfeasibleError:
        return None


@settings(max_examples=40, deadline=None)
@given(scenarios(max_cadres=5, max_posts=4, budgets=True, relay_rule=False))
def test_the_bound_is_at_least_the_brute_force_optimum_and_the_allocation_meets_every_budget(scenario):
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    best = _brute_force(terms, scenario.policy.rules)
    allocation = _solve_or_none(scenario)
    if best is None:
        assert allocation is None
        return
    assert allocation is not None and allocation.check().ok
    summary = allocation.summary
    assert summary["objective_scaled"] <= best <= summary["best_bound_scaled"]
    if allocation.status == "OPTIMAL":
        assert summary["objective_scaled"] == best


@settings(max_examples=30, deadline=None)
@given(scenarios(budgets=True, relay_rule=False))
def test_the_engine_agrees_with_highs_on_small_budget_cases(scenario):
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    optimum = _highs_optimum(terms, scenario.policy.rules)
    allocation = _solve_or_none(scenario)
    assert (allocation is None) == (optimum is None)
    if allocation is not None:
        summary = allocation.summary
        assert summary["objective_scaled"] <= optimum <= summary["best_bound_scaled"]
        event(allocation.status)


def test_the_least_cost_flow_meets_the_national_budgets():
    scenario = pe.load_scenario(ROOT / "scenarios" / "national-2011-budget.yaml")
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    rules = scenario.policy.rules
    start = feasible_start(terms.pairs, terms.coef, groups, must_place(scenario.instance, rules), rules.fill_every_post, terms.scale)
    assert start.method == "least cost"
    _assert_meets_rules_and_budgets(scenario, terms, start.chosen)


@pytest.mark.parametrize("squeeze", [0.0])
def test_no_start_when_no_allocation_fits_the_budgets(squeeze):
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011-budget.yaml")
    terms, _, groups = _squeezed_terms(scenario, squeeze)
    rules = scenario.policy.rules
    start = feasible_start(terms.pairs, terms.coef, groups, must_place(scenario.instance, rules), rules.fill_every_post, terms.scale)
    assert start.chosen is None and start.broken_at_least_cost == len(groups.rhs)
