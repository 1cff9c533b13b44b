"""Excel workbooks of the results, for people: readable headers in the current language.

Each sheet has a frozen header row, columns as wide as their content (a CJK
character counts twice), numbers as numbers and ids as text, so that Excel keeps
leading zeros and never reads an id as a formula. xlsxwriter writes them: it is
about three times faster than openpyxl at writing (openpyxl still reads the input
workbooks). The CSV files keep the machine
column names; only the workbooks translate them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..factors import FACTORS
from ..i18n import N_, _

MAX_WIDTH = 60
MIN_WIDTH = 6
NUMBER_WIDTH = 12  # a number shown in Excel's General format takes at most about this
WIDE = re.compile("[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
SHARE_FORMAT, DECIMAL_FORMAT = "0.0%", "0.00"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an .xlsx file cannot hold

HEADERS: dict[str, str] = {
    "cadre_id": N_("Cadre"),
    "university_id": N_("University"),
    "university_name": N_("University name"),
    "rank": N_("Rank"),
    "cross_province_ok": N_("Volunteers for another province"),
    "post_id": N_("Post"),
    "adcode": N_("County code"),
    "post_name": N_("County"),
    "prefecture": N_("Prefecture code"),
    "prefecture_name": N_("Prefecture"),
    "province": N_("Province code"),
    "province_name": N_("Province"),
    "min_rank": N_("Minimum rank"),
    "choice": N_("Wish met"),
    "choice_met": N_("Wish met"),
    "distance_km": N_("Distance (km)"),
    "partnership": N_("Partnership"),
    "relay": N_("Relay"),
    "rank_excess": N_("Rank above minimum"),
    "annual_cost_yuan": N_("Annual cost (yuan)"),
    "score_total": N_("Points in all"),
    # summary
    "scenario": N_("Scenario"),
    "policy": N_("Policy"),
    "item": N_("Item"),
    "value": N_("Value"),
    "status": N_("Status"),
    "proof": N_("Proof"),
    "message": N_("Message"),
    "objective": N_("Objective (points)"),
    "best_bound": N_("Upper bound (points)"),
    "gap": N_("Gap"),
    "stopped_by": N_("Stopped by"),
    "reproducible": N_("Reproducible"),
    "allowed_pairs": N_("Allowed (cadre, post) pairs"),
    "wall_seconds": N_("Seconds"),
    "assigned": N_("Cadres placed"),
    "unassigned": N_("Cadres not placed"),
    "first_choice_share": N_("First wish met (share)"),
    "top3_share": N_("One of the first three wishes met (share)"),
    "no_wish_met": N_("No wish met"),
    "mean_distance_km": N_("Mean distance (km)"),
    "partnership_share": N_("Partnership postings (share)"),
    "over_ranked": N_("Cadres above the post's rank"),
    "total_annual_cost_yuan": N_("Annual cost in all (yuan)"),
    "relay_targets": N_("Relay posts"),
    "relay_kept": N_("Relay posts kept"),
    "relay_share": N_("Relay posts kept (share)"),
    # universities, budgets, audit
    "cadres": N_("Cadres"),
    "placed": N_("Placed"),
    "first_choice": N_("First wish met"),
    "top3": N_("One of the first three wishes met"),
    "mean_wish_points": N_("Mean wish points"),
    "cadres_in_swaps": N_("Cadres in improving swaps"),
    "envious_cadres": N_("Cadres with justified envy"),
    "z": N_("Standard errors from the mean"),
    "worse_off": N_("Worse off"),
    "budget_yuan": N_("Budget (yuan)"),
    "limit_yuan": N_("Limit (yuan)"),
    "slack_yuan": N_("Left (yuan)"),
    "binding": N_("Binding"),
    "finding": N_("Finding"),
    "cadre": N_("Cadre"),
    "post": N_("Post"),
    "other_cadre": N_("Other cadre"),
    "other_post": N_("Other post"),
    "sentence": N_("In words"),
    # comparison, changes, explanations
    "variant": N_("Variant"),
    "description": N_("Description"),
    "changed_cadres": N_("Cadres moved"),
    "variants_changed": N_("Variants that move the cadre"),
    "wish": N_("Wish"),
    "target": N_("Target"),
    "target_kind": N_("Target kind"),
    "target_name": N_("Target name"),
    "posts_named": N_("Posts named"),
    "posts_open": N_("Posts open"),
    "blocked_by": N_("Blocked by"),
    "granted_post": N_("Post if granted"),
    "price_points": N_("Price (points)"),
    "price_proven": N_("Price proven"),
    "price_at_least": N_("Price at least"),
    "relay_kept_change": N_("Change in relay posts kept"),
    "cadres_moved": N_("Cadres moved"),
    "holders": N_("Held by"),
    "holder_score": N_("Holder's points"),
    "holder_moves_to": N_("Holder moves to"),
}
FACTOR_NAMES: dict[str, str] = {
    "preferences": N_("wishes"),
    "proximity": N_("proximity"),
    "partnership": N_("partnership"),
    "relay": N_("relay"),
    "rank_fit": N_("rank fit"),
    "cost": N_("cost"),
    "pair_scores": N_("pair scores"),
}
# columns named after a factor: prefix -> header with the factor's name
FACTOR_HEADERS: dict[str, str] = {
    "score_": N_("Points: {factor}"),
    "points_": N_("Points: {factor}"),
    "raw_": N_("Raw score: {factor}"),
    "price_": N_("Price: {factor}"),
}
SHEETS: dict[str, str] = {
    "allocation": N_("Allocation"),
    "summary": N_("Summary"),
    "universities": N_("Universities"),
    "budgets": N_("Budgets"),
    "audit": N_("Audit"),
    "comparison": N_("Comparison"),
    "changes": N_("Changes"),
    "sweep": N_("Sweep"),
    "pareto": N_("Pareto front"),
    "explanations": N_("Explanations"),
}


@dataclass
class Sheet:
    """One sheet: a machine name (a key of ``SHEETS``), its table, and headers for columns ``HEADERS`` lacks."""

    name: str
    frame: pd.DataFrame
    headers: Mapping[str, str] = field(default_factory=dict)  # column -> header, already in the reader's language


def header(column: str) -> str:
    """The header of a machine column in the current language; a column the engine does not name stays as it is."""
    if column in HEADERS:
        return _(HEADERS[column])
    for prefix, label in FACTOR_HEADERS.items():
        factor = column.removeprefix(prefix)
        if column.startswith(prefix) and factor in FACTORS:
            return _(label).format(factor=_(FACTOR_NAMES.get(factor, factor)))
    return column


def write_workbook(sheets: Sequence[Sheet], path: str | Path) -> None:
    """Write ``sheets`` as an .xlsx workbook at ``path``, headers and sheet names in the current language."""
    import xlsxwriter  # here, not at import: a solve sends its map's sites before it writes anything

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # text stays text: no formulas, links or numbers made of it (an id '0012', a note '=1+1'); the sheets are
    # assembled in memory, not in temporary files, which takes a fifth less time for a solve's workbook
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(path), options)
    try:
        formats = {pattern: book.add_format({"num_format": pattern}) for pattern in (SHARE_FORMAT, DECIMAL_FORMAT)}
        bold = book.add_format({"bold": True})
        for sheet in sheets:
            _write_sheet(book, sheet, formats, bold)
    finally:
        book.close()


def write_explanations_xlsx(frame: pd.DataFrame, path: str | Path) -> None:
    """``explain --all``'s table (explanations.csv) as a workbook of one sheet."""
    write_workbook([Sheet("explanations", frame)], path)


