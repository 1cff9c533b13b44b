"""The engine's optimum against exact oracles that share none of its solving code.

(a) Without side constraints: scipy's linear_sum_assignment on a square expansion
    of the capacities, with the engine's own integer coefficients (``build_terms``).
(b) With side constraints (budgets, relay as a rule): brute force over every
    allocation of tiny instances, with the tests' reference scores.
(c) A budget that binds, seen in the summary and in the allocation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.rules import allowed_pairs
from placement_engine.solve import build_terms
from tests.factories import (
    QINGHAI_POST,
    Reference,
    best_assignment,
    make_scenario,
    placed,
    solved,
    with_budgets,
)
from tests.strategies import scenarios

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# ---- (a) linear_sum_assignment --------------------------------------------------------------


def engine_coefficients(scenario: pe.Scenario) -> tuple[dict, dict]:
    """(cadre, post) -> integer objective coefficient, and -> relay-rule indicator, over the allowed pairs."""
    inst = scenario.instance
    terms = build_terms(allowed_pairs(inst, scenario.policy), scenario.policy)
    keys = list(zip(inst.cadre_id[terms.pairs.cadre], inst.post_id[terms.pairs.post]))
    lex = sum(x.indicator for x in terms.lexicographic) if terms.lexicographic else np.zeros(len(keys), np.int64)
    return dict(zip(keys, terms.coef.tolist())), dict(zip(keys, np.asarray(lex).tolist()))


def assert_matches_assignment_oracle(scenario: pe.Scenario) -> None:
    ref = Reference(scenario)
    coef, lex = engine_coefficients(scenario)
    # One more relay posting must outweigh any change of the weighted objective.
    weight = 2 * sum(abs(v) for v in coef.values()) + 1 if any(lex.values()) else 0
    best = best_assignment(ref, lambda c, p: coef[c, p] + weight * lex[c, p])
    allocation = solve_unless_oracle_infeasible(scenario, best)
    if allocation is None:
        return
    _, where = best
    assert allocation.status == "OPTIMAL"
    assert allocation.summary["objective_scaled"] == sum(coef[pair] for pair in where.items())
    assert allocation.summary["best_bound_scaled"] == allocation.summary["objective_scaled"]
    if weight:
        kept = sum(lex[pair] for pair in where.items())
        assert allocation.summary["lexicographic"] == {"relay postings kept": kept}



def solve_unless_oracle_infeasible(scenario, best):
    """The engine's allocation; None when the engine and the oracle both find no allocation."""
    try:
        allocation = pe.solve(scenario)
    except pe.InfeasibleError:
        assert best is None
        event("infeasible")
        return None
    assert best is not None
    return allocation

@settings(max_examples=60)
@given(scenarios(budgets=False))
def test_optimum_equals_linear_sum_assignment(scenario):
    assert_matches_assignment_oracle(scenario)


@settings(max_examples=30)
@given(scenarios(budgets=False))
def test_allowed_pairs_and_coefficients_match_the_reference(scenario):
    ref = Reference(scenario)
    coef, _ = engine_coefficients(scenario)
    allowed = {(c, p) for c in ref.cadre_ids for p in ref.post_ids if ref.allowed(c, p)}
    assert set(coef) == allowed
    for (c, p), value in coef.items():
        assert abs(value - ref.coef(c, p)) <= 1, (c, p)  # equal up to where rint meets a tie


@pytest.mark.parametrize("name", ["shandong-2011.yaml", "shandong-2012-relay.yaml"])
def test_shipped_156_cadre_scenarios_match_linear_sum_assignment(name):
    assert_matches_assignment_oracle(pe.load_scenario(SCENARIOS / name))


# ---- (b) brute force with side constraints ---------------------------------------------------


def brute_force(ref: Reference, budgets: bool = True) -> tuple[tuple[int, int], dict[str, str]] | None:
    """The lexicographic optimum ((relay postings kept, scaled objective), cadre -> post), or None.

    Relay counts only when it is a rule; budgets are enforced when cost.budget is on.
    """
    relay = ref.factors.get("relay")
    rule = relay is not None and relay.mode == "rule"
    limits = ref.budget_rows() if budgets else {}
    options = []
    for c in ref.cadre_ids:
        posts = [p for p in ref.post_ids if ref.allowed(c, p)]
        options.append(posts if ref.must_place(c) else [None, *posts])
    load = dict.fromkeys(ref.post_ids, 0)
    spent = dict.fromkeys(limits, 0)
    where: dict[str, str] = {}
    best: list = [None]

    def visit(i: int, kept: int, objective: int) -> None:
        if i == len(ref.cadre_ids):
            if ref.policy.rules.fill_every_post and any(load[p] < ref.posts[p].capacity for p in load):
                return
            value = (kept if rule else 0, objective)
            if best[0] is None or value > best[0][0]:
                best[0] = (value, dict(where))
            return
        cadre = ref.cadre_ids[i]
        university = ref.cadres[cadre].university_id
        for post in options[i]:
            if post is None:
                visit(i + 1, kept, objective)
                continue
            price = ref.annual_cost(cadre, post, ref.factors["cost"]) if university in limits else 0
            if load[post] == ref.posts[post].capacity or spent.get(university, 0) + price > limits.get(university, 0):
                continue
            load[post] += 1
            spent[university] = spent.get(university, 0) + price
            where[cadre] = post
            visit(i + 1, kept + ref.is_relay(cadre, post), objective + ref.coef(cadre, post))
            del where[cadre]
            spent[university] -= price
            load[post] -= 1

    visit(0, 0, 0)
    return best[0]


