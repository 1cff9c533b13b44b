"""Pareto fronts: each point is the brute-force optimum for its epsilon, and no point dominates another.

The brute force enumerates every allocation of tiny scenarios with the tests' own
reference scores (tests/factories.py), rounds each pair's score the way the front
states it does (``front.attrs["scale"]``), and keeps only the allocations that meet
every hard rule, every budget and, with relay as a rule, the most relay postings.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.runner import SolveOptions, Workbench, integer_scale
from placement_engine.runner.fronts import _FrontSolver, _nondominated
from tests.factories import POSTS, QINGHAI_POST, RANKS, Reference, distance_km, make_scenario

OBJECTIVES = [
    ("preferences", "proximity"),
    ("preferences", "cost"),
    ("cost", "preferences"),
    ("partnership", "rank_fit"),
]


def front_values(ref: Reference, a: str, b: str, scale: dict[str, int]) -> set[tuple[int, int]]:
    """(a, b) integer totals of every allocation that meets the hard rules and budgets; with relay
    as a rule, of those keeping the most relay postings."""
    options = [[*(p for p in ref.post_ids if ref.allowed(c, p)), *([] if ref.must_place(c) else [None])] for c in ref.cadre_ids]
    pairs = {(c, p) for c, posts in zip(ref.cadre_ids, options) for p in posts if p is not None}
    raw = {pair: ref.raw_scores(*pair) for pair in pairs}
    value = {pair: (int(np.rint(scale[a] * raw[pair][a])), int(np.rint(scale[b] * raw[pair][b]))) for pair in pairs}
    limits = ref.budget_rows()
    price = {pair: ref.annual_cost(*pair, ref.factors["cost"]) for pair in pairs} if limits else {}
    relay = ref.factors.get("relay")
    rule = relay is not None and relay.mode == "rule"
    found: dict[tuple[int, int], int] = {}  # (a, b) -> most relay postings kept with it
    for combination in itertools.product(*options):
        placed = [(c, p) for c, p in zip(ref.cadre_ids, combination) if p is not None]
        load = Counter(p for _, p in placed)
        if any(load[p] > ref.posts[p].capacity for p in load):
            continue
        if ref.policy.rules.fill_every_post and any(load[p] < ref.posts[p].capacity for p in ref.post_ids):
            continue
        spent = Counter()
        for pair in placed:
            spent[ref.cadres[pair[0]].university_id] += price.get(pair, 0)
        if any(spent[u] > limit for u, limit in limits.items()):
            continue
        point = (sum(value[pair][0] for pair in placed), sum(value[pair][1] for pair in placed))
        kept = sum(ref.is_relay(*pair) for pair in placed) if rule else 0
        found[point] = max(found.get(point, kept), kept)
    most = max(found.values(), default=0)
    return {point for point, kept in found.items() if kept == most}


@st.composite
def tradeoffs(draw) -> pe.Scenario:
    """3-4 cadres of three Shandong universities, 4-6 posts, 1-3 wishes each; budgets and relay as a
    rule now and then. Small enough to enumerate, rich enough for fronts of several points."""
    shandong = sorted(p for p in POSTS if p != QINGHAI_POST)
    posts = draw(st.lists(st.sampled_from(shandong), min_size=4, max_size=5, unique=True))
    posts += draw(st.sampled_from([[], [QINGHAI_POST]]))
    unis = ["sdu", "sdut", "ouc"]
    n_cadres = draw(st.integers(3, 4))
    cadres = [
        {"university_id": draw(st.sampled_from(unis)), "rank": draw(st.sampled_from(RANKS)), "cross_province_ok": draw(st.booleans())}
        for _ in range(n_cadres)
    ]
    cadre_ids = [f"c{i + 1}" for i in range(n_cadres)]
    wishes = {c: draw(st.lists(st.sampled_from(posts), min_size=1, max_size=3, unique=True)) for c in cadre_ids}
    pair = (st.sampled_from(cadre_ids), st.sampled_from(posts))
    budget = draw(st.sampled_from([None, None, 9_000, 14_000, 30_000]))
    sent = Counter(c["university_id"] for c in cadres)
    policy = {
        "rules": {"rank": draw(st.sampled_from([False, False, True]))},
        "factors": {
            "preferences": {"points": [100, 70, 40]},
            "proximity": {},
            "cost": {"budget": budget is not None},
            "partnership": {"prefecture_share": 0.5},
            "rank_fit": {},
            "relay": {"mode": draw(st.sampled_from(["soft", "rule"]))},
            "pair_scores": {},
        },
    }
    return make_scenario(
        [{"post_id": p, "min_rank": draw(st.sampled_from(["staff", "section"]))} for p in posts],
        cadres,
        universities=unis,
        budgets={u: budget * sent[u] for u in sent} if budget is not None else None,
        wishes=wishes,
        partnerships=draw(st.lists(st.tuples(st.sampled_from(unis), st.sampled_from(posts)), max_size=2, unique=True)),
        history=draw(st.lists(st.tuples(st.just(1), st.sampled_from(unis), st.sampled_from(posts)), max_size=2)),
        pair_scores=draw(st.lists(st.tuples(*pair, st.integers(-30, 30)), max_size=3, unique_by=lambda t: t[:2])),
        policy=policy,
    )


def dominates(p: tuple[int, int], q: tuple[int, int]) -> bool:
    return p[0] >= q[0] and p[1] >= q[1] and p != q


@settings(max_examples=45)
@given(tradeoffs(), st.sampled_from(OBJECTIVES), st.integers(2, 6))
def test_each_point_is_the_brute_force_optimum_for_its_epsilon(scenario, objectives, points):
    a, b = objectives
    scenario = scenario.with_policy(factors={a: {}, b: {}})  # both on, whatever else the policy has
    front = pe.pareto(scenario, a, b, points)
    scale = front.attrs.get("scale", dict.fromkeys((a, b), 1))
    values = front_values(Reference(scenario), a, b, scale)
    if not values:
        assert set(front["status"]) == {"INFEASIBLE"}
        event("infeasible")
        return
    assert (front["status"] == "OPTIMAL").all()  # tiny instances are proven
    assert 1 <= len(front) <= points
    found = [(round(row[a] * scale[a]), round(row[b] * scale[b])) for _, row in front.iterrows()]
    for (_, row), point in zip(front.iterrows(), found):
        assert point in values  # some allocation meeting every rule has it
        assert not any(dominates(other, point) for other in values)  # and none beats it
        if row["maximised"] == a:
            epsilon = -math.inf if pd.isna(row["epsilon"]) else round(row["epsilon"] * scale[b])
            best_a = max(va for va, vb in values if vb >= epsilon)
            best_b = max(vb for va, vb in values if vb >= epsilon and va == best_a)
            assert point == (best_a, best_b)
        else:
            best_b = max(vb for _, vb in values)
            assert point == (max(va for va, vb in values if vb == best_b), best_b)
        assert row["gap"] == 0 and row["bound"] * scale[row["maximised"]] == pytest.approx(point[row["maximised"] == b])
    assert not any(dominates(p, q) for p, q in itertools.permutations(found, 2))
    # the ends of the front are the extremes
    assert found[-1][1] == max(vb for _, vb in values) and max(p[0] for p in found) == max(va for va, _ in values)
    assert [p[1] for p in found] == sorted(p[1] for p in found)
    event(f"{len(front)} points")


@settings(max_examples=40)
@given(tradeoffs(), st.sampled_from(OBJECTIVES), st.integers(1, 1000))
def test_every_epsilon_solve_is_the_brute_force_lexicographic_optimum(scenario, objectives, which):
    # the epsilon solves themselves, before the front drops the points it already has
    a, b = objectives
    try:
        solver = _FrontSolver(scenario, a, b, SolveOptions(), Workbench(), None)
    except pe.InfeasibleError:
        assert not front_values(Reference(scenario), a, b, dict.fromkeys((a, b), 1))
        return
    first, second = solver.first, solver.second
    values = front_values(Reference(scenario), a, b, {a: first.scale, b: second.scale})
    if not values:
        return
    reachable = sorted({vb for _, vb in values})  # the epsilons at which the answer can change
    epsilon = reachable[which % len(reachable)]
    row = solver.point(first, second, epsilon)
    best_a = max(va for va, vb in values if vb >= epsilon)
    best_b = max(vb for va, vb in values if vb >= epsilon and va == best_a)
    assert row["status"] == "OPTIMAL" and row["gap"] == 0
    assert (round(row[a] * first.scale), round(row[b] * second.scale)) == (best_a, best_b)
    assert row["epsilon"] * second.scale == pytest.approx(epsilon)
    event("epsilon binds" if epsilon > reachable[0] else "epsilon loose")


def test_a_two_point_front_by_hand():
    # Two cadres, from Jinan (sdu) and Qingdao (ouc), each wishing for the other's city: meeting
    # both wishes costs the long trips; staying home costs both wishes. Nothing lies between.
    scenario = make_scenario(
        ("P370102", "P370202"),
        [{"university_id": "sdu"}, {"university_id": "ouc"}],
        wishes={"c1": ["P370202"], "c2": ["P370102"]},
        policy={"factors": {"preferences": {"weight": 1}, "proximity": {"weight": 0.05}}},
    )
    front = pe.pareto(scenario, "preferences", "proximity", points=5)
    far = distance_km("sdu", "P370202") + distance_km("ouc", "P370102")
    near = distance_km("sdu", "P370102") + distance_km("ouc", "P370202")
    assert front["preferences"].tolist() == [200.0, 0.0]
    assert front["raw_proximity"].tolist() == pytest.approx([-far, -near])
    assert front["proximity"].tolist() == pytest.approx([-far, -near], abs=2 * 0.05)  # 0.1 km rounding
    assert front.attrs["scale"] == {"preferences": 1, "proximity": 10}
    assert (front["status"] == "OPTIMAL").all() and front["maximised"].tolist() == ["preferences", "proximity"]


def test_integer_scales_are_exact_when_they_can_be():
    assert integer_scale(np.array([100.0, 80.0, 0.0])) == 1
    assert integer_scale(np.array([1.0, 0.5, 0.0])) == 10
    assert integer_scale(np.array([-3600.0, -23600.0])) == 1
    assert integer_scale(np.array([0.125])) == 1000
    assert integer_scale(np.array([-253.87637549])) == 10  # km: rounded to 0.1 km


def test_dominated_repeated_and_failed_points_are_sorted_out():
    points = pd.DataFrame(
        {
            "status": ["OPTIMAL", "OPTIMAL", "FEASIBLE", "OPTIMAL", "UNKNOWN", "OPTIMAL"],
            "a": [10.0, 8.0, 8.0, 9.0, np.nan, 5.0],
            "b": [-5.0, -2.0, -2.0, -6.0, np.nan, -1.0],
        }
    )
    front = _nondominated(points, "a", "b")
    assert front["status"].tolist() == ["OPTIMAL", "OPTIMAL", "OPTIMAL", "UNKNOWN"]
    assert front["a"].tolist()[:3] == [10.0, 8.0, 5.0] and front["b"].tolist()[:3] == [-5.0, -2.0, -1.0]


def test_relay_as_a_rule_holds_on_every_point():
    # c1 holds a relay post of sdu; a rule keeps it even where wishes or distance pull elsewhere
    scenario = make_scenario(
        ("P370124", "P370303"),
        [{}],
        history=[(1, "sdu", "P370303")],
        wishes={"c1": ["P370124"]},
        policy={"factors": {"preferences": {"weight": 1}, "proximity": {"weight": 0.05}, "relay": {"weight": 1, "mode": "rule"}}},
    )
    front = pe.pareto(scenario, "preferences", "proximity", points=3)
    assert len(front) == 1 and front["relay_kept"].tolist() == [1] and front["preferences"].tolist() == [0.0]
