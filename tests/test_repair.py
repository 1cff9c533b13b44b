"""Budget repair: a repaired allocation meets every rule and every group row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.rules import allowed_pairs, must_place
from placement_engine.solve import build_terms
from placement_engine.solve.knapsack import GroupRows, post_prices
from placement_engine.solve.relaxation import terms_flow as _flow
from placement_engine.solve.repair import repair
from tests.strategies import scenarios

ROOT = Path(__file__).resolve().parent.parent


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


