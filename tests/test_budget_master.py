"""Column generation on the budgets and its rounding: bounds checked against HiGHS MIP and brute force."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.rules import allowed_pairs, must_place
from placement_engine.solve import build_terms
from placement_engine.solve.budget_start import feasible_start
from placement_engine.solve.knapsack import GroupRows, knapsack_choice, post_prices
from placement_engine.solve.master import group_of_cadre, solve_master
from placement_engine.solve.relaxation import terms_flow
from placement_engine.solve.rounding import leading_plan, mend_budgets, round_plan
from tests.strategies import scenarios
from tests.test_budget_ascent import _brute_force, _highs_optimum, _squeezed_terms
from tests.test_repair import _assert_meets_rules_and_budgets

ROOT = Path(__file__).resolve().parent.parent


def _master(scenario, terms, flow, groups, start=None):
    inst, rules = scenario.instance, scenario.policy.rules
    prices = post_prices(flow, inst.n_cadres, inst.n_posts)
    return solve_master(terms.pairs, terms.coef, groups, must_place(inst, rules), rules.fill_every_post, start, prices), prices


def _knapsack_bound_at(terms, groups, must, fill_every_post, prices) -> float:
    prices = prices if fill_every_post else np.maximum(prices, 0.0)
    group, limit = group_of_cadre(groups)
    value, _ = knapsack_choice(terms.pairs.cadre, terms.coef - prices[terms.pairs.post], groups.weight, group, limit, ~must)
    return value + float(prices @ terms.pairs.instance.post_capacity)


@settings(max_examples=40, deadline=None)
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0.6, 0.9]))
def test_the_master_bound_holds_against_highs_and_is_below_the_knapsack_bound(scenario, squeeze):
    terms, flow, groups = _squeezed_terms(scenario, squeeze)
    if groups is None:
        event("no flow or no group rows")
        return
    rules = scenario.policy.rules
    must = must_place(scenario.instance, rules)
    optimum = _highs_optimum(terms, rules)
    master, prices = _master(scenario, terms, flow, groups)
    if master is None:
        assert optimum is None  # some university has no plan within its budget
        return
    if optimum is not None:
        assert master.bound >= optimum - 1e-6
    assert master.bound <= _knapsack_bound_at(terms, groups, must, rules.fill_every_post, prices) + 1e-6
    start = feasible_start(terms.pairs, terms.coef, groups, must, rules.fill_every_post, terms.scale)
    if start.chosen is None:
        return
    rounded = round_plan(terms.pairs, terms.coef, groups, must, rules.fill_every_post, leading_plan(master, len(terms.pairs)))
    event("rounded" if rounded is not None else "not rounded")
    if rounded is not None:
        _assert_meets_rules_and_budgets(scenario, terms, rounded)
        assert terms.coef[rounded > 0].sum() <= master.bound + 1e-6


@settings(max_examples=30, deadline=None)
@given(scenarios(max_cadres=5, max_posts=4, budgets=True, relay_rule=False))
def test_the_master_bound_is_at_least_the_brute_force_optimum(scenario):
    terms, flow, groups = _squeezed_terms(scenario, 0.8)
    if groups is None:
        return
    best = _brute_force(terms, scenario.policy.rules)
    master, _ = _master(scenario, terms, flow, groups)
    if best is None or master is None:
        return
    assert master.bound >= best - 1e-6


@settings(max_examples=60, deadline=None)
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0.7, 0.9]))
def test_mended_budgets_meet_every_rule_and_budget(scenario, squeeze):
    terms, flow, groups = _squeezed_terms(scenario, squeeze)
    if groups is None:
        return
    mended = mend_budgets(terms.pairs, terms.coef, groups, must_place(scenario.instance, scenario.policy.rules), flow.chosen)
    event("mended" if mended is not None else "not mended")
    if mended is not None:
        _assert_meets_rules_and_budgets(scenario, terms, mended)


def _default_budget_case():
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011-budget.yaml")
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    flow = terms_flow(terms, terms.coef, scenario.policy.rules)
    rules = scenario.policy.rules
    start = feasible_start(terms.pairs, terms.coef, groups, must_place(scenario.instance, rules), rules.fill_every_post, terms.scale)
    return scenario, terms, flow, groups, start.chosen


def test_the_master_converges_on_the_default_budget_scenario_and_repeats_itself():
    scenario, terms, flow, groups, start = _default_budget_case()
    first, _ = _master(scenario, terms, flow, groups, start)
    again, _ = _master(scenario, terms, flow, groups, start)
    # the LP over the generated plans reaches the best bound: the Dantzig-Wolfe bound, certified
    assert first.bound - first.lp_value <= 1e-5 * abs(first.bound)
    assert (first.bound, first.rounds, len(first.column_pairs)) == (again.bound, again.rounds, len(again.column_pairs))
    assert np.array_equal(first.weight, again.weight)
    must = must_place(scenario.instance, scenario.policy.rules)
    rounded = round_plan(terms.pairs, terms.coef, groups, must, True, leading_plan(first, len(terms.pairs)))
    if rounded is not None:
        _assert_meets_rules_and_budgets(scenario, terms, rounded)
