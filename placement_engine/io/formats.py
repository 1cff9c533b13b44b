"""Reading a table's file: its real format from its bytes, its text encoding, its cells as text.

A file is read by what it holds, not by its name: a zip archive is an ``.xlsx``
workbook, an OLE2 compound file (it starts with ``D0 CF 11 E0``) is an ``.xls``
workbook, anything else is CSV text. CSV text is UTF-8 (with or without a
byte-order mark), else GBK or GB18030, the exports of Excel on Chinese Windows;
each frame read from CSV carries the encoding in ``attrs["encoding"]``.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..i18n import _
from ..schema import TABLES

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# tried in this order; GBK is a subset of GB18030, and its name is the one users know
TEXT_ENCODINGS = ("utf-8-sig", "gbk", "gb18030")
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gbk": "GBK", "gb18030": "GB18030"}


def _read_tables(
    source: str | dict[str, str], base: Path, problems: list[Problem], scenario: str = "scenario"
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Path]]:
    if isinstance(source, str):
        paths = {name: base / source for name in TABLES}
        workbook_only = True
    else:
        unknown = sorted(set(source) - set(TABLES))
        for name in unknown:
            problems.append(Problem(scenario, f"key tables.{name}", _("a table name (one of {names})").format(names=", ".join(TABLES)), repr(name)))
        paths = {name: base / source[name] for name in TABLES if name in source}
        workbook_only = False
        for name, spec in TABLES.items():
            if spec.required and name not in source:
                problems.append(Problem(scenario, f"key tables.{name}", _("a file for this required table"), _("nothing")))
    frames: dict[str, pd.DataFrame | None] = {}
    used: dict[str, Path] = {}
    for name, path in paths.items():
        frame = _read_table(path, name, _display(path, base), TABLES[name].required or not workbook_only, problems)
        if frame is not None or TABLES[name].required:
            frames[name] = frame
        if frame is not None:
            used[name] = path
    return frames, used


def file_format(path: Path) -> str:
    """'xlsx', 'xls' or 'csv', from the file's first bytes; an Excel name with other bytes is 'not-workbook'."""
    with path.open("rb") as handle:
        head = handle.read(len(OLE2_MAGIC))
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        return "xls"
    return "not-workbook" if path.suffix.lower() in EXCEL_SUFFIXES else "csv"


def _read_table(path: Path, name: str, shown: str, must_exist: bool, problems: list[Problem]) -> pd.DataFrame | None:
    if not path.is_file():
        _add_once(problems, Problem(shown, "", _("an existing file"), _("no such file")))
        return None
    kind = file_format(path)
    if kind == "csv":
        return _read_csv_table(path, shown, problems)
    if kind == "not-workbook":
        expected = _("an Excel workbook (.xlsx, .xlsm or .xls) or a CSV file")
        got = _("a file named as a workbook that is not one (a web page or text saved under an Excel name?)")
        _add_once(problems, Problem(shown, "", expected, got))
        return None
    if kind == "xls" and importlib.util.find_spec("xlrd") is None:
        expected = _("an .xlsx workbook or a CSV file (reading .xls needs the xlrd package: pip install xlrd)")
        _add_once(problems, Problem(shown, "", expected, _("an Excel 97-2003 workbook (.xls)")))
        return None
    return _read_sheet(path, kind, name, shown, must_exist, problems)


