"""Infeasibility diagnosis: each shipped infeasible scenario, Hall certificates, the elastic model."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.solve.feasibility import hall_violators
from tests.factories import Reference, make_scenario, meets_hard_rules, scored, with_budgets
from tests.strategies import scenarios

INFEASIBLE = Path(__file__).resolve().parents[1] / "scenarios" / "infeasible"
JINAN_QINGDAO_DD = [
    "P370102", "P370103", "P370104", "P370105", "P370112", "P370113", "P370181",
    "P370202", "P370203", "P370205", "P370211", "P370212", "P370213", "P370214",
]  # fmt: skip


def diagnosis_of(scenario: pe.Scenario) -> dict:
    with pytest.raises(pe.InfeasibleError) as caught:
        pe.solve(scenario)
    assert str(caught.value) == caught.value.diagnosis["message"]
    return caught.value.diagnosis


def shipped(name: str) -> dict:
    return diagnosis_of(pe.load_scenario(INFEASIBLE / f"{name}.yaml"))


def test_every_shipped_infeasible_scenario_has_a_test() -> None:
    tested = {"rank-jinan-qingdao", "pin-clash", "qinghai-volunteers", "budget-short", "swap-rule-budget"}
    assert {path.stem for path in INFEASIBLE.glob("*.yaml")} == tested


def test_too_few_deputy_division_cadres_for_jinan_and_qingdao() -> None:
    diagnosis = shipped("rank-jinan-qingdao")
    assert diagnosis["found_by"] == "matching (Hall/König)"
    [conflict] = diagnosis["conflicts"]
    assert conflict["kind"] == "posts_short_of_cadres"
    assert sorted(conflict["posts"]) == JINAN_QINGDAO_DD
    assert (conflict["seats"], len(conflict["cadres"]), conflict["shortfall"]) == (14, 12, 2)
    assert "sdufe-01" not in conflict["cadres"] and "ujn-01" not in conflict["cadres"]
    assert conflict["blocked_by"] == {"rank": 142, "pins": 2}
    assert conflict["message"].startswith(
        "14 posts in 济南市 and 青岛市 require deputy_division and must be filled (14 seats), "
        "but only 12 cadres may take any of them: sdjtu-01, sdada-01,"
    )
    assert "Every other cadre is kept out by: rank (142 cadres: the cadre's rank is below the post's minimum rank); pins (2 cadres" in conflict["message"]


def test_a_post_pinned_to_two_cadres() -> None:
    [conflict] = shipped("pin-clash")["conflicts"]
    assert conflict["kind"] == "cadres_short_of_seats"
    assert (conflict["cadres"], conflict["posts"], conflict["seats"]) == (["sdnu-01", "sdu-01"], ["P370124"], 1)
    assert conflict["message"].startswith(
        "P370124 平阴县 is pinned to 2 cadres (sdnu-01, sdu-01) but has 1 seat. 2 cadres must be placed (pinned), "
        "but only 1 seat is open to them (P370124 平阴县): sdnu-01, sdu-01. Every other post is closed to them by: pins (155 posts"
    )


def test_too_few_volunteers_for_qinghai() -> None:
    [conflict] = shipped("qinghai-volunteers")["conflicts"]
    assert conflict["kind"] == "posts_short_of_cadres"
    assert conflict["message"] == (
        "6 posts in 海东地区 and 海北藏族自治州 must be filled (6 seats), but only 4 cadres may take any of them: "
        "sdu-01, sdu-02, ouc-01, ouc-02. Every other cadre is kept out by: cross_province (8 cadres: the post is in "
        "another province and the cadre did not volunteer (or the pairings table does not pair the provinces))."
    )


def test_a_budget_that_cannot_be_met() -> None:
    diagnosis = shipped("budget-short")
    assert diagnosis["found_by"] == "budget CP-SAT model"
    assert diagnosis["budgets_to_give_way"] == diagnosis["budgets_to_give_way_at_least"] == 1
    [conflict] = diagnosis["conflicts"]
    assert (conflict["constraint"], conflict["limit"], conflict["needed"], conflict["short_by"]) == ("budget of sdu", 25000, 27200, 2200)
    assert (conflict["least_needed"], conflict["least_short_by"], conflict["alternatives_complete"]) == (27200, 2200, True)
    assert conflict["message"] == (
        "University sdu's budget is short by 2,200 yuan, the least possible: with every other budget kept, "
        "it needs 27,200 yuan against a limit of 25,000."
    )


def test_the_swap_rule_against_a_budget() -> None:
    [conflict] = shipped("swap-rule-budget")["conflicts"]
    assert conflict["factor"] == "forbid_improving_swaps"
    assert conflict["message"].startswith(
        "The rule against improving swaps must give way for sdu-01 at P370124 and ouc-01 at P370282: "
        "they would both rather exchange posts"
    )
    # without the rule the same scenario solves: the budget alone is met
    scenario = pe.load_scenario(INFEASIBLE / "swap-rule-budget.yaml")
    allocation = pe.solve(scenario.with_policy(rules={"forbid_improving_swaps": False}))
    assert dict(zip(allocation.table["cadre_id"], allocation.table["post_id"])) == {"sdu-01": "P370124", "ouc-01": "P370282"}


def test_more_cadres_than_seats_is_one_count() -> None:
    scenario = make_scenario(posts=("P370124", "P370303"), cadres=({}, {}, {}))
    [conflict] = diagnosis_of(scenario)["conflicts"]
    assert conflict["kind"] == "cadres_short_of_seats"
    assert (len(conflict["cadres"]), conflict["seats"], conflict["shortfall"]) == (3, 2, 1)
    assert conflict["message"].startswith("3 cadres must be placed (every cadre must be placed), but only 2 seats are open to them")


def test_hall_violators_on_a_small_graph() -> None:
    # tops 0, 1, 2 all reach only bottom 0; top 3 reaches bottoms 1 and 2
    top = np.array([0, 1, 2, 3, 3])
    bottom = np.array([0, 0, 0, 1, 2])
    [(members, neighbours)] = hall_violators(4, 3, top, bottom)
    assert members.tolist() == [0, 1, 2] and neighbours.tolist() == [0]
    assert hall_violators(2, 2, np.array([0, 1]), np.array([0, 1])) == []


@st.composite
def bipartite_graphs(draw) -> tuple[int, int, list[tuple[int, int]]]:
    n_top, n_bottom = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    if not (n_top and n_bottom):
        return n_top, n_bottom, []
    return n_top, n_bottom, draw(st.lists(st.tuples(st.integers(0, n_top - 1), st.integers(0, n_bottom - 1)), max_size=14))


@given(bipartite_graphs())
def test_hall_violators_are_the_smallest_set_of_largest_deficiency(graph) -> None:
    n_top, n_bottom, edges = graph
    top = np.array([t for t, _ in edges], np.int64)
    bottom = np.array([b for _, b in edges], np.int64)
    neighbours = [{b for t, b in edges if t == node} for node in range(n_top)]

    def reach(members) -> set[int]:
        return set().union(*(neighbours[t] for t in members))

    subsets = [s for size in range(n_top + 1) for s in itertools.combinations(range(n_top), size)]
    deficiency = max(len(s) - len(reach(s)) for s in subsets)
    pieces = hall_violators(n_top, n_bottom, top, bottom)
    assert (pieces == []) == (deficiency == 0)
    members = [t for piece, _ in pieces for t in piece.tolist()]
    assert len(members) == len(set(members))  # disjoint
    for piece, their_neighbours in pieces:
        assert piece.tolist() == sorted(piece.tolist()) and their_neighbours.tolist() == sorted(reach(piece.tolist()))
        assert len(their_neighbours) < len(piece)
    assert [piece[0] for piece, _ in pieces] == sorted(piece[0] for piece, _ in pieces)
    assert sum(len(piece) - len(their_neighbours) for piece, their_neighbours in pieces) == deficiency
    # every set of largest deficiency holds them all
    assert all(set(members) <= set(s) for s in subsets if deficiency and len(s) - len(reach(s)) == deficiency)


# ---- hypothesis: removing qualified cadres or volunteers --------------------------------------


@st.composite
def thinned(draw) -> pe.Scenario:
    """A random scenario whose posts must all be filled, minus some cadres who qualify for a restricted post."""
    base = draw(scenarios(budgets=False, relay_rule=False))
    tables = {name: frame.copy() for name, frame in base.tables.items()}
    cadres = tables["cadres"]
    qualified = cadres.loc[(cadres["rank"] != "staff") | cadres["cross_province_ok"], "cadre_id"].tolist()
    assume(qualified)
    gone = draw(st.lists(st.sampled_from(qualified), min_size=1, unique=True))
    for name in ("cadres", "preferences", "pins", "pair_scores"):
        if name in tables:
            tables[name] = tables[name][~tables[name]["cadre_id"].isin(gone)]
    assume(len(tables["cadres"]) > 0)
    policy = base.policy.override({"rules": {"fill_every_post": True}})
    return pe.scenario_from_tables(tables, policy, name="thinned")


@settings(max_examples=40)
@given(thinned())
def test_a_reported_deficient_set_is_truly_deficient(scenario: pe.Scenario) -> None:
    ref = Reference(scenario)
    assume(not meets_hard_rules(ref))
    conflicts = diagnosis_of(scenario)["conflicts"]
    assert conflicts
    capacity = {p: int(r.capacity) for p, r in ref.posts.items()}
    for conflict in conflicts:
        assert conflict["seats"] == sum(capacity[p] for p in conflict["posts"])
        if conflict["kind"] == "cadres_short_of_seats":
            # N(S): every post some member may take; all members must be placed
            members = conflict["cadres"]
            assert all(ref.must_place(c) for c in members)
            neighbours = {p for c in members for p in ref.post_ids if ref.allowed(c, p)}
            assert neighbours == set(conflict["posts"])
            assert sum(capacity[p] for p in neighbours) < len(members)
        else:
            # N(T): every cadre who may take some post of the set; every seat must be filled
            neighbours = {c for c in ref.cadre_ids for p in conflict["posts"] if ref.allowed(c, p)}
            assert neighbours == set(conflict["cadres"])
            assert len(neighbours) < conflict["seats"]


# ---- budgets that could each be met alone ----------------------------------------------------


def test_budgets_short_only_together_name_each_other_whatever_the_order() -> None:
    # c3 is pinned to the Jinan post, so sdu's and sdut's cadres share the Zibo and Yantai posts; each
    # budget allows Zibo only (the Yantai post costs both more): either could be met alone, not both
    def scenario(order):
        base = make_scenario(
            ("P370124", "P370303", "P370602"),
            [{"university_id": "sdu"}, {"university_id": "sdut"}, {"university_id": "ouc"}],
            universities=order,
            pins=[("c3", "P370124", "pin")],
        )
        costs = scored(base, {"c1": "P370303", "c2": "P370303"})["annual_cost_yuan"].tolist()
        return with_budgets(base, {"sdu": costs[0], "sdut": costs[1]})

    diagnoses = [diagnosis_of(scenario(order)) for order in (["sdu", "sdut", "ouc"], ["ouc", "sdut", "sdu"])]
    assert diagnoses[0]["conflicts"] == diagnoses[1]["conflicts"]
    [conflict] = diagnoses[0]["conflicts"]
    assert [a["constraint"] for a in conflict["alternatives"]] == ["budget of sdu", "budget of sdut"]
    assert all(a["least_needed_alone"] <= a["limit"] and a["least_short_by"] > 0 for a in conflict["alternatives"])
    assert conflict["message"].startswith("One of these budgets must give way, any one of them")
