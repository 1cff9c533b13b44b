"""Validating tables against the column contract (``formats`` reads them).

Bad cells are grouped per file, column and expectation (a long run of them is
summarised); rows are counted as a spreadsheet shows them: the header is row 1,
the first data row is row 2.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import Problem
from ..geo import CHINA_LAT, CHINA_LON, prefecture_of, province_of
from ..i18n import _
from ..ranks import RANKS, parse_ranks
from ..rules.stable import TABLE as PRIORITIES
from ..rules.stable import priority_problems
from ..schema import COLUMN_PARSERS, TABLES, TableSpec

MAX_ROWS_PER_PROBLEM = 10
TRUE_WORDS = {"true", "yes", "y", "1", "是"}
FALSE_WORDS = {"false", "no", "n", "0", "否"}


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
                Problem(shown, f"column {column}", expected, _("{count} more rows like the above (not listed)").format(count=extra))
            )


_CODE = re.compile(r"^\d{6}$")


def _parse_column(kind: str, text: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Parsed values, a mask of bad cells, and the expectation for messages."""
    blank = text == ""
    if kind in COLUMN_PARSERS:
        return COLUMN_PARSERS[kind](text)
    if kind == "id":
        return text, blank, _("a non-empty id")
    if kind == "text":
        return text, np.zeros(len(text), bool), "text"
    if kind == "code":
        good = np.array([bool(_CODE.match(t)) for t in text], dtype=bool)
        return text, ~good, _("a 6-digit administrative code")
    if kind == "rank":
        codes, unknown = parse_ranks(text)
        return np.where(unknown, text, codes), unknown, _("one of {names}").format(names=", ".join(RANKS))
    if kind == "pin_kind":
        lowered = np.char.lower(text.astype(str))
        return lowered, ~np.isin(lowered, ["pin", "forbid"]), _("one of pin, forbid")
    if kind == "bool":
        lowered = np.char.lower(text.astype(str))
        return np.isin(lowered, list(TRUE_WORDS)), ~np.isin(lowered, list(TRUE_WORDS | FALSE_WORDS)), _("true or false (or 是/否)")
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    not_number = np.isnan(numbers)
    if kind == "float":
        return numbers, not_number & ~blank, _("a number")
    if kind == "amount":
        return numbers, (not_number & ~blank) | (numbers < 0), _("a number >= 0")
    if kind == "lon":
        return numbers, not_number | (numbers < CHINA_LON[0]) | (numbers > CHINA_LON[1]), (
            _("a longitude inside China ({low:g} to {high:g})").format(low=CHINA_LON[0], high=CHINA_LON[1])
        )
    if kind == "lat":
        return numbers, not_number | (numbers < CHINA_LAT[0]) | (numbers > CHINA_LAT[1]), (
            _("a latitude inside China ({low:g} to {high:g})").format(low=CHINA_LAT[0], high=CHINA_LAT[1])
        )
    whole = ~not_number & (np.mod(np.nan_to_num(numbers), 1) == 0)
    if kind == "int":
        return np.nan_to_num(numbers).astype(np.int64), ~whole, _("a whole number")
    if kind == "count":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 0), _("a whole number >= 0")
    if kind == "choice":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 1), _("a whole number >= 1")
    raise ValueError(f"unknown column kind {kind}")


def _validate_table(spec: TableSpec, frame: pd.DataFrame, shown: str, collect: _Collector) -> pd.DataFrame | None:
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        collect.problems.append(
            Problem(shown, f"column {name}", _("a column named {name!r}").format(name=name), _("columns {names}").format(names=", ".join(frame.columns) or _("none")))
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
        expected = _("each target once per cadre (a wish listed twice)")
    else:
        expected = _("a unique {key}").format(key=" + ".join(key))
    values = numbered[key[-1]].to_numpy(str)
    collect.cells(shown, key[-1], dup, values, expected, got=lambda row: _("{value!r} again (first at row {row})").format(value=str(values[row]), row=collect.row(shown, first[row])))


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
            checked.attrs.clear()  # the tables handed out carry no attrs (file rows, encoding)
            tables[name] = checked
    if any(spec.required and name not in tables for name, spec in TABLES.items()):
        return None
    _derive_regions(tables)
    _check_references(tables, shown, collect)
    _check_choices(tables["preferences"], shown.get("preferences", "preferences"), collect)
    if PRIORITIES in tables:
        where = shown.get(PRIORITIES, PRIORITIES)
        problems += priority_problems(tables, where, lambda index: collect.row(where, index))
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
        ("cadres", "university_id", targets["universities"], _("a university_id from {file}").format(file=where("universities"))),
        ("preferences", "cadre_id", targets["cadres"], _("a cadre_id from {file}").format(file=where("cadres"))),
        (
            "preferences",
            "target",
            np.concatenate([post_ids, prefectures, provinces]),
            _("a post_id, prefecture code or province code from {file}").format(file=where("posts")),
        ),
        ("partnerships", "university_id", targets["universities"], _("a university_id from {file}").format(file=where("universities"))),
        (
            "partnerships",
            "target",
            np.concatenate([post_ids, prefectures]),
            _("a post_id or prefecture code from {file}").format(file=where("posts")),
        ),
        ("history", "university_id", targets["universities"], _("a university_id from {file}").format(file=where("universities"))),
        ("history", "post_id", post_ids, _("a post_id from {file}").format(file=where("posts"))),
        ("pair_scores", "cadre_id", targets["cadres"], _("a cadre_id from {file}").format(file=where("cadres"))),
        ("pair_scores", "post_id", post_ids, _("a post_id from {file}").format(file=where("posts"))),
        (
            "pairings",
            "from_province",
            np.unique(tables["universities"]["province"].to_numpy(str)),
            _("the province code of a university in {file}").format(file=where("universities")),
        ),
        ("pairings", "to_province", provinces, _("the province code of a post in {file}").format(file=where("posts"))),
        ("pins", "cadre_id", targets["cadres"], _("a cadre_id from {file}").format(file=where("cadres"))),
        ("pins", "post_id", post_ids, _("a post_id from {file}").format(file=where("posts"))),
    ]
    for table, column, allowed, expected in checks:
        if table not in tables:
            continue
        values = tables[table][column].to_numpy(str)
        bad = np.flatnonzero(~np.isin(values, allowed))
        collect.cells(where(table), column, bad, values, expected)
    clash = np.flatnonzero(np.isin(post_ids, np.concatenate([prefectures, provinces])))
    collect.cells(where("posts"), "post_id", clash, post_ids, _("a post_id that is not also a prefecture or province code"))
    inconsistent = np.flatnonzero(province_of(posts["adcode"].to_numpy(str)) != posts["province"].to_numpy(str))
    collect.cells(
        where("posts"),
        "province",
        inconsistent,
        posts["province"].to_numpy(str),
        _("the province code of the post's adcode (its first two digits + 0000)"),
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
        _("each choice number once per cadre"),
        got=lambda row: _("choice {choice} again for cadre {cadre!r} (first at row {row})").format(
            choice=values[row], cadre=str(cadres[row]), row=collect.row(shown, first[row])
        ),
    )
