"""Budget repair: the knapsack is exact, and a repaired allocation meets every rule and every group row."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.candidates import allowed_pairs, must_place
from placement_engine.factors import SideConstraints
from placement_engine.model import _flow, build_terms
from placement_engine.repair import GroupRows, knapsack_choice, post_prices, repair
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


def _repair_from_unconstrained(scenario: pe.Scenario, squeeze: float | None = None):
    """Terms, the unconstrained flow and its repair; ``squeeze`` first sets each row's limit to that share of its use there."""
    terms = _terms(scenario)
    inst, rules = scenario.instance, scenario.policy.rules
    flow = _flow(terms, terms.coef, rules)
    if not flow.feasible:
        return terms, flow, None
    if squeeze is not None:
        for rows in terms.side.values():
            rows.rhs = np.floor(squeeze * rows.lhs(flow.chosen)).astype(np.int64)
    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    if groups is None:
        return terms, flow, None
    prices = post_prices(flow, inst.n_cadres, inst.n_posts)
    return terms, flow, repair(terms.pairs, terms.coef, groups, must_place(inst, rules), rules.fill_every_post, flow.chosen, prices)


def _assert_meets_rules_and_budgets(scenario: pe.Scenario, terms, chosen: np.ndarray) -> None:
    inst, rules = scenario.instance, scenario.policy.rules
    pairs = terms.pairs
    used = chosen > 0
    per_cadre = np.bincount(pairs.cadre[used], minlength=inst.n_cadres)
    per_post = np.bincount(pairs.post[used], minlength=inst.n_posts)
    assert per_cadre.max(initial=0) <= 1
    assert (per_post <= inst.post_capacity).all()
    assert (per_cadre[must_place(inst, rules)] == 1).all()
    if rules.fill_every_post:
        assert (per_post == inst.post_capacity).all()
    for rows in terms.side.values():
        lhs = np.bincount(rows.row, weights=rows.coef * chosen[rows.pair], minlength=len(rows.labels))
        assert (lhs <= rows.rhs).all()


@settings(max_examples=150)
@given(scenarios(budgets=True, relay_rule=False), st.sampled_from([0.5, 0.8, 0.95]))
def test_a_repaired_allocation_meets_every_rule_and_budget(scenario, squeeze):
    terms, flow, repaired = _repair_from_unconstrained(scenario, squeeze)
    if repaired is None:
        event("no repair")
        return
    _assert_meets_rules_and_budgets(scenario, terms, repaired)
    event("unconstrained optimum kept" if repaired is flow.chosen else "repaired")


def test_repair_meets_the_national_budgets_at_111_percent():
    scenario = pe.load_scenario(ROOT / "scenarios" / "national-2011.yaml").with_policy(
        factors={"cost": {"budget": True, "budget_scale": 1.11}}
    )
    terms, flow, repaired = _repair_from_unconstrained(scenario)

    groups = GroupRows.of(terms.pairs, list(terms.side.values()))
    assert (groups.spend(terms.pairs, flow.chosen) > groups.rhs).any()  # the unconstrained optimum breaks some budgets
    assert repaired is not None
    _assert_meets_rules_and_budgets(scenario, terms, repaired)
    assert terms.coef[repaired > 0].sum() > 0.99 * flow.objective


def test_group_rows_refuse_a_cadre_in_two_rows_and_negative_coefficients():
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011.yaml").with_policy(factors={"cost": {"budget": True}})
    terms = _terms(scenario)
    (budgets,) = terms.side.values()
    everyone = SideConstraints(["all"], np.array([10**9]), np.zeros(len(terms.pairs), np.int64), np.arange(len(terms.pairs)), np.ones(len(terms.pairs), np.int64))
    at_least = SideConstraints(["at least"], np.array([-1]), np.zeros(1, np.int64), np.array([0]), np.array([-1]))

    assert GroupRows.of(terms.pairs, [budgets]) is not None
    assert GroupRows.of(terms.pairs, [budgets, everyone]) is None
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