def _write_sheet(book, sheet: Sheet, formats: dict, bold) -> None:
    frame = sheet.frame.reset_index(drop=True)
    title = re.sub(r"[\[\]:*?/\\]", " ", _(SHEETS.get(sheet.name, sheet.name)))[:31]
    page = book.add_worksheet(title)
    page.freeze_panes(1, 0)
    headers = [sheet.headers.get(str(column), header(str(column))) for column in frame.columns]
    columns = [_cells(frame[column]) for column in frame.columns]
    for index, (column, label, values) in enumerate(zip(frame.columns, headers, columns)):
        pattern = _number_format(str(column), frame[column])
        page.set_column(index, index, _width(label, frame[column], values), formats.get(pattern))
    page.write_row(0, 0, headers, bold)
    for row, cells in enumerate(zip(*columns), start=1):
        page.write_row(row, 0, cells)


def _cells(values: pd.Series) -> list:
    """A column as Python values: numbers stay numbers, NA becomes an empty cell, an infinity the
    text 'inf' (a workbook holds no infinite number), text is cleaned of control characters."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        cells = values.astype(object).tolist()
        if not pd.api.types.is_bool_dtype(values.dtype):
            for row in np.flatnonzero(np.isinf(values.to_numpy(float, na_value=np.nan))):
                cells[row] = str(cells[row])
    else:
        cells = [_plain(value) for value in values.astype(object).tolist()]
    for row in np.flatnonzero(missing):  # pandas may hand NA back as NaN, None or pd.NA
        cells[row] = None
    return cells


def _plain(value) -> object:
    """A cell of a text column: text without the control characters a workbook cannot hold; a bool or
    a finite number as it is; anything else as text."""
    if isinstance(value, str):
        return CONTROL.sub("", value)
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return str(value)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    return str(value)


def _number_format(column: str, values: pd.Series) -> str | None:
    if not pd.api.types.is_float_dtype(values.dtype):
        return None
    return SHARE_FORMAT if column.endswith("_share") or column == "gap" else DECIMAL_FORMAT


def _width(title: str, values: pd.Series, cells: list) -> float:
    """Characters the column needs: its header or its widest cell, a CJK character counting twice."""
    texts = ["" if cell is None else str(cell) for cell in cells]  # plain Python: pandas' string methods cost ten times as much here
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        content = min(NUMBER_WIDTH, max(map(len, texts), default=0))
    else:
        content = max((len(text) + len(WIDE.findall(text)) for text in texts), default=0)
    title_width = len(title) + len(WIDE.findall(title))
    return float(min(MAX_WIDTH, max(MIN_WIDTH, title_width, content) + 2))
