"""Reading CSV and Excel tables and validating them against the column contract.

Bad cells are grouped per file, column and expectation (a long run of them is
summarised); rows are counted as a spreadsheet shows them: the header is row 1,
the first data row is row 2.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..geo import CHINA_LAT, CHINA_LON, prefecture_of, province_of
from ..ranks import RANKS
from ..schema import TABLES, TableSpec

MAX_ROWS_PER_PROBLEM = 10
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}


# ---- reading tables -------------------------------------------------------------------------


def _read_tables(
    source: str | dict[str, str], base: Path, problems: list[Problem], scenario: str = "scenario"
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Path]]:
    if isinstance(source, str):
        paths = {name: base / source for name in TABLES}
        workbook_only = True
    else:
        unknown = sorted(set(source) - set(TABLES))
        for name in unknown:
            problems.append(Problem(scenario, f"key tables.{name}", f"a table name (one of {', '.join(TABLES)})", repr(name)))
        paths = {name: base / source[name] for name in TABLES if name in source}
        workbook_only = False
        for name, spec in TABLES.items():
            if spec.required and name not in source:
                problems.append(Problem(scenario, f"key tables.{name}", "a file for this required table", "nothing"))
    frames: dict[str, pd.DataFrame | None] = {}
    used: dict[str, Path] = {}
    for name, path in paths.items():
        frame = _read_table(path, name, _display(path, base), TABLES[name].required or not workbook_only, problems)
        if frame is not None or TABLES[name].required:
            frames[name] = frame
        if frame is not None:
            used[name] = path
    return frames, used


def _read_table(path: Path, name: str, shown: str, must_exist: bool, problems: list[Problem]) -> pd.DataFrame | None:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        if not path.is_file():
            _add_once(problems, Problem(shown, "", "an existing file", "no such file"))
            return None
        try:
            with pd.ExcelFile(path) as book:
                if name not in book.sheet_names:
                    if must_exist:
                        sheets = ", ".join(map(str, book.sheet_names))
                        problems.append(Problem(shown, f"sheet {name}", f"a sheet named {name!r}", f"sheets {sheets}"))
                    return None
                frame = pd.read_excel(book, sheet_name=name, dtype=str, keep_default_na=False)
        except Exception:  # noqa: BLE001 - any unreadable workbook is an input problem
            unreadable = Problem(shown, "", "an Excel workbook (.xlsx or .xlsm)", "a file that cannot be read as one")
            _add_once(problems, unreadable)
            return None
        return _as_text(frame)
    text = _read_text(path, shown, problems)
    if text is None:
        return None
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        problems.append(Problem(shown, "", "a header row with the column names", "an empty file"))
        return None
    except pd.errors.ParserError as error:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if ragged:
            fields, line, saw = ragged.groups()
            problems.append(Problem(shown, f"row {line}", f"{fields} cells, as in the header row", f"{saw} cells"))
        else:
            problems.append(Problem(shown, "", "a readable CSV table", str(error).strip()))
        return None
    return _without_blank_rows(_as_text(frame))


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
        text = values.astype(object).where(values.notna(), "").map(_cell_text)
        out[column] = text.astype(object)
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
    """The file's text, or None after adding a problem (missing, or not UTF-8)."""
    if not path.is_file():
        problems.append(Problem(shown, "", "an existing file", "no such file"))
        return None
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start]
        line = data.count(b"\n", 0, error.start) + 1
        problems.append(
            Problem(
                shown,
                f"line {line} (byte {error.start})",
                "UTF-8 text",
                f"byte 0x{bad:02x} (is the file saved as GBK?)",
            )
        )
        return None


def _display(path: Path, base: Path) -> str:
    """A path as problems show it: relative to the scenario's folder where it can be."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return path.name


# ---- validating tables ----------------------------------------------------------------------


class _Collector:
    """Groups bad cells by (file, column, expectation) so that long runs are summarised."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.file_rows: dict[str, np.ndarray] = {}  # per file: each table row's number in the file

    def row(self, shown: str, index: int) -> int:
        """The file's row number of table row ``index`` (the header is row 1)."""
        rows = self.file_rows.get(shown)
        return int(rows[index]) if rows is not None and index < len(rows) else index + 2

    def cells(self, shown: str, column: str, bad_rows: np.ndarray, values: np.ndarray, expected: str, got=None):
        describe = got or (lambda row: repr(str(values[row])))
        for row in bad_rows[:MAX_ROWS_PER_PROBLEM]:
            self.problems.append(Problem(shown, f"row {self.row(shown, row)}, column {column}", expected, describe(row)))
        extra = len(bad_rows) - MAX_ROWS_PER_PROBLEM
        if extra > 0:
            self.problems.append(
                Problem(shown, f"column {column}", expected, f"{extra} more rows like the above (not listed)")
            )


