"""The commands other modules bring: replan and the audit of a hand-made allocation, reachable from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from placement_engine.cli import main

TINY = Path(__file__).parent / "fixtures" / "tiny" / "scenario.yaml"


def test_audit_of_a_hand_made_allocation_from_the_command_line(capsys, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "solved"), "--quiet"]) == 0
    capsys.readouterr()
    code = main(["audit", str(TINY), "--allocation", str(tmp_path / "solved" / "allocation.csv"), "--out", str(tmp_path / "hand")])
    out, _ = capsys.readouterr()
    assert code == 0 and (tmp_path / "hand" / "audit.json").is_file() and "hand" in out
    # --out belongs to --allocation: a solve folder's audit goes into the folder itself
    assert main(["audit", str(tmp_path / "solved"), "--out", str(tmp_path / "elsewhere")]) == 2


def test_replan_is_a_command(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["replan", "--help", "--lang", "zh"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "--withdraw" in out and "退出的干部" in out


def test_solve_writes_the_map_the_workbook_and_a_bom_csv_in_one_run(tmp_path: Path) -> None:
    out = tmp_path / "solved"
    assert main(["solve", str(TINY), "--out", str(out), "--quiet", "--lang", "zh"]) == 0
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "results.xlsx").read_bytes()[:2] == b"PK"
    assert (out / "allocation.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert main(["check", str(out)]) == 0  # map.png and results.xlsx belong to the run
    assert main(["solve", str(TINY), "--out", str(tmp_path / "plain"), "--quiet", "--no-map"]) == 0
    assert not (tmp_path / "plain" / "map.png").exists()


def test_a_misspelt_map_province_is_an_input_error_before_the_solve(capsys, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "x"), "--quiet", "--map-province", "Atlantis"]) == 2
    assert "Atlantis" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_validate_warns_of_wishes_that_can_never_count(capsys) -> None:
    national = Path(__file__).parents[1] / "scenarios" / "national-2011.yaml"
    main(["validate", str(national)])
    out = capsys.readouterr().out
    assert "can never count" in out and "more" in out


def test_explain_all_writes_the_workbook_beside_the_csv(tmp_path: Path) -> None:
    out = tmp_path / "explained"
    assert main(["explain", str(TINY), "--all", "--out", str(out), "--quiet"]) == 0
    assert (out / "explanations.csv").is_file() and (out / "explanations.xlsx").read_bytes()[:2] == b"PK"
