"""The budget diagnosis against brute force: the fewest budgets that must give way, who can, and each least shortfall."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from tests.factories import QINGHAI_POST, Reference, make_tables
from tests.strategies import scenarios


def diagnosis_of(scenario: pe.Scenario) -> dict:
    with pytest.raises(pe.InfeasibleError) as caught:
        pe.solve(scenario)
    return caught.value.diagnosis


def spendings(scenario: pe.Scenario) -> tuple[dict[str, int], list[dict[str, int]]]:
    """The budget limits, and each university's spending in every allocation that meets the hard rules (enumeration)."""
    ref = Reference(scenario)
    limits = {f"budget of {u}": limit for u, limit in ref.budget_rows().items()}
    params = ref.factors["cost"]
    options = [[p for p in ref.post_ids if ref.allowed(c, p)] + ([] if ref.must_place(c) else [None]) for c in ref.cadre_ids]
    found = []
    for choice in itertools.product(*options):
        load = pd.Series([p for p in choice if p is not None]).value_counts()
        if any(load.get(p, 0) > r.capacity or (ref.policy.rules.fill_every_post and load.get(p, 0) < r.capacity) for p, r in ref.posts.items()):
            continue
        spend = dict.fromkeys(limits, 0)
        for c, p in zip(ref.cadre_ids, choice):
            label = f"budget of {ref.cadres[c].university_id}"
            if p is not None and label in spend:
                spend[label] += ref.annual_cost(c, p, params)
        found.append(spend)
    return limits, found


def broken(limits: dict[str, int], spend: dict[str, int]) -> set[str]:
    return {label for label, limit in limits.items() if spend[label] > limit}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(scenarios(max_cadres=4, max_posts=4, budgets=True, relay_rule=False), st.sampled_from([0.2, 0.4, 0.7]))
def test_the_fewest_budgets_who_can_give_way_and_their_least_shortfalls_match_brute_force(scenario: pe.Scenario, scale: float) -> None:
    scenario = scenario.with_policy(factors={"cost": {"budget_scale": scale}})
    limits, allocations = spendings(scenario)
    assume(allocations and all(broken(limits, spend) for spend in allocations))
    diagnosis = diagnosis_of(scenario)
    fewest = min(len(broken(limits, spend)) for spend in allocations)
    event(f"{fewest} budget(s) must give way")
    assert diagnosis["found_by"] == "budget CP-SAT model" and diagnosis["complete"]
    assert diagnosis["budgets_to_give_way"] == diagnosis["budgets_to_give_way_at_least"] == fewest
    smallest = set(diagnosis["smallest_set"])
    assert len(smallest) == fewest and any(broken(limits, spend) <= smallest for spend in allocations)
    for conflict in diagnosis["conflicts"]:
        given_way = set(conflict["gives_way_with"])
        # every budget that can take the slot, and its least shortfall with the rest of the set lifted
        least = {
            label: min(spend[label] - limits[label] for spend in allocations if broken(limits, spend) <= given_way | {label})
            for label in limits
            if label not in given_way and any(broken(limits, spend) <= given_way | {label} for spend in allocations)
        }
        assert conflict["alternatives_complete"]
        event(f"{len(least)} budget(s) can take a slot")
        assert {a["constraint"]: a["least_short_by"] for a in conflict["alternatives"]} == least
        assert all(short > 0 for short in least.values())
        assert conflict["least_short_by"] == min(least.values()) == conflict["short_by"]
    # the same sentences with the universities and the cadres listed the other way round
    tables = {name: frame.copy() for name, frame in scenario.tables.items()}
    for name in ("universities", "cadres"):
        tables[name] = tables[name].iloc[::-1].reset_index(drop=True)
    permuted = diagnosis_of(pe.scenario_from_tables(tables, scenario.policy, name=scenario.name))
    assert {c["message"] for c in permuted["conflicts"]} == {c["message"] for c in diagnosis["conflicts"]}


def twins(order: list[str]) -> pe.Scenario:
    """Two universities on one campus, one volunteer each; one of them must go to Qinghai (23,600 yuan), the other
    stays in Jinan (3,600). Each budget is 20,000, so either university, not both, is short by 3,600."""
    tables = make_tables(
        posts=("P370124", QINGHAI_POST),
        cadres=({"university_id": "sdu", "cross_province_ok": True}, {"university_id": "sdx", "cross_province_ok": True}),
        universities=["sdu"],
    )
    unis = tables["universities"]
    unis = pd.concat([unis, unis.assign(university_id="sdx")], ignore_index=True).set_index("university_id").loc[order].reset_index()
    tables["universities"] = unis.assign(budget_yuan=20000)
    policy = {"rules": {"fill_every_post": True, "place_every_cadre": True}, "factors": {"cost": {"budget": True}}}
    return pe.scenario_from_tables(tables, policy, name="twins")


def test_a_symmetric_pair_gets_the_symmetric_sentence_whatever_the_order() -> None:
    first, second = (diagnosis_of(twins(order)) for order in (["sdu", "sdx"], ["sdx", "sdu"]))
    assert first["conflicts"] == second["conflicts"]
    [conflict] = first["conflicts"]
    assert conflict["message"] == "sdu or sdx must give way: either is short by 3,600 yuan, the least possible, with every other budget kept."
    assert {a["constraint"]: a["least_short_by"] for a in conflict["alternatives"]} == {"budget of sdu": 3600, "budget of sdx": 3600}


def test_permuting_the_tables_gives_the_same_sentences() -> None:
    scenario = pe.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "infeasible" / "budget-short.yaml")
    tables = {name: frame.iloc[::-1].reset_index(drop=True) for name, frame in scenario.tables.items()}
    reversed_scenario = pe.scenario_from_tables(tables, scenario.policy, name=scenario.name)
    assert {c["message"] for c in diagnosis_of(scenario)["conflicts"]} == {c["message"] for c in diagnosis_of(reversed_scenario)["conflicts"]}


def test_the_forty_percent_budget_case_names_only_proven_shortfalls() -> None:
    # every budget of the binding-budget scenario at 40 %: most universities cannot meet theirs at all
    scenario = pe.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "shandong-2011-budget.yaml")
    diagnosis = diagnosis_of(scenario.with_policy(factors={"cost": {"budget_scale": 0.4}}))
    k = diagnosis["budgets_to_give_way"]
    assert diagnosis["complete"] and diagnosis["budgets_to_give_way_at_least"] == k == len(diagnosis["conflicts"])
    for conflict in diagnosis["conflicts"]:
        assert conflict["alternatives_complete"] and len(conflict["gives_way_with"]) == k - 1
        for alternative in conflict["alternatives"]:
            # exact, above 0 (the set is smallest), and at least what the budget needs with every other one lifted
            alone_short = max(0, alternative["least_needed_alone"] - alternative["limit"])
            assert alternative["least_short_by"] is not None and alternative["least_short_by"] >= max(1, alone_short)
        if len(conflict["alternatives"]) == 1 and conflict["alternatives"][0]["least_needed_alone"] <= conflict["limit"]:
            assert "it is short only together with the budgets kept" in conflict["message"]
        assert f"{k} budgets must give way together" in conflict["message"]
