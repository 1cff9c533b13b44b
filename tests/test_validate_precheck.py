"""``validate`` runs the counting pre-check: exit 3 with the sentences ``solve`` prints, else exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

import placement_engine as pe
from placement_engine.cli import main
from placement_engine.solve.feasibility import precheck

REPO = Path(__file__).resolve().parents[1]
INFEASIBLE = REPO / "scenarios" / "infeasible"
COUNTING = ["pin-clash", "rank-jinan-qingdao", "qinghai-volunteers"]
BEYOND_COUNTING = ["budget-short", "swap-rule-budget"]  # side constraints: only a solve finds them
SHIPPED = sorted(REPO.glob("scenarios/*.yaml")) + [Path(__file__).parent / "fixtures" / "tiny" / "scenario.yaml"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", COUNTING)
def test_validate_exits_3_with_the_diagnosis_solve_prints(capsys, tmp_path: Path, name: str) -> None:
    path = INFEASIBLE / f"{name}.yaml"
    code, out, err = run(capsys, "solve", path, "--out", tmp_path, "--quiet")
    assert code == 3
    said = err.removeprefix("infeasible: ").split("\ndiagnosis written to")[0]
    assert said.startswith("no allocation meets the hard rules:\n  - ")

    code, out, err = run(capsys, "validate", path)
    assert (code, err) == (3, "")
    assert out.startswith(f"scenario {pe.load_scenario(path).name}: valid input, but infeasible by counting\n")
    assert "\n\n" + said + "\n" in out  # warnings about wishes that can never count may follow


def test_a_pin_clash_is_found_without_solving(capsys) -> None:
    scenario = pe.load_scenario(INFEASIBLE / "pin-clash.yaml")
    [conflict] = precheck(scenario.instance, scenario.policy)
    assert (conflict["kind"], conflict["cadres"], conflict["posts"], conflict["shortfall"]) == (
        "cadres_short_of_seats",
        ["sdnu-01", "sdu-01"],
        ["P370124"],
        1,
    )
    code, out, _ = run(capsys, "validate", INFEASIBLE / "pin-clash.yaml")
    assert code == 3
    assert f"  - {conflict['message']}\n" in out
    assert conflict["message"].startswith("P370124 平阴县 is pinned to 2 cadres (sdnu-01, sdu-01) but has 1 seat.")


@pytest.mark.parametrize("name", BEYOND_COUNTING)
def test_side_constraints_are_left_to_solve(capsys, name: str) -> None:
    code, out, _ = run(capsys, "validate", INFEASIBLE / f"{name}.yaml")
    assert code == 0
    assert "no allocation meets the hard rules" not in out


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem if path.stem != "scenario" else path.parent.name)
def test_shipped_valid_scenarios_still_exit_0(capsys, path: Path) -> None:
    code, out, err = run(capsys, "validate", path)
    assert (code, err) == (0, "")
    assert out.startswith(f"scenario {pe.load_scenario(path).name}: valid\n")
    assert "no allocation meets the hard rules" not in out
