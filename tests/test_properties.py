"""Properties of every solve on random valid scenarios, checked without the engine's own code."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import event, given, settings

import placement_engine as pe
from tests.factories import Reference, meets_hard_rules, placed
from tests.strategies import scenarios


def solve_or_confirm_infeasible(scenario: pe.Scenario, ref: Reference) -> pe.Allocation | None:
    """The allocation, or None after checking that the instance really has none."""
    try:
        allocation = pe.solve(scenario)
    except pe.InfeasibleError:
        if not ref.budget_rows():
            assert not meets_hard_rules(ref), "the engine says infeasible, but a matching meets every hard rule"
        event("infeasible")
        return None
    assert meets_hard_rules(ref)
    return allocation


@settings(max_examples=80)
@given(scenarios())
def test_every_hard_rule_holds_and_the_objective_recomputes(scenario):
    ref = Reference(scenario)
    allocation = solve_or_confirm_infeasible(scenario, ref)
    if allocation is None:
        return
    table = allocation.table
    assert sorted(table["cadre_id"]) == sorted(ref.cadre_ids)  # one row, so at most one post, per cadre
    where = {c: p for c, p in placed(allocation).items() if p}
    rules = scenario.policy.rules

    for cadre, post in where.items():
        assert ref.allowed(cadre, post), (cadre, post)
    if rules.place_every_cadre:
        assert len(where) == len(ref.cadre_ids)
    load = Counter(where.values())
    for post, r in ref.posts.items():
        assert load[post] <= r.capacity
        if rules.fill_every_post:
            assert load[post] == r.capacity
    if rules.pins:
        pinned: dict[str, set[str]] = {}
        for (cadre, post), kind in ref.pins.items():
            if kind == "pin":
                pinned.setdefault(cadre, set()).add(post)
            else:
                assert where.get(cadre) != post, (cadre, post, kind)
        for cadre, posts in pinned.items():  # placed even when place_every_cadre is off
            assert where.get(cadre) in posts, (cadre, posts)
    cost = ref.factors.get("cost")
    for university, limit in ref.budget_rows().items():
        spent = sum(ref.annual_cost(c, p, cost) for c, p in where.items() if ref.cadres[c].university_id == university)
        assert spent <= limit

    report = allocation.check()
    assert report.ok, report.violations
    objective = sum(ref.points(c, p) for c, p in where.items())
    assert allocation.objective == pytest.approx(table["score_total"].sum(), rel=1e-12, abs=1e-9)
    assert allocation.objective == pytest.approx(objective, rel=1e-9, abs=1e-6)
    assert allocation.summary["objective_scaled"] == sum(ref.coef(c, p) for c, p in where.items())
    assert allocation.status == "OPTIMAL"
    assert allocation.bound >= allocation.objective - 1e-9
    relay = ref.factors.get("relay")
    if relay is not None and relay.mode == "rule":
        kept = sum(ref.is_relay(c, p) for c, p in where.items())
        assert allocation.summary["lexicographic"] == {"relay postings kept": kept}
    event(f"path: {allocation.summary['solver']['method']}")