def _read_sheet(path: Path, kind: str, name: str, shown: str, must_exist: bool, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        with _workbook(path, kind) as (sheets, read):
            if name not in sheets:
                if must_exist:
                    listed = ", ".join(map(str, sheets))
                    got = _("sheets {sheets}").format(sheets=listed)
                    problems.append(Problem(shown, f"sheet {name}", _("a sheet named {name!r}").format(name=name), got))
                return None
            frame = read(name)
    except Exception:  # noqa: BLE001 - any unreadable workbook is an input problem
        if kind == "xls":
            expected = _("an Excel 97-2003 workbook (.xls)")
        else:
            expected = _("an Excel workbook (.xlsx or .xlsm)")
        _add_once(problems, Problem(shown, "", expected, _("a file that cannot be read as one")))
        return None
    return _as_text(frame)


@contextmanager
def _workbook(path: Path, kind: str) -> Iterator[tuple[list[str], Callable[[str], pd.DataFrame]]]:
    """The sheet names of a workbook and a function reading one sheet; .xls through xlrd itself,
    as pandas is dropping its xlrd engine."""
    if kind == "xlsx":
        with pd.ExcelFile(path, engine="openpyxl") as book:
            yield list(map(str, book.sheet_names)), lambda name: pd.read_excel(book, sheet_name=name, dtype=str, keep_default_na=False)
        return
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)

    def read(name: str) -> pd.DataFrame:
        sheet = book.sheet_by_name(name)
        rows = [sheet.row_values(row) for row in range(sheet.nrows)]
        return pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()

    try:
        yield book.sheet_names(), read
    finally:
        book.release_resources()


def _read_csv_table(path: Path, shown: str, problems: list[Problem]) -> pd.DataFrame | None:
    decoded = _decoded(path, shown, problems)
    if decoded is None:
        return None
    text, encoding = decoded
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        problems.append(Problem(shown, "", _("a header row with the column names"), _("an empty file")))
        return None
    except pd.errors.ParserError as error:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if ragged:
            fields, line, saw = ragged.groups()
            problems.append(
                Problem(shown, f"row {line}", _("{fields} cells, as in the header row").format(fields=fields), _("{saw} cells").format(saw=saw))
            )
        else:
            problems.append(Problem(shown, "", _("a readable CSV table"), str(error).strip()))
        return None
    frame = _without_blank_rows(_as_text(frame))
    frame.attrs["encoding"] = encoding
    return frame


def _add_once(problems: list[Problem], problem: Problem) -> None:
    """One workbook serves several tables; say what is wrong with it once."""
    if problem not in problems:
        problems.append(problem)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text; missing values become ''."""
    out = frame.copy()
    out.columns = [str(c).strip() for c in out.columns]
    for column in out.columns:
        values = out[column]
        # a list, not Series.map: a table's cells are read once per solve, and pandas' per-call overhead was most of it
        cells = zip(values.astype(object).tolist(), values.notna().to_numpy())
        out[column] = pd.Series([_cell_text(value) if present else "" for value, present in cells], index=out.index, dtype=object)
    return out


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its blank rows; ``attrs["file_rows"]`` keeps each remaining row's
    number in the file (the header is row 1), so that problems point at the right row."""
    kept = ~(frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.ones(len(frame), bool)
    out = frame.loc[kept].reset_index(drop=True)
    out.attrs["file_rows"] = np.flatnonzero(kept) + 2
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """The file's text, or None after adding a problem (missing, or in no known encoding)."""
    decoded = _decoded(path, shown, problems)
    return decoded[0] if decoded is not None else None


def _decoded(path: Path, shown: str, problems: list[Problem]) -> tuple[str, str] | None:
    """The file's text and the encoding it was read in ('utf-8' when it has no BOM)."""
    if not path.is_file():
        problems.append(Problem(shown, "", _("an existing file"), _("no such file")))
        return None
    data = path.read_bytes()
    for encoding in TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            if encoding == TEXT_ENCODINGS[0]:
                first_error = error
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    bad = data[first_error.start]
    line = data.count(b"\n", 0, first_error.start) + 1
    problems.append(
        Problem(
            shown,
            f"line {line} (byte {first_error.start})",
            _("text in UTF-8, GBK or GB18030"),
            _("byte 0x{value:02x}, which none of them allows here (save the file as CSV UTF-8)").format(value=bad),
        )
    )
    return None


def _display(path: Path, base: Path) -> str:
    """A path as problems show it: relative to the scenario's folder where it can be."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return path.name
