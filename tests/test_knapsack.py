"""Group rows and their knapsacks: exact against brute force, and a bound no allocation beats."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.factors import SideConstraints
from placement_engine.rules import allowed_pairs, must_place
from placement_engine.solve import build_terms
from placement_engine.solve.knapsack import GroupRows, knapsack_bound, knapsack_choice, post_prices
from placement_engine.solve.relaxation import terms_flow as _flow
from tests.strategies import scenarios

ROOT = Path(__file__).resolve().parent.parent
option = st.tuples(st.integers(-5, 9), st.integers(0, 5))  # (value, spend)


@given(
    cadres=st.lists(st.tuples(st.lists(option, min_size=1, max_size=3), st.booleans()), min_size=1, max_size=4),
    budget=st.integers(0, 12),
)
def test_knapsack_choice_is_the_brute_force_maximum(cadres, budget):
    cadre = np.array([c for c, (options, _) in enumerate(cadres) for _ in options])
    value = np.array([v for options, _ in cadres for v, _ in options], float)
    spend = np.array([w for options, _ in cadres for _, w in options], float)
    optional = np.array([opt for _, opt in cadres])
    best = -np.inf
    per_cadre = [list(np.flatnonzero(cadre == c)) + ([-1] if optional[c] else []) for c in range(len(cadres))]
    for combo in itertools.product(*per_cadre):
        chosen = [a for a in combo if a >= 0]
        if spend[chosen].sum() <= budget:
            best = max(best, value[chosen].sum())

    total, choice = knapsack_choice(cadre, value, spend, np.zeros(len(cadres), int), np.array([float(budget)]), optional)

    assert total == best
    if np.isfinite(best):
        chosen = choice[choice >= 0]
        assert value[chosen].sum() == best and spend[chosen].sum() <= budget
        assert set(np.flatnonzero(choice < 0)) <= set(np.flatnonzero(optional))


def _terms(scenario: pe.Scenario):
    return build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)


@settings(max_examples=60)
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0, 5]))
def test_no_allocation_beats_the_knapsack_bound(scenario, rounds):
    try:
        optimum = pe.solve(scenario).summary["objective_scaled"]
    except pe.InfeasibleError:
        return
    terms = _terms(scenario)
    inst, rules = scenario.instance, scenario.policy.rules
    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    flow = _flow(terms, terms.coef, rules)
    if groups is None or not flow.feasible:
        return
    start = post_prices(flow, inst.n_cadres, inst.n_posts)

    bound = knapsack_bound(terms.pairs, terms.coef, groups, must_place(inst, rules), rules.fill_every_post, [start, start + 7.0], optimum, rounds)

    assert bound is not None and bound >= optimum - 1e-6
    event("bound checked")


def test_group_rows_refuse_a_cadre_in_two_rows_negative_coefficients_and_large_rows():
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011.yaml").with_policy(factors={"cost": {"budget": True}})
    terms = _terms(scenario)
    (budgets,) = terms.side.values()
    everyone = SideConstraints(["all"], np.array([10**9]), np.zeros(len(terms.pairs), np.int64), np.arange(len(terms.pairs)), np.ones(len(terms.pairs), np.int64))
    at_least = SideConstraints(["at least"], np.array([-1]), np.zeros(1, np.int64), np.array([0]), np.array([-1]))

    assert GroupRows.of(terms.pairs, [budgets]) is not None
    assert GroupRows.of(terms.pairs, [budgets, everyone]) is None
    assert GroupRows.of(terms.pairs, [everyone]) is None  # one row over all 156 cadres: too many to merge
    assert GroupRows.of(terms.pairs, [at_least]) is None


def test_without_rows_the_flow_duals_give_back_the_flow_bound():
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011.yaml")
    inst, rules = scenario.instance, scenario.policy.rules
    terms = _terms(scenario)
    flow = _flow(terms, terms.coef, rules)
    prices = post_prices(flow, inst.n_cadres, inst.n_posts)
    pairs = terms.pairs

    total, _ = knapsack_choice(pairs.cadre, terms.coef - prices[pairs.post], np.zeros(len(pairs)), np.full(inst.n_cadres, -1), np.zeros(0), ~must_place(inst, rules))

    assert total + prices @ inst.post_capacity == flow.bound
