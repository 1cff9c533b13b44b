"""results.xlsx and the other workbooks: readable headers, names beside codes, ids as text, the CSVs for Excel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import placement_engine as pe
from placement_engine import io
from placement_engine.io import excel

TINY = Path(__file__).parent / "fixtures" / "tiny"
NOTES = ["山东大学推荐", "", "=1+1", "0012", "备注", "长期"]


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[pe.Allocation, Path]:
    """The tiny scenario with a column of notes the engine does not know, solved and written."""
    folder = tmp_path_factory.mktemp("scn")
    shutil.copytree(TINY, folder, dirs_exist_ok=True)
    cadres = pd.read_csv(folder / "cadres.csv", dtype=str)
    cadres["备注"] = NOTES
    io.write_csv(cadres, folder / "cadres.csv")
    allocation = pe.solve(folder / "scenario.yaml")
    out = folder / "out"
    allocation.write(out)
    return allocation, out


def test_the_solve_folder_holds_results_xlsx_of_the_same_run(solved):
    _allocation, out = solved
    assert "results.xlsx" in io.read_json(out / "run.json")["files"]
    assert pe.check_output_dir(out).ok


def test_allocation_csv_has_names_beside_codes_and_the_extra_columns_last(solved):
    allocation, out = solved
    raw = (out / "allocation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcadre_id,")  # Excel on Chinese Windows needs the BOM
    table = io.read_csv(out / "allocation.csv")
    columns = table.columns.tolist()
    for code, name in (("university_id", "university_name"), ("prefecture", "prefecture_name"), ("province", "province_name")):
        assert columns.index(name) == columns.index(code) + 1
    assert columns[-1] == "备注" and columns[-2] == "score_total"
    assert table["备注"].tolist() == NOTES
    by_id = table.set_index("cadre_id")
    assert by_id.loc["sdu-01", "university_name"] == allocation.scenario.tables["universities"].set_index("university_id").loc["sdu", "name"]
    placed = by_id[by_id["post_id"] != ""]
    shipped = {"370100": "济南市", "370300": "淄博市", "632500": "海南藏族自治州", "370000": "山东省", "630000": "青海省"}
    assert set(placed["prefecture_name"]) <= set(shipped.values())
    assert (placed["province_name"] == placed["province"].map(shipped)).all()


def test_results_xlsx_sheets_headers_and_cells(solved):
    allocation, out = solved
    book = load_workbook(out / "results.xlsx")
    assert book.sheetnames == ["Allocation", "Summary", "Universities", "Budgets", "Audit"]
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
    sheet = book["Allocation"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["Cadre", "University", "University name", "Rank"]
    assert header[-1] == "备注" and "Points: wishes" in header and "County" in header
    assert sheet.max_row == len(allocation.table) + 1
    row = {title: cell for title, cell in zip(header, sheet[2])}
    assert row["County code"].data_type == "s" and row["County code"].value == allocation.table["adcode"].iat[0]
    assert isinstance(row["Distance (km)"].value, float) and row["Distance (km)"].number_format == "0.00"
    notes = [sheet.cell(r, len(header)).value or "" for r in range(2, sheet.max_row + 1)]
    assert notes == NOTES  # '=1+1' stays text, '0012' keeps its zeros
    assert sheet.cell(4, len(header)).data_type == "s"
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_row=2)}
    assert summary["Status"] == allocation.status and summary["Objective (points)"] == pytest.approx(allocation.objective)


def test_widths_count_cjk_characters_twice():
    frame = pd.DataFrame({"university_name": ["山东师范大学"], "cadre_id": ["abcdefghijkl"]})
    assert excel._width("Name", frame["university_name"], frame["university_name"].tolist()) == 2 * 6 + 2
    assert excel._width("Cadre", frame["cadre_id"], frame["cadre_id"].tolist()) == 12 + 2


def test_headers_and_sheet_names_are_translated_at_write_time(tmp_path: Path, monkeypatch):
    words = {"Cadre": "干部", "Allocation": "分配", "Points: {factor}": "得分：{factor}", "wishes": "志愿"}
    monkeypatch.setattr(excel, "_", lambda message: words.get(message, message))
    frame = pd.DataFrame({"cadre_id": ["sdu-01"], "score_preferences": [100.0], "备注": ["x"]})
    io.write_workbook([io.Sheet("allocation", frame)], tmp_path / "t.xlsx")
    book = load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["分配"]
    assert [cell.value for cell in book["分配"][1]] == ["干部", "得分：志愿", "备注"]


def test_explanations_workbook(tmp_path: Path):
    frame = pd.DataFrame({"cadre_id": ["sdu-02"], "wish": [1], "target": ["P370102"], "sentence": ["blocked by rank"]})
    io.write_explanations_xlsx(frame, tmp_path / "explanations.xlsx")
    sheet = load_workbook(tmp_path / "explanations.xlsx")["Explanations"]
    assert [cell.value for cell in sheet[1]] == ["Cadre", "Wish", "Target", "In words"]
    assert [cell.value for cell in sheet[2]] == ["sdu-02", 1, "P370102", "blocked by rank"]


def test_an_allocation_shows_briefly_in_a_notebook(solved):
    allocation, _out = solved
    text = repr(allocation)
    assert text.startswith("<Allocation tiny: OPTIMAL, objective ") and "\n" not in text and len(text) < 200
    page = allocation._repr_html_()
    assert page.count("<tr>") == 10 and "sdu-01" not in page and allocation.status in page
    assert len(repr(allocation.scenario)) < 200


def test_missing_and_infinite_numbers_become_empty_cells_and_text(tmp_path: Path):
    frame = pd.DataFrame(
        {
            "gap": [0.5, float("nan"), float("inf")],
            "choice": pd.array([1, None, 3], dtype="Int64"),
            "message": ["", None, "no allocation"],
            "reproducible": pd.array([True, None, False], dtype="boolean"),
        }
    )
    io.write_workbook([io.Sheet("comparison", frame)], tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["Comparison"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        [0.5, 1, None, True],
        [None, None, None, None],
        ["inf", 3, "no allocation", False],
    ]
    assert sheet["A2"].number_format == "0.0%"
