"""Tables as Chinese offices save them: GBK text, Chinese rank names, 是/否, Excel files under any name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine import io
from placement_engine.io import formats
from placement_engine.ranks import RANK_NAMES_ZH, RANK_SPELLINGS, RANKS, parse_ranks

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny"


@pytest.fixture
def scn(tmp_path: Path) -> Path:
    folder = tmp_path / "scn"
    shutil.copytree(TINY, folder)
    return folder


def problems(scenario: Path) -> list[str]:
    with pytest.raises(pe.InputError) as caught:
        pe.load_scenario(scenario)
    return [str(p) for p in caught.value.problems]


def path_is_ascii(path: Path) -> bool:
    return path.read_bytes().isascii()


def test_a_gbk_copy_of_the_default_scenario_validates(tmp_path: Path) -> None:
    for folder in ("scenarios", "models"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    data = tmp_path / "scenarios" / "data" / "shandong-2011"
    for path in data.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8-sig").encode("gbk"))
    original = pe.load_scenario(REPO / "scenarios" / "shandong-2011.yaml")
    copy = pe.load_scenario(tmp_path / "scenarios" / "shandong-2011.yaml")
    chinese = {name for name, path in copy.files.items() if name in copy.tables and not path_is_ascii(Path(path))}
    assert chinese >= {"posts", "universities"}
    assert copy.table_encodings == {name: "gbk" if name in chinese else "utf-8" for name in copy.tables}
    for name, frame in original.tables.items():
        pd.testing.assert_frame_equal(copy.tables[name], frame)
    assert io.encoding_note(copy).startswith("encodings: ")


def test_chinese_rank_names_are_read_as_the_codes(scn: Path) -> None:
    path = scn / "cadres.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("sdu-01,sdu,deputy_division", "sdu-01,sdu,副处").replace(",section,", ",正科级,"), encoding="utf-8")
    posts = scn / "posts.csv"
    posts.write_text(posts.read_text(encoding="utf-8").replace(",staff", ",科员"), encoding="utf-8")
    scenario = pe.load_scenario(scn / "scenario.yaml")
    expected = pe.load_scenario(TINY / "scenario.yaml")
    pd.testing.assert_frame_equal(scenario.tables["cadres"], expected.tables["cadres"])
    pd.testing.assert_frame_equal(scenario.tables["posts"], expected.tables["posts"])
    assert scenario.tables["cadres"]["rank"].iat[0] == "deputy_division"


@given(st.lists(st.sampled_from(sorted(RANK_SPELLINGS)), max_size=20))
def test_every_spelling_of_a_rank_gives_its_code(spellings: list[str]) -> None:
    codes, unknown = parse_ranks(np.array(spellings, dtype=str))
    assert not unknown.any()
    assert codes.tolist() == [RANK_SPELLINGS[s] for s in spellings]
    assert set(codes) <= set(RANKS)


@given(st.text(max_size=6).filter(lambda text: text.strip() == text and text not in RANK_SPELLINGS))
def test_anything_else_is_no_rank(text: str) -> None:
    codes, unknown = parse_ranks(np.array([text], dtype=str))
    assert unknown.tolist() == [True] and codes.tolist() == [""]


def test_the_chinese_names_are_the_ladder_s() -> None:
    assert [RANK_SPELLINGS[RANK_NAMES_ZH[rank]] for rank in RANKS] == list(RANKS)
    assert RANK_SPELLINGS["副处级"] == "deputy_division"


@pytest.mark.parametrize(
    ("yes", "no"), [("是", "否"), (" 是 ", " 否 "), ("Y", "N"), ("true", "false"), ("1", "0"), ("Yes", "No")]
)
def test_booleans_in_every_usual_spelling(scn: Path, yes: str, no: str) -> None:
    path = scn / "cadres.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = [line.rsplit(",", 1) for line in lines[1:]]
    rows = [f'{head},"{yes if value == "true" else no}"' for head, value in cells]
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    scenario = pe.load_scenario(scn / "scenario.yaml")
    expected = pe.load_scenario(TINY / "scenario.yaml")
    assert scenario.tables["cadres"]["cross_province_ok"].tolist() == expected.tables["cadres"]["cross_province_ok"].tolist()


def test_a_workbook_saved_under_a_csv_name_is_read_as_a_workbook(scn: Path) -> None:
    frame = pd.read_csv(scn / "cadres.csv", dtype=str)
    with pd.ExcelWriter(scn / "cadres-book.csv") as book:
        frame.to_excel(book, sheet_name="cadres", index=False)
    (scn / "scenario.yaml").write_text(
        (scn / "scenario.yaml").read_text(encoding="utf-8").replace("cadres: cadres.csv", "cadres: cadres-book.csv"), encoding="utf-8"
    )
    assert formats.file_format(scn / "cadres-book.csv") == "xlsx"
    scenario = pe.load_scenario(scn / "scenario.yaml")
    assert "cadres" not in scenario.table_encodings
    assert scenario.tables["cadres"]["cadre_id"].tolist() == frame["cadre_id"].tolist()


def test_an_xls_file_is_named_as_one_not_as_gbk_text(scn: Path) -> None:
    # an OLE2 compound file header with nothing readable behind it
    (scn / "cadres.csv").write_bytes(formats.OLE2_MAGIC + bytes(504))
    assert formats.file_format(scn / "cadres.csv") == "xls"
    assert problems(scn / "scenario.yaml") == [
        "cadres.csv: expected an Excel 97-2003 workbook (.xls); got a file that cannot be read as one"
    ]


def test_an_xls_file_without_xlrd_says_how_to_read_it(scn: Path, monkeypatch) -> None:
    (scn / "cadres.csv").write_bytes(formats.OLE2_MAGIC + bytes(504))
    real = formats.importlib.util.find_spec
    monkeypatch.setattr(formats.importlib.util, "find_spec", lambda name: None if name == "xlrd" else real(name))
    assert problems(scn / "scenario.yaml") == [
        "cadres.csv: expected an .xlsx workbook or a CSV file (reading .xls needs the xlrd package: pip install xlrd); "
        "got an Excel 97-2003 workbook (.xls)"
    ]


def test_csv_files_are_written_with_a_byte_order_mark_and_read_back(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cadre_id": ["007", "sdu-01"], "备注": ["山东", ""]})
    io.write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbfcadre_id,")
    back = io.read_csv(tmp_path / "t.csv")
    assert back.columns.tolist() == ["cadre_id", "备注"] and back["cadre_id"].tolist() == ["007", "sdu-01"]
