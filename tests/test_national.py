"""The national scenario: reproducible, as its comments describe it, and solved to a checked optimum."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import placement_engine as pe
from placement_engine import data

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "national-2011.yaml"
FOLDER = ROOT / "scenarios" / "data" / "national-2011"


def _make_national():
    spec = importlib.util.spec_from_file_location("make_national", ROOT / "tools" / "make_national.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scenario() -> pe.Scenario:
    return pe.load_scenario(SCENARIO)


def test_make_national_rebuilds_the_committed_tables(tmp_path):
    for folder in ("scenarios", "models"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("data"))
    _make_national().main(["--root", str(tmp_path)])
    built = tmp_path / "scenarios" / "data" / "national-2011"
    names = sorted(p.name for p in FOLDER.glob("*.csv"))
    assert names == sorted(p.name for p in built.glob("*.csv"))
    _, mismatch, errors = filecmp.cmpfiles(FOLDER, built, names, shallow=False)
    assert mismatch == [] and errors == []


def test_posts_are_every_county_government_with_the_sub_provincial_rank_rule(scenario):
    posts = scenario.tables["posts"]
    units = data.counties()
    assert set(posts["adcode"]) == set(units.loc[units["kind"] != "island_area", "adcode"])
    assert len(posts) == 2842 and (posts["capacity"] == 1).all()
    senior = posts[posts["min_rank"] == "deputy_division"]
    assert set(senior["prefecture"]) == set(_make_national().SUB_PROVINCIAL) and (senior["kind"] == "district").all()
    assert len(senior) == 126


def test_every_province_sends_about_as_many_cadres_as_it_has_posts(scenario):
    cadres = scenario.tables["cadres"].merge(scenario.tables["universities"][["university_id", "province"]])
    sent = cadres.groupby("province").size()
    posts = scenario.tables["posts"].groupby("province").size()
    assert 2850 <= len(cadres) <= 2950 and sent.index.equals(posts.index)
    assert ((sent - posts).abs() <= 0.4 * posts + 2).all()
    senior_posts = (scenario.tables["posts"]["min_rank"] == "deputy_division").groupby(scenario.tables["posts"]["province"]).sum()
    senior_cadres = (cadres["rank"] == "deputy_division").groupby(cadres["province"]).sum().reindex(posts.index, fill_value=0)
    assert (senior_cadres >= senior_posts).all()
    volunteers = set(cadres.loc[cadres["cross_province_ok"], "province"])
    assert volunteers <= set(scenario.tables["pairings"]["from_province"])
    shandong = scenario.tables["universities"]["confidence"] != "synthetic"
    assert set(scenario.tables["universities"].loc[shandong, "province"]) == {"370000"}


def test_the_command_line_solves_it_to_a_proven_optimum_that_checks_and_keeps_the_pairings(tmp_path):
    out = tmp_path / "national"
    solve = [sys.executable, "-m", "placement_engine", "solve", str(SCENARIO), "--out", str(out), "--quiet"]
    assert subprocess.run(solve, capture_output=True, text=True).returncode == 0
    checked = subprocess.run([sys.executable, "-m", "placement_engine", "check", str(out)], capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.startswith("check: OK")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "OPTIMAL" and summary["proof"] == "flow duality"
    assert summary["metrics"]["assigned"] == 2842 and summary["metrics"]["unassigned"] == 2897 - 2842

    table = pd.read_csv(out / "allocation.csv", dtype=str, keep_default_na=False)
    unis = pd.read_csv(FOLDER / "universities.csv", dtype=str)
    campus = unis[["university_id", "adcode"]].rename(columns={"adcode": "campus"})
    placed = table[table["post_id"] != ""].merge(campus, on="university_id")
    home = placed["campus"].str[:2] + "0000"
    crossing = placed[home != placed["province"]].assign(home=home)
    pairings = pd.read_csv(FOLDER / "pairings.csv", dtype=str)
    paired = set(zip(pairings["from_province"], pairings["to_province"]))
    assert len(crossing) > 100 and (crossing["cross_province_ok"] == "True").all()
    assert set(zip(crossing["home"], crossing["province"])) <= paired
