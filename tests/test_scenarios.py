"""The shipped scenarios: reproducible, valid, and behaving as their comments say."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import placement_engine as pe

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_scenarios_rebuilds_the_committed_tables(tmp_path):
    for folder in ("scenarios", "models"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("data"))
    _load_tool("make_scenarios").main(["--root", str(tmp_path)])
    for batch in ("shandong-2011", "shandong-2012"):
        built = tmp_path / "scenarios" / "data" / batch
        shipped = SCENARIOS / "data" / batch
        names = sorted(p.name for p in shipped.glob("*.csv"))
        assert names == sorted(p.name for p in built.glob("*.csv"))
        _, mismatch, errors = filecmp.cmpfiles(shipped, built, names, shallow=False)
        assert mismatch == [] and errors == []


def test_default_scenario_matches_the_bulletin():
    scenario = pe.load_scenario(SCENARIOS / "shandong-2011.yaml")
    posts, cadres = scenario.tables["posts"], scenario.tables["cadres"]
    assert len(cadres) == 156 and posts["capacity"].sum() == 156
    assert (posts["province"] == "370000").sum() == 140
    qinghai = posts[posts["province"] == "630000"]
    assert len(qinghai) == 16 and {"632524", "632128"} <= set(qinghai["adcode"])
    senior_posts = posts[posts["min_rank"] == "deputy_division"]
    assert len(senior_posts) == 14 and set(senior_posts["prefecture"]) == {"370100", "370200"}
    assert (cadres["rank"] == "deputy_division").sum() == 14
    assert cadres["cross_province_ok"].sum() >= 16


def test_default_scenario_solves_to_a_proven_optimum_that_checks():
    allocation = pe.solve(SCENARIOS / "shandong-2011.yaml")
    assert allocation.status == "OPTIMAL" and allocation.summary["proof"] == "flow duality"
    assert allocation.check().ok
    senior = allocation.table[allocation.table["min_rank"] == "deputy_division"]
    assert (senior["rank"] == "deputy_division").all()


def test_cli_solve_is_byte_reproducible_and_checks(tmp_path):
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        command = [sys.executable, "-m", "placement_engine", "solve", str(SCENARIOS / "shandong-2011.yaml"), "--out", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "OPTIMAL" in result.stdout
        outputs.append((out / "allocation.csv").read_bytes())
    assert outputs[0] == outputs[1]
    checked = subprocess.run([sys.executable, "-m", "placement_engine", "check", str(tmp_path / "a")], capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.startswith("check: OK")
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    manifest = summary["manifest"]
    assert set(manifest["inputs_sha256"]) >= {"scenario", "policy", "posts", "cadres"}
    assert manifest["seed"] == 2011 and manifest["versions"]["ortools"]


def test_relay_as_a_rule_binds_and_reports_what_it_lost():
    rule = pe.solve(SCENARIOS / "shandong-2012-relay.yaml")
    assert rule.status == "OPTIMAL" and rule.check().ok
    kept = rule.summary["lexicographic"]["relay postings kept"]
    targets = rule.metrics["relay_targets"]
    assert 0 < kept < targets
    assert len(rule.summary["relay_lost"]) == targets - rule.metrics["relay_kept"]
    assert all(item["reason"] for item in rule.summary["relay_lost"])
    soft = pe.solve(rule.scenario.with_policy(factors={"relay": {"mode": "soft"}}))
    assert soft.metrics["relay_kept"] < kept
    assert soft.objective > rule.objective


@pytest.mark.parametrize("scale, binding", [(1.0, True), (5.0, False)])
def test_budgets_bind_on_the_shipped_budget_scenario(scale, binding):
    scenario = pe.load_scenario(SCENARIOS / "shandong-2011-budget.yaml")
    allocation = pe.solve(scenario.with_policy(factors={"cost": {"budget_scale": scale}}), time_limit=5)  # any allocation within the budgets will do
    assert allocation.status in ("OPTIMAL", "FEASIBLE") and allocation.check().ok
    rows = allocation.summary["side_constraints"]["cost"]
    assert all(row["value"] <= row["limit"] for row in rows)
    unconstrained = pe.solve(scenario.with_policy(factors={"cost": {"budget": False}}))
    if binding:
        assert allocation.objective < unconstrained.objective
        assert allocation.metrics["total_annual_cost_yuan"] < unconstrained.metrics["total_annual_cost_yuan"]
    else:
        assert allocation.objective == pytest.approx(unconstrained.objective)