_CODE = re.compile(r"^\d{6}$")


def _parse_column(kind: str, text: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Parsed values, a mask of bad cells, and the expectation for messages."""
    blank = text == ""
    if kind == "id":
        return text, blank, "a non-empty id"
    if kind == "text":
        return text, np.zeros(len(text), bool), "text"
    if kind == "code":
        good = np.array([bool(_CODE.match(t)) for t in text], dtype=bool)
        return text, ~good, "a 6-digit administrative code"
    if kind == "rank":
        return text, ~np.isin(text, RANKS), f"one of {', '.join(RANKS)}"
    if kind == "pin_kind":
        lowered = np.char.lower(text.astype(str))
        return lowered, ~np.isin(lowered, ["pin", "forbid"]), "one of pin, forbid"
    if kind == "bool":
        lowered = np.char.lower(text.astype(str))
        return np.isin(lowered, list(TRUE_WORDS)), ~np.isin(lowered, list(TRUE_WORDS | FALSE_WORDS)), "true or false"
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    not_number = np.isnan(numbers)
    if kind == "float":
        return numbers, not_number & ~blank, "a number"
    if kind == "amount":
        return numbers, (not_number & ~blank) | (numbers < 0), "a number >= 0"
    if kind == "lon":
        return numbers, not_number | (numbers < CHINA_LON[0]) | (numbers > CHINA_LON[1]), (
            f"a longitude inside China ({CHINA_LON[0]:g} to {CHINA_LON[1]:g})"
        )
    if kind == "lat":
        return numbers, not_number | (numbers < CHINA_LAT[0]) | (numbers > CHINA_LAT[1]), (
            f"a latitude inside China ({CHINA_LAT[0]:g} to {CHINA_LAT[1]:g})"
        )
    whole = ~not_number & (np.mod(np.nan_to_num(numbers), 1) == 0)
    if kind == "int":
        return np.nan_to_num(numbers).astype(np.int64), ~whole, "a whole number"
    if kind == "count":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 0), "a whole number >= 0"
    if kind == "choice":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 1), "a whole number >= 1"
    raise ValueError(f"unknown column kind {kind}")


def _validate_table(spec: TableSpec, frame: pd.DataFrame, shown: str, collect: _Collector) -> pd.DataFrame | None:
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        collect.problems.append(
            Problem(shown, f"column {name}", f"a column named {name!r}", f"columns {', '.join(frame.columns) or 'none'}")
        )
    if missing:
        return None
    out = frame.copy()
    for column in spec.columns:
        if column.name not in frame.columns:
            if column.default is not None:
                out[column.name] = column.default
            continue
        text = frame[column.name].to_numpy(str)
        use_default = (text == "") & (column.default is not None)
        text = np.where(use_default, str(column.default), text)
        values, bad, expected = _parse_column(column.kind, text)
        if column.kind in ("float", "amount") and column.required:  # only an optional number (budget_yuan) may be blank
            bad = bad | (text == "")
        if bad.any():
            collect.cells(shown, column.name, np.flatnonzero(bad), text, expected)
        out[column.name] = values
    _check_unique(spec, out, shown, collect)
    return out


def _check_unique(spec: TableSpec, frame: pd.DataFrame, shown: str, collect: _Collector) -> None:
    if not spec.key:
        return
    key = list(spec.key)
    numbered = frame.reset_index(drop=True)
    dup = np.flatnonzero(numbered.duplicated(key, keep="first").to_numpy())
    if not len(dup):
        return
    first = numbered.reset_index().groupby(key, sort=False)["index"].transform("min").to_numpy()
    if spec.name == "preferences":
        expected = "each target once per cadre (a wish listed twice)"
    else:
        expected = f"a unique {' + '.join(key)}"
    values = numbered[key[-1]].to_numpy(str)
    collect.cells(shown, key[-1], dup, values, expected, got=lambda row: f"{str(values[row])!r} again (first at row {collect.row(shown, first[row])})")


def _validate_tables(
    frames: dict[str, pd.DataFrame | None], shown: dict[str, str], problems: list[Problem]
) -> dict[str, pd.DataFrame] | None:
    collect = _Collector(problems)
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if frame is None:
            continue
        if "file_rows" in frame.attrs:
            collect.file_rows[shown.get(name, name)] = frame.attrs["file_rows"]
        checked = _validate_table(TABLES[name], frame, shown.get(name, name), collect)
        if checked is not None:
            checked.attrs.pop("file_rows", None)  # the tables handed out carry no attrs
            tables[name] = checked
    if any(spec.required and name not in tables for name, spec in TABLES.items()):
        return None
    _derive_regions(tables)
    _check_references(tables, shown, collect)
    _check_choices(tables["preferences"], shown.get("preferences", "preferences"), collect)
    return tables


def _derive_regions(tables: dict[str, pd.DataFrame]) -> None:
    unis = tables["universities"]
    codes = unis["adcode"].to_numpy(str)
    unis["prefecture"] = prefecture_of(codes) if len(codes) else np.zeros(0, str)
    unis["province"] = province_of(codes) if len(codes) else np.zeros(0, str)


def _check_references(tables: dict[str, pd.DataFrame], shown: dict[str, str], collect: _Collector) -> None:
    posts = tables["posts"]
    post_ids = posts["post_id"].to_numpy(str)
    prefectures = np.unique(posts["prefecture"].to_numpy(str))
    provinces = np.unique(posts["province"].to_numpy(str))
    where = lambda name: shown.get(name, name)  # noqa: E731
    targets = {
        "cadres": tables["cadres"]["cadre_id"].to_numpy(str),
        "universities": tables["universities"]["university_id"].to_numpy(str),
    }
    checks: list[tuple[str, str, np.ndarray, str]] = [
        ("cadres", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        ("preferences", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        (
            "preferences",
            "target",
            np.concatenate([post_ids, prefectures, provinces]),
            f"a post_id, prefecture code or province code from {where('posts')}",
        ),
        ("partnerships", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        (
            "partnerships",
            "target",
            np.concatenate([post_ids, prefectures]),
            f"a post_id or prefecture code from {where('posts')}",
        ),
        ("history", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        ("history", "post_id", post_ids, f"a post_id from {where('posts')}"),
        ("pair_scores", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        ("pair_scores", "post_id", post_ids, f"a post_id from {where('posts')}"),
        (
            "pairings",
            "from_province",
            np.unique(tables["universities"]["province"].to_numpy(str)),
            f"the province code of a university in {where('universities')}",
        ),
        ("pairings", "to_province", provinces, f"the province code of a post in {where('posts')}"),
        ("pins", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        ("pins", "post_id", post_ids, f"a post_id from {where('posts')}"),
    ]
    for table, column, allowed, expected in checks:
        if table not in tables:
            continue
        values = tables[table][column].to_numpy(str)
        bad = np.flatnonzero(~np.isin(values, allowed))
        collect.cells(where(table), column, bad, values, expected)
    clash = np.flatnonzero(np.isin(post_ids, np.concatenate([prefectures, provinces])))
    collect.cells(where("posts"), "post_id", clash, post_ids, "a post_id that is not also a prefecture or province code")
    inconsistent = np.flatnonzero(province_of(posts["adcode"].to_numpy(str)) != posts["province"].to_numpy(str))
    collect.cells(
        where("posts"),
        "province",
        inconsistent,
        posts["province"].to_numpy(str),
        "the province code of the post's adcode (its first two digits + 0000)",
    )


def _check_choices(prefs: pd.DataFrame, shown: str, collect: _Collector) -> None:
    numbered = prefs.reset_index(drop=True)
    dup = np.flatnonzero(numbered.duplicated(["cadre_id", "choice"], keep="first").to_numpy())
    first = numbered.reset_index().groupby(["cadre_id", "choice"], sort=False)["index"].transform("min").to_numpy()
    values, cadres = numbered["choice"].to_numpy(), numbered["cadre_id"].to_numpy(str)
    collect.cells(
        shown,
        "choice",
        dup,
        values,
        "each choice number once per cadre",
        got=lambda row: f"choice {values[row]} again for cadre {str(cadres[row])!r} (first at row {collect.row(shown, first[row])})",
    )
