"""Wishes that nest: the best-ranked wish whose area holds the post counts; wishes that never can are found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.factors import FACTORS
from placement_engine.factors.preferences import ShadowedWish, shadowed_wishes
from placement_engine.i18n import language
from tests.factories import POSTS, make_tables, row, scored

ROOT = Path(__file__).resolve().parent.parent
PREF_POLICY = {"factors": {"preferences": {"weight": 1, "points": [100, 80, 60, 40, 20]}}}
# Tianjin: 南开区 and 和平区 of the prefecture 天津市 (120100), province 天津 (120000)
TIANJIN = [
    {"post_id": "P120104", "adcode": "120104", "name": "南开区", "prefecture": "120100", "province": "120000", "lon": 117.150738, "lat": 39.138203},
    {"post_id": "P120101", "adcode": "120101", "name": "和平区", "prefecture": "120100", "province": "120000", "lon": 117.214699, "lat": 39.117196},
]  # fmt: skip


def tianjin_scenario(wishes: list[str]) -> pe.Scenario:
    tables = make_tables(("P370102", "P370124"), [{"cross_province_ok": True}], wishes={"c1": wishes})
    extra = pd.DataFrame([{**post, "capacity": 1, "min_rank": "staff"} for post in TIANJIN])
    tables["posts"] = pd.concat([tables["posts"], extra], ignore_index=True)
    return pe.scenario_from_tables(tables, PREF_POLICY, name="tianjin")


def test_a_province_wish_counts_before_its_own_prefecture_listed_later():
    # wish 1 the province 天津, wish 4 the prefecture 天津市: a posting to 南开区 meets wish 1
    scenario = tianjin_scenario(["120000", "P370102", "P370124", "120100"])
    table = scored(scenario, {"c1": "P120104"})
    assert row(table)["choice"] == 1 and row(table)["score_preferences"] == 100.0
    (shadowed,) = shadowed_wishes(scenario.tables, "preferences.csv")
    assert shadowed == ShadowedWish("preferences.csv", 5, "c1", 4, "120100", 1, "120000")
    with language("en"):
        assert str(shadowed) == (
            "preferences.csv row 5: wish 4 of c1 (120100) can never count: it lies inside wish 1 (120000), which ranks before it"
        )


def test_specific_wishes_ranked_first_each_count_where_they_are_best():
    scenario = tianjin_scenario(["P120104", "120100", "120000"])
    assert row(scored(scenario, {"c1": "P120104"}))["choice"] == 1
    assert row(scored(scenario, {"c1": "P120101"}))["choice"] == 2
    assert shadowed_wishes(scenario.tables) == []


def test_every_kind_of_shadowed_wish_is_found_with_the_earliest_wish_that_holds_it():
    scenario = tianjin_scenario(["120100", "120000", "P120104", "P370102", "370000"])
    found = {(w.choice, w.target): (w.shadowed_by_choice, w.shadowed_by_target) for w in shadowed_wishes(scenario.tables)}
    # the post after its prefecture (and province); the province after nothing that holds it is fine
    assert found == {(3, "P120104"): (1, "120100")}
    duplicate = pd.DataFrame({"cadre_id": ["c1", "c1"], "choice": [1, 2], "target": ["370100", "370100"]})
    (again,) = shadowed_wishes({"preferences": duplicate, "posts": scenario.tables["posts"]})
    assert (again.choice, again.shadowed_by_choice, again.row) == (2, 1, 3)


def test_nested_wishes_in_the_national_scenario_are_credited_to_the_first_matching_wish():
    scenario = pe.load_scenario(ROOT / "scenarios" / "national-2011.yaml")
    table = pe.solve(scenario).table
    placed = table[table["post_id"] != ""][["cadre_id", "post_id", "prefecture", "province", "choice"]]
    wishes = scenario.tables["preferences"]
    # every wish whose target is the post, its prefecture or its province, by plain merges
    areas = placed.melt(["cadre_id", "choice"], ["post_id", "prefecture", "province"], value_name="target")
    matching = areas.merge(wishes.rename(columns={"choice": "wish"}), on=["cadre_id", "target"])
    first = matching.groupby("cadre_id")["wish"].min()
    credited = placed.set_index("cadre_id")["choice"].astype("Int64")
    expected = first.reindex(credited.index).astype("Int64")
    differ = (credited.fillna(0) != expected.fillna(0)).sum()
    assert differ == 0
    assert len(matching.groupby("cadre_id")["wish"].nunique().loc[lambda n: n > 1]) > 0  # nesting does occur


CATALOGUE = sorted(POSTS)
TARGETS = [*CATALOGUE, *sorted({v[2] for v in POSTS.values()}), "370000", "630000"]


@settings(derandomize=True, deadline=None, max_examples=60)
@given(st.lists(st.sampled_from(TARGETS), unique=True, min_size=1, max_size=6))
def test_the_credited_wish_and_the_shadowed_wishes_match_a_brute_force_reading(targets):
    tables = make_tables(CATALOGUE, [{"cross_province_ok": True}], wishes={"c1": targets})
    scenario = pe.scenario_from_tables(tables, PREF_POLICY)
    inst = scenario.instance

    def holds(area: str, post: str) -> bool:
        adcode, _, prefecture, *_ = POSTS[post]
        return area in (post, prefecture, adcode[:2] + "0000")

    def enclosing(area: str) -> set[str]:
        if area in POSTS:
            return {area, POSTS[area][2], area[1:3] + "0000"}
        return {area, area[:2] + "0000"}

    choice = FACTORS["preferences"].matched_choice(inst.pairs(np.zeros(inst.n_posts, int), np.arange(inst.n_posts)))
    expected = [min((k + 1 for k, t in enumerate(targets) if holds(t, post)), default=0) for post in inst.post_id]
    assert choice.tolist() == expected
    # a wish is shadowed when an earlier wish's area encloses its own
    shadowed = {w.choice for w in shadowed_wishes(scenario.tables)}
    brute = {k + 1 for k, t in enumerate(targets) if enclosing(t) & set(targets[:k])}
    assert shadowed == brute
    assert not shadowed & set(choice.tolist())  # a shadowed wish is never the one credited
