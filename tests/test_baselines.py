"""The reference allocations: the hand allocator's greedy and the random one."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_scenario, with_budgets

import placement_engine as pe
from placement_engine.baselines import greedy_allocation, random_allocation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PREFERENCES = {"factors": {"preferences": {}}}


def posts_of(baseline) -> dict[str, str]:
    return dict(zip(baseline.table["cadre_id"], baseline.table["post_id"]))


def test_greedy_serves_universities_in_table_order_each_taking_its_best_free_wish():
    # c1 (sdut) comes first in the cadres table, but sdu comes first in the universities table
    scenario = make_scenario(
        posts=("P370303", "P370102", "P370124"),
        cadres=({"university_id": "sdut"}, {"university_id": "sdu"}),
        wishes={"c1": ["P370303", "P370124"], "c2": ["P370303", "P370102"]},
        policy=PREFERENCES,
    )
    greedy = greedy_allocation(scenario)
    assert posts_of(greedy) == {"c2": "P370303", "c1": "P370124"}
    assert greedy.unplaced == [] and greedy.unfilled == ["P370102"]


def test_an_area_wish_takes_its_nearest_free_post_and_no_free_wish_the_nearest_post():
    # sdu's campus: 历下 2 km, 平阴 70 km (both in prefecture 370100), 张店 86 km, 滕州 174 km
    scenario = make_scenario(
        posts=("P370481", "P370303", "P370124", "P370102"),
        cadres=({}, {}, {}),
        wishes={"c1": ["370100"], "c2": ["370100"], "c3": ["370100"]},
        policy=PREFERENCES,
    )
    assert posts_of(greedy_allocation(scenario)) == {"c1": "P370102", "c2": "P370124", "c3": "P370303"}


def test_greedy_keeps_the_rank_rule_and_reports_whom_it_could_not_place():
    # c1 takes the ordinary post it wishes for; nobody left may take the deputy-division post
    scenario = make_scenario(
        posts=("P370124", {"post_id": "P370102", "min_rank": "deputy_division"}),
        cadres=({"rank": "deputy_division"}, {"rank": "section"}),
        wishes={"c1": ["P370124"]},
        policy={**PREFERENCES, "rules": {"fill_every_post": True}},
    )
    greedy = greedy_allocation(scenario)
    assert posts_of(greedy) == {"c1": "P370124", "c2": ""}
    assert greedy.unplaced == ["c2"] and greedy.unfilled == ["P370102"]
    violations = greedy.check().violations
    assert violations == ["c2: not placed, but every cadre must be", "P370102: 0 cadres, but it must be filled (1)"]
    optimum = pe.solve(scenario)  # looking ahead, the engine places both
    assert posts_of(optimum) == {"c1": "P370102", "c2": "P370124"} and optimum.check().ok


def test_greedy_stays_within_the_budgets():
    # a same-city posting costs 3,600 a year; 张店 (another prefecture) costs more
    scenario = with_budgets(
        make_scenario(posts=("P370303", "P370102"), wishes={"c1": ["P370303"]}, policy=PREFERENCES), {"sdu": 4000}
    )
    greedy = greedy_allocation(scenario)
    assert posts_of(greedy) == {"c1": "P370102"}
    assert greedy.check().ok


def test_greedy_on_the_national_scenario_keeps_every_pair_rule_and_lists_its_shortfalls():
    scenario = pe.load_scenario(SCENARIOS / "national-2011.yaml")
    greedy = greedy_allocation(scenario)
    report = greedy.check()
    placed = greedy.table["post_id"] != ""
    assert sorted(greedy.unplaced) == sorted(greedy.table.loc[~placed, "cadre_id"])
    shortfalls = {f"{post}: 0 cadres, but it must be filled (1)" for post in greedy.unfilled}
    assert set(report.violations) == shortfalls  # no pair rule broken: rank, volunteers, pairings
    assert report.objective == pytest.approx(greedy.objective)


def test_random_meets_every_hard_rule_and_is_seeded():
    scenario = pe.load_scenario(SCENARIOS / "shandong-2011.yaml")
    first, again, other = (random_allocation(scenario, seed=s) for s in (1, 1, 2))
    assert first.check().ok and first.unplaced == [] and first.unfilled == []
    assert posts_of(first) == posts_of(again) != posts_of(other)
    assert pe.solve(scenario).objective > first.objective


def test_random_refuses_side_constraints():
    scenario = pe.load_scenario(SCENARIOS / "shandong-2011-budget.yaml")
    with pytest.raises(ValueError, match="side constraints"):
        random_allocation(scenario)
