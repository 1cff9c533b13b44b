"""Rows of the result tables, progress lines, and the tables as terminal text."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..allocation import Allocation
from ..errors import InfeasibleError
from ..evaluate import raw_totals
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

    def __call__(self, label: str, row: Mapping[str, Any], detail: str = "") -> None:
        self.done += 1
        if self.report is None:
            return
        objective = row.get("objective")
        shown = f", objective {objective:,.1f}" if objective is not None and not pd.isna(objective) else ""
        seconds = f", {row['wall_seconds']:.2f} s" if "wall_seconds" in row else ""
        elapsed = time.perf_counter() - self.started
        self.report(f"[{self.done}/{self.total}] {label}: {row['status']}{shown}{detail}{seconds} (elapsed {elapsed:.1f} s)")


def format_comparison(table: pd.DataFrame) -> str:
    """The comparison as a terminal table: one line per variant, the key figures."""
    columns = {
        "variant": ("variant", "{}"),
        "status": ("status", "{}"),
        "objective": ("objective", "{:,.1f}"),
        "gap": ("gap", "{:.2%}"),
        "first_choice_share": ("1st wish", "{:.1%}"),
        "top3_share": ("top 3", "{:.1%}"),
        "mean_distance_km": ("mean km", "{:,.1f}"),
        "partnership_share": ("partner", "{:.1%}"),
        "total_annual_cost_yuan": ("cost yuan", "{:,.0f}"),
        "changed_cadres": ("moved", "{:.0f}"),
    }
    return _text_table(table, columns)


def format_chain(table: pd.DataFrame) -> str:
    """The chain as a terminal table: year by year, one line per relay mode."""
    columns = {
        "year": ("year", "{}"),
        "mode": ("relay", "{}"),
        "status": ("status", "{}"),
        "relay_kept": ("kept", "{:.0f}"),
        "relay_targets": ("of", "{:.0f}"),
        "relay_share": ("relay kept", "{:.1%}"),
        "wishes_met_share": ("wish met", "{:.1%}"),
        "first_choice_share": ("1st wish", "{:.1%}"),
        "mean_distance_km": ("mean km", "{:,.1f}"),
        "total_annual_cost_yuan": ("cost yuan", "{:,.0f}"),
    }
    return _text_table(table.sort_values(["year"], kind="stable"), columns)


def _text_table(table: pd.DataFrame, columns: Mapping[str, tuple[str, str]]) -> str:
    """Aligned text: the first column left, the others right; '-' where a value is missing."""
    lines = [[label for label, _ in columns.values()]]
    for _, row in table.iterrows():
        cells = []
        for column, (_, shape) in columns.items():
            value = row.get(column)
            missing = value is None or (not isinstance(value, str) and pd.isna(value))
            cells.append("-" if missing else shape.format(value))
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(line, widths)))
        for line in lines
    )
