"""The neighbourhood search: every round's allocation meets every rule and budget, never falls, never passes the
optimum; the engine's bound stays above the optimum with the search on; the same seed gives the same allocation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.rules import allowed_pairs, must_place
from placement_engine.solve import build_terms, neighbourhood
from placement_engine.solve.budget_start import feasible_start
from placement_engine.solve.deadline import Deadline
from placement_engine.solve.knapsack import GroupRows
from placement_engine.solve.solution import Settings
from tests.strategies import scenarios
from tests.test_budget_ascent import _highs_optimum, _solve_or_none, _squeezed_terms
from tests.test_repair import _assert_meets_rules_and_budgets

ROOT = Path(__file__).resolve().parent.parent


def _start(scenario, terms, groups):
    rules = scenario.policy.rules
    must = must_place(scenario.instance, rules)
    return feasible_start(terms.pairs, terms.coef, groups, must, rules.fill_every_post, terms.scale).chosen


def _improve(scenario, terms, start, work: float, seed: int = 7):
    side = [rows for rows in terms.side.values() if len(rows.labels)]
    run = Settings(time_limit=600.0, work_limit=600.0, workers=1, seed=seed)
    return neighbourhood.improve(terms.pairs, scenario.policy.rules, terms.coef, side, start, run, Deadline(600.0), work, 600.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0.5, 0.8, 0.95]))
def test_every_round_meets_every_rule_and_budget_and_stays_under_the_optimum(monkeypatch, scenario, squeeze):
    monkeypatch.setattr(neighbourhood, "NEIGHBOURHOOD_CADRES", 2)  # small neighbourhoods: most cadres stay fixed
    monkeypatch.setattr(neighbourhood, "ROUND_WORK", 0.05)
    terms, _, groups = _squeezed_terms(scenario, squeeze)
    if groups is None:
        event("no flow or no group rows")
        return
    start = _start(scenario, terms, groups)
    if start is None:
        event("no start")
        return
    chosen, objective, stats = _improve(scenario, terms, start, work=0.5)
    _assert_meets_rules_and_budgets(scenario, terms, chosen)
    optimum = _highs_optimum(terms, scenario.policy.rules)
    assert terms.coef[start > 0].sum() <= objective == terms.coef[chosen > 0].sum() <= optimum
    assert stats["neighbourhood_rounds"] >= 1
    event("improved" if stats["neighbourhood_improvements"] else "kept")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(budgets=True, relay_rule=False))
def test_the_bound_stays_above_the_optimum_with_the_search_on(monkeypatch, scenario):
    monkeypatch.setattr(neighbourhood, "MIN_CADRES", 0)
    monkeypatch.setattr(neighbourhood, "NEIGHBOURHOOD_CADRES", 2)
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    optimum = _highs_optimum(terms, scenario.policy.rules)
    allocation = _solve_or_none(scenario)
    assert (allocation is None) == (optimum is None)
    if allocation is not None:
        assert allocation.check().ok
        summary = allocation.summary
        assert summary["objective_scaled"] <= optimum <= summary["best_bound_scaled"]
        event(allocation.status)


def test_the_search_improves_the_default_budget_scenario_and_repeats_itself(monkeypatch):
    monkeypatch.setattr(neighbourhood, "NEIGHBOURHOOD_CADRES", 20)
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011-budget.yaml")
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    start = _start(scenario, terms, groups)
    first, objective, stats = _improve(scenario, terms, start, work=3.0)
    _assert_meets_rules_and_budgets(scenario, terms, first)
    assert objective > terms.coef[start > 0].sum() and stats["neighbourhood_improvements"] >= 1
    assert stats["neighbourhood_work"] <= 3.0 + neighbourhood.ROUND_WORK  # a search may overrun its own limit a little
    again, _, _ = _improve(scenario, terms, start, work=3.0)
    assert np.array_equal(first, again)
