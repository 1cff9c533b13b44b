"""Allowed pairs: province blocks, volunteers, and the optional pairings table."""

from __future__ import annotations

import numpy as np
import pandas as pd

import placement_engine as pe
from placement_engine.rules import allowed_pairs

# Two sending provinces (Shandong, Jiangsu) and two receiving ones (Qinghai, Xinjiang).
POSTS = pd.DataFrame(
    {
        "post_id": ["P370102", "P320102", "P632524", "P650102"],
        "adcode": ["370102", "320102", "632524", "650102"],
        "name": ["历下区", "玄武区", "兴海县", "天山区"],
        "prefecture": ["370100", "320100", "632500", "650100"],
        "province": ["370000", "320000", "630000", "650000"],
        "lon": [117.08, 118.80, 99.99, 87.62],
        "lat": [36.67, 32.05, 35.59, 43.79],
        "capacity": 1,
        "min_rank": "staff",
    }
)
UNIVERSITIES = pd.DataFrame(
    {"university_id": ["sdu", "nju"], "name": ["山东大学", "南京大学"], "adcode": ["370112", "320106"], "lon": [117.07, 118.77], "lat": [36.68, 32.06]}
)
CADRES = pd.DataFrame(
    {"cadre_id": ["sdu-1", "sdu-2", "nju-1"], "university_id": ["sdu", "sdu", "nju"], "rank": "section", "cross_province_ok": [True, False, True]}
)
EMPTY = {
    "preferences": pd.DataFrame({"cadre_id": [], "choice": [], "target": []}),
    "partnerships": pd.DataFrame({"university_id": [], "target": []}),
    "history": pd.DataFrame({"batch": [], "university_id": [], "post_id": []}),
}
POLICY = {"rules": {"place_every_cadre": False}, "factors": {"proximity": {}}}


def pairs_of(tables: dict) -> set[tuple[str, str]]:
    scenario = pe.scenario_from_tables(tables, POLICY)
    pairs = allowed_pairs(scenario.instance, scenario.policy)
    inst = scenario.instance
    return set(zip(inst.cadre_id[pairs.cadre], inst.post_id[pairs.post]))


def test_without_pairings_volunteers_may_go_to_any_other_province():
    tables = {"posts": POSTS, "universities": UNIVERSITIES, "cadres": CADRES, **EMPTY}
    assert pairs_of(tables) == {
        ("sdu-1", "P370102"), ("sdu-1", "P320102"), ("sdu-1", "P632524"), ("sdu-1", "P650102"),
        ("sdu-2", "P370102"),
        ("nju-1", "P320102"), ("nju-1", "P370102"), ("nju-1", "P632524"), ("nju-1", "P650102"),
    }  # fmt: skip


def test_pairings_restrict_volunteers_to_their_paired_provinces():
    pairings = pd.DataFrame({"from_province": ["370000", "320000"], "to_province": ["630000", "650000"]})
    tables = {"posts": POSTS, "universities": UNIVERSITIES, "cadres": CADRES, "pairings": pairings, **EMPTY}
    assert pairs_of(tables) == {
        ("sdu-1", "P370102"), ("sdu-1", "P632524"),
        ("sdu-2", "P370102"),
        ("nju-1", "P320102"), ("nju-1", "P650102"),
    }  # fmt: skip


def test_check_flags_a_posting_to_an_unpaired_province():
    pairings = pd.DataFrame({"from_province": ["370000"], "to_province": ["630000"]})
    tables = {"posts": POSTS, "universities": UNIVERSITIES, "cadres": CADRES, "pairings": pairings, **EMPTY}
    scenario = pe.scenario_from_tables(tables, POLICY)
    allocation = pe.solve(scenario)
    table = allocation.table.copy()
    table.loc[table["cadre_id"] == "sdu-1", "post_id"] = "P650102"
    report = pe.check_allocation(scenario, table)
    assert any("sdu-1 -> P650102" in v and "pairings" in v for v in report.violations)


def test_pairings_referring_to_unknown_provinces_are_input_errors():
    pairings = pd.DataFrame({"from_province": ["630000"], "to_province": ["440000"]})
    tables = {"posts": POSTS, "universities": UNIVERSITIES, "cadres": CADRES, "pairings": pairings, **EMPTY}
    try:
        pe.scenario_from_tables(tables, POLICY)
    except pe.InputError as error:
        messages = [str(p) for p in error.problems]
    else:
        raise AssertionError("expected an InputError")
    assert messages == [
        "pairings row 2, column from_province: expected the province code of a university in universities; got '630000'",
        "pairings row 2, column to_province: expected the province code of a post in posts; got '440000'",
    ]


def test_pair_arrays_are_sorted_by_cadre_then_post():
    tables = {"posts": POSTS, "universities": UNIVERSITIES, "cadres": CADRES, **EMPTY}
    scenario = pe.scenario_from_tables(tables, POLICY)
    pairs = allowed_pairs(scenario.instance, scenario.policy)
    keys = pairs.cadre.astype(np.int64) * 10 + pairs.post
    assert (np.diff(keys) > 0).all()