def binding_budgets(ref: Reference, where: dict[str, str], fraction: float) -> dict[str, int]:
    cost = ref.factors["cost"]
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    for c in ref.cadre_ids:
        u = ref.cadres[c].university_id
        prices = [ref.annual_cost(c, p, cost) for p in ref.post_ids if ref.allowed(c, p)]
        low[u] = low.get(u, 0) + (min(prices) if ref.must_place(c) and prices else 0)
        high[u] = high.get(u, 0) + (ref.annual_cost(c, where[c], cost) if c in where else 0)
    return {u: low[u] + math.floor(fraction * max(0, high[u] - low[u])) for u in high}


@settings(max_examples=50)
@given(
    st.one_of(
        scenarios(max_cadres=6, max_posts=6, budgets=True),
        scenarios(max_cadres=6, max_posts=6, budgets=True, relay_rule=True),
    ),
    st.sampled_from([0.5, 0.2, 0.8]),
)
def test_optimum_with_budgets_and_relay_rule_equals_brute_force(scenario, fraction):
    # Budgets that bind: each university gets its least possible spending plus a fraction of
    # the gap up to what it spends in the optimum without budgets.
    ref = Reference(scenario)
    loose = brute_force(ref, budgets=False)
    if loose is not None:
        scenario = with_budgets(scenario, binding_budgets(ref, loose[1], fraction))
    ref = Reference(scenario)
    best = brute_force(ref)
    allocation = solve_unless_oracle_infeasible(scenario, best)
    if allocation is None:
        return
    (kept, objective), _ = best
    assert allocation.status == "OPTIMAL"
    assert allocation.summary["objective_scaled"] == objective
    if ref.factors.get("relay") is not None and ref.factors["relay"].mode == "rule":
        assert allocation.summary["lexicographic"] == {"relay postings kept": kept}
        event("relay rule")
    if best[0] != loose[0]:
        event("the budgets change the optimum")


def test_relay_rule_brute_force_by_hand():
    # Two sdu cadres, relay posts Zibo and Linyi; only c1 may take Linyi (rank), and c1 wishes
    # Pingyin. The rule keeps both relay posts (c1 Linyi, c2 Zibo) against c1's wish.
    scenario = make_scenario(
        ("P370124", "P370303", {"post_id": "P371302", "min_rank": "deputy_division"}),
        [{"rank": "deputy_division"}, {}],
        history=[(1, "sdu", "P370303"), (1, "sdu", "P371302")],
        wishes={"c1": ["P370124"]},
        policy={"factors": {"preferences": {"weight": 1}, "relay": {"weight": 10, "mode": "rule"}}},
    )
    ref = Reference(scenario)
    assert brute_force(ref)[0] == (2, 20_000)
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": "P371302", "c2": "P370303"}
    soft = solved(scenario.with_policy(factors={"relay": {"mode": "soft"}}))
    assert placed(soft) == {"c1": "P370124", "c2": "P370303"}  # 100 + 10 beats 10 + 10


# ---- (c) a binding budget -------------------------------------------------------------------


def test_binding_budget_shows_in_summary_and_changes_the_allocation():
    # Three volunteers wish Qinghai (23,600 yuan a year each). Shandong University may spend
    # 27,200: one Qinghai posting and one in Jinan (3,600). SDUT has no budget.
    posts = ({"post_id": QINGHAI_POST, "capacity": 3}, "P370124", "P370303")
    volunteer = {"cross_province_ok": True}
    cadres = [volunteer, volunteer, {"university_id": "sdut", **volunteer}]
    wishes = {c: [QINGHAI_POST] for c in ("c1", "c2", "c3")}
    policy = {"factors": {"preferences": {"weight": 1}, "cost": {"weight": 0.001, "budget": True}}}
    budgeted = make_scenario(posts, cadres, budgets={"sdu": 27_200}, wishes=wishes, policy=policy)
    free = budgeted.with_policy(factors={"cost": {"budget": False}})

    unconstrained = solved(free)
    constrained = solved(budgeted)
    assert placed(unconstrained) == dict.fromkeys(("c1", "c2", "c3"), QINGHAI_POST)
    assert sorted(placed(constrained).values()) == ["P370124", QINGHAI_POST, QINGHAI_POST]
    assert placed(constrained)["c3"] == QINGHAI_POST
    assert unconstrained.summary["side_constraints"] == {}
    [row] = constrained.summary["side_constraints"]["cost"]
    assert row == {"constraint": "budget of sdu", "value": 27_200.0, "limit": 27_200, "slack": 0.0, "binding": True}
    # The budget costs c1 or c2 a first wish (100 points) but saves 20,000 yuan (20 points).
    assert constrained.objective == pytest.approx(unconstrained.objective - 100 + 20, abs=1e-9)
    assert math.isclose(constrained.summary["metrics"]["total_annual_cost_yuan"], 2 * 23_600 + 3_600)
