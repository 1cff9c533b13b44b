"""``validate``: exit 0 with the scenario's counts, or exit 2 with every problem and no traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from placement_engine.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny"

BROKEN_PROBLEMS = [
    "policy.yaml key factors.rank_fit.weight: expected a valid number; got 'heavy'",
    "history.csv: expected an existing file; got no such file",
    "posts.csv row 7, column lon: expected a longitude inside China (73 to 136); got 'east'",
    "cadres.csv row 7, column rank: expected one of staff, deputy_section, section, deputy_division, division; "
    "got 'boss'",
]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The tiny scenario with four problems in four files."""
    folder = tmp_path / "broken"
    shutil.copytree(TINY, folder)
    for name, old, new in [
        ("policy.yaml", "rank_fit: {weight: 30}", "rank_fit: {weight: heavy}"),
        ("cadres.csv", "ujn-02,ujn,staff", "ujn-02,ujn,boss"),
        ("posts.csv", "99.987965", "east"),
    ]:
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    (folder / "history.csv").unlink()
    return folder / "scenario.yaml"


def test_validate_prints_the_counts(capsys) -> None:
    assert main(["validate", str(TINY / "scenario.yaml")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("scenario tiny: valid\npolicy tiny-policy\n")
    # table sizes
    for name, rows in [("posts", 6), ("cadres", 6), ("universities", 3), ("preferences", 11), ("history", 2)]:
        assert re.search(rf"^\s+{name}\s+{rows} rows$", out, re.M), name
    # post capacity by province and minimum rank: Shandong 1 deputy_division + 4 deputy_section, Qinghai 1 staff
    section = out.split("post capacity by province and minimum rank:")[1].split("\n\n")[0]
    assert re.search(r"^\s+370000\s+1\s+4\s+0$", section, re.M)
    assert re.search(r"^\s+630000\s+0\s+0\s+1$", section, re.M)
    # cadres by rank
    section = out.split("cadres by rank:")[1].split("\n\n")[0]
    for rank, count in [("deputy_division", 1), ("deputy_section", 2), ("section", 2), ("staff", 1)]:
        assert re.search(rf"^\s+{rank}\s+{count}$", section, re.M), rank
    assert "cross-province volunteers: 3 (cross-province post capacity 1)" in out
    assert "cadres by university (3 universities):" in out
    assert re.search(r"sdu: 2\s+sdut: 2\s+ujn: 2", out)
    assert "total capacity 6 for 6 cadres" in out


def test_validate_invalid_scenario_exits_2_listing_every_problem(broken: Path, capsys) -> None:
    assert main(["validate", str(broken)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: 4 problems in the input:\n")
    assert err.splitlines()[1:] == [f"  - {problem}" for problem in BROKEN_PROBLEMS]
    assert "Traceback" not in err


def test_validate_unparseable_csv_exits_2_not_1(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "ragged"
    shutil.copytree(TINY, folder)
    with open(folder / "history.csv", "a", encoding="utf-8") as handle:
        handle.write("2,sdu,P370102,surplus\n")
    assert main(["validate", str(folder / "scenario.yaml")]) == 2
    err = capsys.readouterr().err
    assert "history.csv row 4: expected 3 cells, as in the header row; got 4 cells" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["validate", "solve"])
def test_a_negative_budget_exits_2(tmp_path: Path, capsys, command: str) -> None:
    folder = tmp_path / "budgets"
    shutil.copytree(TINY, folder)
    path = folder / "universities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",budget_yuan", lines[1] + ",-2000", *(line + "," for line in lines[2:])]) + "\n", encoding="utf-8")
    out_dir = ["--out", str(tmp_path / "out")] if command == "solve" else []
    assert main([command, str(folder / "scenario.yaml"), *out_dir]) == 2
    assert capsys.readouterr().err == (
        "error: 1 problem in the input:\n  - universities.csv row 2, column budget_yuan: expected a number >= 0; got '-2000'\n"
    )


def test_validate_missing_scenario_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: expected an existing file; got no such file" in capsys.readouterr().err


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "placement_engine", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_module_validate_valid_exits_0(tmp_path: Path) -> None:
    result = run_module("validate", str(TINY / "scenario.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("scenario tiny: valid\n")
    assert result.stderr == ""


def test_module_validate_invalid_exits_2(broken: Path, tmp_path: Path) -> None:
    result = run_module("validate", str(broken), cwd=tmp_path)
    assert result.returncode == 2
    for problem in BROKEN_PROBLEMS:
        assert f"  - {problem}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_validate_names_the_tables_not_read_as_utf8(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "gbk"
    shutil.copytree(TINY, folder)
    posts = folder / "posts.csv"
    posts.write_bytes(posts.read_text(encoding="utf-8").encode("gbk"))
    assert main(["validate", str(folder / "scenario.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1].startswith("encodings: posts.csv read as ")
