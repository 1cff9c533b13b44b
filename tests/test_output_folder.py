"""Output folders hold the files of one run: written aside, swapped in whole, recorded in run.json."""

from __future__ import annotations

from pathlib import Path

import pytest

import placement_engine as pe
from placement_engine import io
from placement_engine.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny" / "scenario.yaml"
PIN_CLASH = REPO / "scenarios" / "infeasible" / "pin-clash.yaml"
SOLVE_FOLDER = ["allocation.csv", "audit.csv", "audit.json", "inputs", "map.png", "results.xlsx", "run.json", "summary.json"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def allocation() -> pe.Allocation:
    return pe.solve(TINY)


@pytest.fixture
def solved(tmp_path: Path, capsys) -> Path:
    out = tmp_path / "out"
    assert run(capsys, "solve", TINY, "--out", out, "--quiet")[0] == 0
    return out


# ---- run.json -------------------------------------------------------------------------------


def test_run_json_lists_every_other_file_with_its_hash(solved: Path) -> None:
    assert sorted(path.name for path in solved.iterdir()) == SOLVE_FOLDER
    record = io.read_json(solved / "run.json")
    files = {path.relative_to(solved).as_posix() for path in solved.rglob("*") if path.is_file()} - {"run.json"}
    assert set(record["files"]) == files and "inputs/policy.yaml" in files and "inputs/posts.csv" in files
    assert all(record["files"][name] == io.sha256(solved / name) for name in files)
    assert len(record["run_id"]) == 32


def test_each_run_has_its_own_id(solved: Path, capsys) -> None:
    first = io.read_json(solved / "run.json")
    assert run(capsys, "solve", TINY, "--out", solved, "--quiet")[0] == 0
    second = io.read_json(solved / "run.json")
    assert first["run_id"] != second["run_id"] and first["files"]["allocation.csv"] == second["files"]["allocation.csv"]


# ---- (a) an infeasible run replaces an earlier allocation -----------------------------------


def test_an_infeasible_run_leaves_only_its_diagnosis_and_check_says_why(solved: Path, capsys) -> None:
    code, _, err = run(capsys, "solve", PIN_CLASH, "--out", solved, "--quiet")
    assert code == 3 and f"diagnosis written to {solved / 'diagnosis.json'}" in err
    assert sorted(path.name for path in solved.iterdir()) == ["diagnosis.json", "run.json"]
    assert list(io.read_json(solved / "run.json")["files"]) == ["diagnosis.json"]
    no_allocation = "allocation.csv: expected an allocation written by solve; got no allocation in this folder: the run was infeasible"
    for command in ("check", "audit"):
        code, out, err = run(capsys, command, solved)
        assert (code, out) == (2, "") and no_allocation in err, command
    assert not list(solved.parent.glob(".out.*")), "no temporary folder is left behind"


# ---- (b), (c) check refuses a folder that is not one run's ----------------------------------


@pytest.mark.parametrize("name", ["allocation.csv", "summary.json", "inputs/posts.csv", "inputs/policy.yaml"])
def test_check_refuses_a_file_changed_after_the_run(solved: Path, capsys, name: str) -> None:
    with (solved / name).open("a", encoding="utf-8") as handle:
        handle.write("\n")
    code, out, err = run(capsys, "check", solved)
    assert (code, out) == (2, "")
    assert err == (
        f"error: 1 problem in the input:\n  - run.json: expected every file of the folder written by one run; "
        f"got {name} changed since the run\n"
    )


def test_check_refuses_a_folder_with_a_file_of_the_run_missing(solved: Path, capsys) -> None:
    (solved / "inputs" / "history.csv").unlink()
    code, _, err = run(capsys, "check", solved)
    assert code == 2 and "run.json: expected every file of the folder written by one run; got inputs/history.csv missing" in err


@pytest.mark.parametrize("name", ["explanations.csv", "diagnosis.json", "inputs/pins.csv"])
def test_check_refuses_an_engine_file_the_run_did_not_write(solved: Path, capsys, name: str) -> None:
    (solved / name).write_text("stale\n", encoding="utf-8")
    code, _, err = run(capsys, "check", solved)
    assert code == 2
    assert f"run.json: expected every file of the folder written by one run; got {name}, which the run did not write" in err


def test_check_refuses_a_folder_without_run_json(solved: Path, capsys) -> None:
    (solved / "run.json").unlink()
    code, _, err = run(capsys, "check", solved)
    assert code == 2 and "run.json: expected a file written by solve; got no such file" in err


def test_a_file_of_the_user_is_not_checked(solved: Path, capsys) -> None:
    (solved / "notes.txt").write_text("looked fine to me\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", solved)
    assert code == 0 and out.startswith("check: OK")


# ---- (d) a failed write leaves the previous folder as it was --------------------------------


@pytest.mark.parametrize(("failure", "exit_code"), [(RuntimeError("disk full"), 1), (KeyboardInterrupt(), 130)])
def test_a_write_that_fails_midway_leaves_the_previous_folder(solved: Path, capsys, monkeypatch, failure, exit_code) -> None:
    before = snapshot(solved)
    written = []

    def fail(data, path):  # inputs/policy.yaml comes after allocation.csv and summary.json
        written.extend(path.parent.parent.glob("*.csv"))
        raise failure

    monkeypatch.setattr(io, "write_yaml", fail)
    assert run(capsys, "solve", TINY, "--out", solved, "--quiet")[0] == exit_code
    assert written, "the failure came after the first files of the new run were written"
    assert snapshot(solved) == before
    assert sorted(path.name for path in solved.parent.iterdir()) == ["out"]


def test_a_failing_extra_file_leaves_the_previous_folder(allocation: pe.Allocation, solved: Path) -> None:
    before = snapshot(solved)

    def broken_figure(path: Path) -> None:
        path.write_bytes(b"half a picture")
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        allocation.write(solved, extra_files={"map.png": broken_figure})
    assert snapshot(solved) == before


# ---- what else writes a folder --------------------------------------------------------------


def test_extra_files_belong_to_the_run(allocation: pe.Allocation, tmp_path: Path) -> None:
    out = tmp_path / "variant"
    allocation.write(out, extra_files={"map.png": b"\x89PNG", "notes/how.txt": lambda path: path.write_text("by hand")})
    files = io.read_json(out / "run.json")["files"]
    assert files["map.png"] == io.sha256(out / "map.png") and (out / "notes" / "how.txt").read_text() == "by hand"
    assert pe.check_output_dir(out).ok


def test_a_folder_of_other_files_is_never_replaced(allocation: pe.Allocation, tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("chapter 1", encoding="utf-8")
    with pytest.raises(pe.InputError, match="got a folder holding other files: thesis.tex"):
        allocation.write(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["thesis.tex"]


def test_explain_all_writes_its_explanations_with_the_allocation_they_explain(solved: Path, capsys) -> None:
    code, out, _ = run(capsys, "explain", TINY, "--all", "--out", solved)
    assert code == 0 and out.startswith("explanations of ")
    assert "explanations.csv" in io.read_json(solved / "run.json")["files"]
    explained = {*SOLVE_FOLDER, "explanations.csv", "explanations.xlsx"} - {"map.png"}  # explain draws no map
    assert sorted(path.name for path in solved.iterdir()) == sorted(explained)
    assert pe.check_output_dir(solved).ok
    # a later solve is a run of its own: the explanations of the earlier one go with it
    assert run(capsys, "solve", TINY, "--out", solved, "--quiet")[0] == 0
    assert not (solved / "explanations.csv").exists()


def test_the_audit_command_rewrites_its_files_within_the_run(solved: Path, capsys) -> None:
    before = io.read_json(solved / "run.json")
    (solved / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert run(capsys, "audit", solved)[0] == 0
    after = io.read_json(solved / "run.json")
    assert after["run_id"] == before["run_id"] and set(after["files"]) == set(before["files"])
    assert (solved / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert run(capsys, "check", solved)[0] == 0


def test_output_folder_commits_on_leaving_the_block_only(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with io.OutputFolder(target) as folder:
        io.write_json({"a": 1}, folder.path("deep/a.json"))
        assert not target.exists()
    assert io.verify_run(target)["files"] == {"deep/a.json": io.sha256(target / "deep" / "a.json")}
    with pytest.raises(ValueError), io.OutputFolder(target) as folder:
        folder.path("b.json").write_text("{}")
        raise ValueError
    assert snapshot(target) == {"deep/a.json": b'{\n  "a": 1\n}\n', "run.json": (target / "run.json").read_bytes()}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]
