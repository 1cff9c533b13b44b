"""Every exit code of validate, solve, check, explain and audit (docs/cli.md).

Internal errors (1) and interruptions (130) in-process are provoked by replacing
one function the command calls with one that raises; the real Ctrl-C path is
tested end to end with a signal sent to a solving process.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import placement_engine as pe
from placement_engine import allocation
from placement_engine.cli import main
from placement_engine.reports import audit, check
from placement_engine.reports import terminal as report
from placement_engine.reports.explain import Explainer

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny" / "scenario.yaml"
BUDGET = REPO / "scenarios" / "shandong-2011-budget.yaml"
INFEASIBLE = REPO / "scenarios" / "infeasible" / "budget-short.yaml"


def boom(*args, **kwargs):
    raise RuntimeError("boom")


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(TINY.parent, folder)
    (folder / "history.csv").unlink()
    return folder / "scenario.yaml"


@pytest.fixture
def no_hint(tmp_path: Path) -> Path:
    """The budget scenario without the relaxation's hint: CP-SAT finds nothing in 0.1 s (it needs seconds to presolve)."""
    data = REPO / "scenarios" / "data" / "shandong-2011"
    tables = {name: str(data / f"{name}.csv") for name in ("posts", "cadres", "universities", "preferences", "partnerships", "history")}
    spec = {
        "name": "no-hint",
        "policy": str(REPO / "models" / "bulletin-2011.yaml"),
        "policy_overrides": {"factors": {"cost": {"budget": True}}, "solver": {"use_relaxation": False}},
        "tables": tables,
    }
    path = tmp_path / "no-hint.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("solved") / "tiny"
    assert main(["solve", str(TINY), "--out", str(out), "--quiet"]) == 0
    return out


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_internal(capsys, monkeypatch, target: tuple, *argv) -> None:
    """``target``: (module or class, attribute) that the command calls."""
    monkeypatch.setattr(*target, boom)
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err == "internal error: RuntimeError: boom (run with --debug for the traceback)\n"
    code, _, err = run(capsys, *argv, "--debug")
    assert code == 1 and "Traceback (most recent call last)" in err and "RuntimeError: boom" in err


def assert_interrupted(capsys, monkeypatch, target: tuple, *argv) -> None:
    monkeypatch.setattr(*target, interrupt)
    code, _, err = run(capsys, *argv)
    assert (code, err) == (130, "interrupted\n")


# ---- validate ---------------------------------------------------------------------------------


def test_validate_exit_codes(capsys, monkeypatch, broken: Path) -> None:
    assert run(capsys, "validate", TINY)[0] == 0
    code, _, err = run(capsys, "validate", broken)
    assert code == 2 and "history.csv: expected an existing file; got no such file" in err
    assert_internal(capsys, monkeypatch, (report, "describe_scenario"), "validate", TINY)
    assert_interrupted(capsys, monkeypatch, (report, "describe_scenario"), "validate", TINY)


# ---- solve ------------------------------------------------------------------------------------


def test_solve_exits_0_and_writes_the_audit(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "solve", TINY, "--out", tmp_path)
    assert code == 0
    assert re.search(r"^audit\s+\d+ improving swaps, \d+ cadres with justified envy; universities worse off: ", out, re.M)
    assert {"allocation.csv", "summary.json", "audit.json", "audit.csv", "inputs"} <= {p.name for p in tmp_path.iterdir()}
    assert "audit" in pe.io.read_json(tmp_path / "summary.json")


def test_solve_time_limit_with_an_allocation_exits_0_feasible_with_the_gap(capsys, tmp_path: Path) -> None:
    # the budget scenario needs about 25 s to prove its optimum; 2 s leave the relaxation's allocation or better
    code, out, _ = run(capsys, "solve", BUDGET, "--out", tmp_path, "--time-limit", 2)
    assert code == 0
    summary = pe.io.read_json(tmp_path / "summary.json")
    assert summary["status"] == "FEASIBLE" and summary["gap"] > 0 and not summary["interrupted"]
    assert re.search(r"^status\s+FEASIBLE \(not proven optimal\)$", out, re.M)
    assert re.search(r"^gap\s+[1-9][\d.]*%$|^gap\s+0\.\d*[1-9]\d*%$", out, re.M)
    assert pe.check_output_dir(tmp_path).ok


