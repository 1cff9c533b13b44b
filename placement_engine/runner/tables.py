"""Rows of the result tables, progress lines, and the tables as terminal text."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..allocation import Allocation
from ..errors import InfeasibleError
from ..evaluate import raw_totals
from ..i18n import N_, _
from ..io.excel import WIDE
from .workbench import Report


def allocation_row(allocation: Allocation) -> dict[str, Any]:
    """Status, objective, every summary metric, points and raw totals per factor, of one allocation."""
    summary = allocation.summary
    return {
        "status": summary["status"],
        "proof": summary["proof"],
        "message": "",
        "objective": summary["objective"],
        "best_bound": summary["best_bound"],
        "gap": summary["gap"],
        "wall_seconds": summary["wall_seconds"],
        **summary["metrics"],
        **{f"points_{name}": value for name, value in summary["factor_totals"].items()},
        **raw_totals(allocation.scenario, allocation.policy, allocation.post_of_cadre),
    }


def _failure_row(error: Exception) -> dict[str, Any]:
    """A row for a solve that found no allocation: INFEASIBLE, or UNKNOWN when the time ran out."""
    return {"status": "INFEASIBLE" if isinstance(error, InfeasibleError) else "UNKNOWN", "message": str(error)}


class _Progress:
    """One line per finished solve: count, label, status, objective, seconds, elapsed."""

    def __init__(self, report: Report | None, total: int):
        self.report, self.total, self.done = report, total, 0
        self.started = time.perf_counter()
        if hasattr(report, "start"):
            report.start(total)  # a progress bar (placement_engine.progress) learns its length

    def __call__(self, label: str, row: Mapping[str, Any], detail: str = "") -> None:
        self.done += 1
        if self.report is None:
            return
        objective = row.get("objective")
        shown = _(", objective {objective:,.1f}").format(objective=objective) if objective is not None and not pd.isna(objective) else ""
        seconds = _(", {seconds:.2f} s").format(seconds=row["wall_seconds"]) if "wall_seconds" in row else ""
        elapsed = time.perf_counter() - self.started
        self.report(
            _("[{done}/{total}] {label}: {status}{objective}{detail}{seconds} (elapsed {elapsed:.1f} s)").format(
                done=self.done, total=self.total, label=label, status=row["status"], objective=shown, detail=detail, seconds=seconds, elapsed=elapsed
            )
        )


COMPARISON_COLUMNS = {
    "variant": (N_("variant"), "{}"),
    "status": (N_("status"), "{}"),
    "objective": (N_("objective"), "{:,.1f}"),
    "gap": (N_("gap"), "{:.2%}"),
    "first_choice_share": (N_("1st wish"), "{:.1%}"),
    "top3_share": (N_("top 3"), "{:.1%}"),
    "mean_distance_km": (N_("mean km"), "{:,.1f}"),
    "partnership_share": (N_("partner"), "{:.1%}"),
    "total_annual_cost_yuan": (N_("cost yuan"), "{:,.0f}"),
    "changed_cadres": (N_("moved"), "{:.0f}"),
}
CHAIN_COLUMNS = {
    "year": (N_("year"), "{}"),
    "mode": (N_("relay"), "{}"),
    "status": (N_("status"), "{}"),
    "relay_kept": (N_("kept"), "{:.0f}"),
    "relay_targets": (N_("of"), "{:.0f}"),
    "relay_share": (N_("relay kept"), "{:.1%}"),
    "wishes_met_share": (N_("wish met"), "{:.1%}"),
    "first_choice_share": (N_("1st wish"), "{:.1%}"),
    "mean_distance_km": (N_("mean km"), "{:,.1f}"),
    "total_annual_cost_yuan": (N_("cost yuan"), "{:,.0f}"),
}


def format_comparison(table: pd.DataFrame) -> str:
    """The comparison as a terminal table: one line per variant, the key figures."""
    return _text_table(table, COMPARISON_COLUMNS)


def format_chain(table: pd.DataFrame) -> str:
    """The chain as a terminal table: year by year, one line per relay mode."""
    return _text_table(table.sort_values(["year"], kind="stable"), CHAIN_COLUMNS)


def _text_table(table: pd.DataFrame, columns: Mapping[str, tuple[str, str]]) -> str:
    """Aligned text: the first column left, the others right; '-' where a value is missing.
    Headings are in the current language; a CJK character takes two columns of a terminal."""
    lines = [[_(label) for label, _shape in columns.values()]]
    for _index, row in table.iterrows():
        cells = []
        for column, (_label, shape) in columns.items():
            value = row.get(column)
            missing = value is None or (not isinstance(value, str) and pd.isna(value))
            cells.append("-" if missing else shape.format(value))
        lines.append(cells)
    widths = [max(_width(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(_pad(cell, width, left=i == 0) for i, (cell, width) in enumerate(zip(line, widths)))
        for line in lines
    )


def _width(text: str) -> int:
    return len(text) + len(WIDE.findall(text))


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text