def test_solve_internal_error_and_invalid_input(capsys, monkeypatch, tmp_path: Path, broken: Path) -> None:
    code, out, err = run(capsys, "solve", broken, "--out", tmp_path / "out")
    assert (code, out) == (2, "") and err.startswith("error: 1 problem in the input:")
    assert_internal(capsys, monkeypatch, (allocation, "allocation_table"), "solve", TINY, "--out", tmp_path / "out", "--quiet")


def test_solve_refuses_to_replace_a_folder_of_other_files_before_solving(capsys, monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setattr(allocation, "allocation_table", boom)  # never reached
    code, out, err = run(capsys, "solve", TINY, "--out", tmp_path)
    assert (code, out) == (2, "")
    assert err == (
        f"error: 1 problem in the input:\n  - {tmp_path}: expected a new or empty folder, or an output folder of the "
        "engine (it is replaced as a whole); got a folder holding other files: notes.txt\n"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_solve_infeasible_exits_3_printing_and_writing_the_diagnosis(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "solve", INFEASIBLE, "--out", tmp_path)
    assert code == 3
    assert err.startswith("infeasible: no allocation meets the hard rules:\n  - University sdu's budget is short by 2,200 yuan")
    assert f"diagnosis written to {tmp_path / 'diagnosis.json'}" in err
    diagnosis = pe.io.read_json(tmp_path / "diagnosis.json")
    assert diagnosis["conflicts"][0]["short_by"] == 2200
    assert not (tmp_path / "allocation.csv").exists()


def test_solve_without_any_allocation_in_time_exits_4(capsys, tmp_path: Path, no_hint: Path) -> None:
    code, out, err = run(capsys, "solve", no_hint, "--out", tmp_path / "out", "--time-limit", 0.01, "--quiet")
    assert (code, out) == (4, "")
    assert err.startswith("error: no feasible allocation found within the time limit (0.01 s wall clock, 0.01 work units; the ")
    assert not (tmp_path / "out" / "summary.json").exists()


def test_ctrl_c_stops_the_search_keeps_the_best_allocation_and_exits_130(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "placement_engine", "solve", str(BUDGET), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        first = process.stderr.readline()  # CP-SAT reports its first allocation; the proof takes ~25 s more
        # in points, as the summary's objective is (not CP-SAT's integer units)
        assert re.match(r"\s+[\d.]+ s\s+objective [\d,]+\.\d\d points, bound [\d,]+\.\d\d$", first), first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert re.search(r"interrupted: the best allocation found so far \(FEASIBLE, gap [\d.]+%\) is in ", err)
    assert "Traceback" not in err and re.search(r"^status\s+FEASIBLE", out, re.M)
    summary = pe.io.read_json(tmp_path / "summary.json")
    assert summary["status"] == "FEASIBLE" and summary["interrupted"] is True and summary["gap"] > 0
    assert pe.check_output_dir(tmp_path).ok


def test_solve_interrupted_outside_the_search_exits_130(capsys, monkeypatch, tmp_path: Path) -> None:
    assert_interrupted(capsys, monkeypatch, (allocation, "allocation_table"), "solve", TINY, "--out", tmp_path, "--quiet")


# ---- solver options on the command line -----------------------------------------------------

CHAIN = REPO / "scenarios" / "shandong-relay-chain.yaml"


def policy_file_problem(tmp_path: Path, key: str, value) -> pe.Problem:
    """What a policy file with ``solver: {key: value}`` is told."""
    path = tmp_path / "policy.yaml"
    text = (TINY.parent / "policy.yaml").read_text(encoding="utf-8")
    path.write_text(re.sub(r"^solver:.*$", f"solver: {{{key}: {value}}}", text, flags=re.M), encoding="utf-8")
    with pytest.raises(pe.InputError) as caught:
        pe.load_policy(path)
    [problem] = caught.value.problems
    assert problem.location == f"key solver.{key}"
    return problem


@pytest.mark.parametrize(
    ("option", "key", "value"),
    [
        ("--time-limit", "time_limit_s", -1),
        ("--time-limit", "time_limit_s", 0),
        ("--workers", "workers", -2),
        ("--workers", "workers", 0),
        ("--seed", "seed", -3),
    ],
)
@pytest.mark.parametrize(
    "command",
    [("solve", TINY), ("compare", TINY), ("chain", CHAIN), ("explain", TINY, "--all")],
    ids=lambda command: command[0],
)
def test_invalid_solver_options_exit_2_before_any_solve_as_the_policy_file_would(
    capsys, monkeypatch, tmp_path: Path, option: str, key: str, value: int, command: tuple
) -> None:
    from placement_engine import runner

    for target in [(allocation, "solve"), (runner, "compare"), (runner, "chain")]:
        monkeypatch.setattr(*target, boom)  # any solve would be an internal error
    expected = policy_file_problem(tmp_path, key, value)
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, *command, "--out", out_dir, option, value, "--quiet")
    assert (code, out) == (2, "")
    assert err == f"error: 1 problem in the input:\n  - command line {option}: expected {expected.expected}; got {expected.got}\n"
    assert not out_dir.exists()


def test_solver_overrides_merge_into_the_policy_and_name_every_bad_option() -> None:
    policy = pe.load_policy(TINY.parent / "policy.yaml")
    merged = pe.io.solver_overrides(policy, time_limit=2.5, workers=3, seed=9)
    assert (merged.solver.time_limit_s, merged.solver.workers, merged.solver.seed) == (2.5, 3, 9)
    assert pe.io.solver_overrides(policy) == policy
    with pytest.raises(pe.InputError) as caught:
        pe.io.solver_overrides(policy, time_limit=-1.0, workers=65)
    assert [str(p) for p in caught.value.problems] == [
        "command line --time-limit: expected a number greater than 0; got -1",
        "command line --workers: expected a number less than or equal to 64; got 65",
    ]


# ---- check ------------------------------------------------------------------------------------


def test_check_exit_codes(capsys, monkeypatch, tmp_path: Path, solved: Path) -> None:
    assert run(capsys, "check", solved)[0] == 0
    code, _, err = run(capsys, "check", tmp_path / "nothing")
    assert code == 2 and "allocation.csv: expected a file written by solve; got no such file" in err
    tampered = tmp_path / "tampered"
    shutil.copytree(solved, tampered)
    table = pe.io.read_csv(tampered / "allocation.csv")
    table.loc[0, "score_total"] = str(float(table.loc[0, "score_total"]) + 1)
    pe.io.write_csv(table, tampered / "allocation.csv")
    code, out, err = run(capsys, "check", tampered)
    assert (code, out) == (2, "")
    assert "run.json: expected every file of the folder written by one run; got allocation.csv changed since the run" in err
    # with run.json rewritten to match, the folder passes as one run: the rules and scores are checked
    record = pe.io.read_json(tampered / "run.json")
    record["files"]["allocation.csv"] = pe.io.sha256(tampered / "allocation.csv")
    pe.io.write_json(record, tampered / "run.json")
    code, out, _ = run(capsys, "check", tampered)
    assert code == 5 and "FAILED" in out and "score_total is" in out
    assert_internal(capsys, monkeypatch, (check, "check_allocation"), "check", solved)
    assert_interrupted(capsys, monkeypatch, (check, "check_allocation"), "check", solved)


# ---- explain ----------------------------------------------------------------------------------


def test_explain_exits_0_with_sentences_a_table_or_a_file(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "explain", TINY, "--cadre", "sdut-02", "--out", tmp_path)
    assert code == 0 and out.startswith("sdut-02 (sdut, deputy_section) is posted to ")
    code, out, _ = run(capsys, "explain", TINY, "--cadre", "sdut-02", "--table", "--out", tmp_path)
    assert code == 0 and out.split("\n")[0].split() == ["wish", "target_name", "status", "posts_open", "blocked_by", "granted_post", "holders", "holder_score", "price_points"]
    code, out, _ = run(capsys, "explain", TINY, "--all", "--out", tmp_path)
    assert code == 0 and out.startswith("explanations of ") and f"{tmp_path / 'explanations.csv'}" in out
    table = pe.io.read_csv(tmp_path / "explanations.csv")
    solved_table = pe.solve(TINY).table
    assert set(table["cadre_id"]) == set(solved_table.loc[solved_table["choice"].fillna(0) != 1, "cadre_id"])


def test_explain_invalid_input_exits_2(capsys, broken: Path) -> None:
    code, _, err = run(capsys, "explain", TINY, "--cadre", "nobody")
    assert code == 2 and err == "error: 1 problem in the input:\n  - command line --cadre: expected a cadre_id of the scenario; got 'nobody'\n"
    code, _, err = run(capsys, "explain", TINY)
    assert code == 2 and "expected --cadre ID, --least-satisfied N or --all; got none of them" in err
    assert run(capsys, "explain", broken, "--all")[0] == 2


def test_explain_infeasible_and_no_solution(capsys, tmp_path: Path, no_hint: Path) -> None:
    code, _, err = run(capsys, "explain", INFEASIBLE, "--all", "--out", tmp_path / "out")
    assert code == 3 and "University sdu's budget is short by 2,200 yuan" in err
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["diagnosis.json", "run.json"]
    code, _, err = run(capsys, "explain", no_hint, "--all", "--out", tmp_path / "out", "--time-limit", 0.01)
    assert code == 4 and err.startswith("error: no feasible allocation found within the time limit")


def test_explain_internal_error_and_interruptions(capsys, monkeypatch, tmp_path: Path) -> None:
    assert_internal(capsys, monkeypatch, (Explainer, "explain"), "explain", TINY, "--cadre", "sdu-01")
    assert_interrupted(capsys, monkeypatch, (Explainer, "explain"), "explain", TINY, "--cadre", "sdu-01")


def test_explain_interrupted_during_its_solve_writes_the_allocation_and_exits_130(capsys, monkeypatch, tmp_path: Path) -> None:
    real = allocation.solve

    def stopped(*args, **kwargs):
        # what a Ctrl-C inside CP-SAT leaves: the best allocation found, marked interrupted
        result = real(*args, **kwargs)
        result.summary["interrupted"] = True
        return result

    monkeypatch.setattr(allocation, "solve", stopped)
    code, out, err = run(capsys, "explain", TINY, "--all", "--out", tmp_path)
    assert code == 130 and out == ""
    assert err.startswith("interrupted: the best allocation found so far (OPTIMAL, gap 0.0000%)")
    assert (tmp_path / "allocation.csv").is_file() and not (tmp_path / "explanations.csv").exists()


# ---- audit ------------------------------------------------------------------------------------


def test_audit_exit_codes(capsys, monkeypatch, tmp_path: Path, solved: Path) -> None:
    code, out, _ = run(capsys, "audit", solved)
    assert code == 0 and out.startswith("improving swaps: ") and "wish statistics per university:" in out
    assert (solved / "audit.json").is_file()
    code, _, err = run(capsys, "audit", tmp_path / "nothing")
    assert code == 2 and "allocation.csv: expected a file written by solve; got no such file" in err
    assert_internal(capsys, monkeypatch, (audit, "audit_terms"), "audit", solved)
    assert_interrupted(capsys, monkeypatch, (audit, "audit_terms"), "audit", solved)
