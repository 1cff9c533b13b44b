"""Figures of allocations, comparisons, sweeps, Pareto fronts and chained batches.

Every function returns a matplotlib ``Figure`` made without pyplot: no global
state and no display are needed, so the figures are the same in scripts and on
servers (write one with ``save``) and in notebooks, where a figure that is a
cell's last value is shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..allocation import Allocation
from ..evaluate import raw_totals
from ..factors import FACTORS
from ..i18n import N_, _
from ..naming import word
from . import fonts, maps
from .maps import write_allocation_map

fonts.install()  # Chinese names in every figure, never as empty boxes

BASELINE_COLOUR = "#33557f"
VARIANT_COLOUR = "#9fb6d3"
WISH_COLOURS = colormaps["RdYlGn_r"]  # green for a first wish, towards red for none
NO_WISH_COLOUR = WISH_COLOURS(1.0)
UNPLACED_COLOUR = "#bbbbbb"
MIN_WISHES_SHOWN = 5
# (column, label, format) of the metrics shown per variant, per sweep point and per chained batch
METRICS = [
    ("objective", N_("objective (points)"), "{:,.0f}"),
    ("first_choice_share", N_("first wish met"), "{:.0%}"),
    ("top3_share", N_("one of the first 3 wishes met"), "{:.0%}"),
    ("mean_distance_km", N_("mean distance (km)"), "{:,.0f}"),
    ("partnership_share", N_("postings under a partnership"), "{:.0%}"),
    ("total_annual_cost_yuan", N_("total annual cost (yuan)"), "{:,.0f}"),
    ("needs_met_share", N_("posts whose needs were met"), "{:.0%}"),
    ("over_ranked", N_("over-qualified cadres"), "{:.0f}"),
    ("relay_share", N_("relay posts kept"), "{:.0%}"),
    ("changed_cadres", N_("cadres moved from the baseline"), "{:.0f}"),
]
# Factor scores that are minus a quantity are shown as the quantity.
NEGATED = {
    "proximity": N_("total distance (km)"),
    "cost": N_("total annual cost (yuan)"),
    "rank_fit": N_("rank steps of over-qualification"),
}


def save(figure: Figure, path: str | Path) -> Path:
    """Write a figure as PNG (folders created as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    return path


def wish_colours(n_wishes: int) -> list:
    """Colour of wish 1, 2, ..., n: dark green for the first wish, orange for the last."""
    return [WISH_COLOURS(x) for x in np.linspace(0.0, 0.75, n_wishes)]


def _number_axis(axis, shape: str) -> None:
    """Tick labels in the metric's own format: percentages for shares, grouped digits otherwise."""
    if "%" in shape:
        axis.set_major_formatter(PercentFormatter(1.0))
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.10g}"))


def _wish_numbers(table: pd.DataFrame) -> np.ndarray:
    """Wish number met per placed cadre; 0 when none."""
    placed = table[table["post_id"] != ""]
    return placed["choice"].astype("Float64").fillna(0).to_numpy(int)


# ---- the map of an allocation ---------------------------------------------------------------


def allocation_map(allocation: Allocation, title: str | None = None, *, province: str | None = None, lang: str | None = None) -> Figure:
    """The map of an allocation on official boundaries: see ``reports.maps``."""
    return maps.allocation_map(allocation, title, province=province, lang=lang)


# ---- comparisons ----------------------------------------------------------------------------


def metrics_figure(table: pd.DataFrame) -> Figure:
    """One panel per metric, one bar per variant; the baseline (first row) darker, with a dashed line."""
    shown = [(column, label, shape) for column, label, shape in METRICS if column in table and table[column].notna().any()]
    n_columns = 3
    n_rows = math.ceil(len(shown) / n_columns)
    height = max(2.2, 0.32 * len(table) + 1.0)
    figure = Figure(figsize=(15, height * n_rows), layout="constrained")
    grid = figure.subplots(n_rows, n_columns, sharey=True, squeeze=False)
    names = table["variant"].astype(str).tolist()
    rows = np.arange(len(names))
    colours = [BASELINE_COLOUR] + [VARIANT_COLOUR] * (len(names) - 1)
    for axes, (column, label, shape) in zip(grid.flat, shown):
        values = pd.to_numeric(table[column], errors="coerce").astype(float).to_numpy()
        axes.barh(rows, np.nan_to_num(values), color=colours)
        if not np.isnan(values[0]):
            axes.axvline(values[0], color=BASELINE_COLOUR, linestyle="--", linewidth=0.8)
        span = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
        for row, value in zip(rows, values):
            text = _("n/a") if np.isnan(value) else shape.format(value)
            axes.text((0 if np.isnan(value) else value) + 0.01 * span, row, text, va="center", fontsize=8)
        axes.set_xlim(min(0.0, np.nanmin(values) * 1.2) if np.isfinite(values).any() else 0, 1.2 * span if span else 1)
        axes.set_title(_(label), fontsize=10)
        axes.set_yticks(rows, names)
        axes.tick_params(axis="x", labelsize=8)
        axes.xaxis.set_major_locator(MaxNLocator(4))
        _number_axis(axes.xaxis, shape)
        axes.grid(axis="x", alpha=0.2)
    grid.flat[0].invert_yaxis()
    for axes in list(grid.flat)[len(shown):]:
        axes.set_visible(False)
    figure.suptitle(_("Metrics by variant (the baseline is dark, with a dashed line)"))
    return figure


def wishes_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """For each variant, how many cadres got their 1st, 2nd, ... wish, none of them, or no post."""
    numbers = {name: _wish_numbers(table) for name, table in tables.items()}
    unplaced = {name: int((table["post_id"] == "").sum()) for name, table in tables.items()}
    n_wishes = max([MIN_WISHES_SHOWN, *(int(v.max()) for v in numbers.values() if len(v))])
    counts = np.array([[*np.bincount(v, minlength=n_wishes + 1)[1:], np.sum(v == 0), unplaced[name]] for name, v in numbers.items()])
    labels = [_("wish {number}").format(number=k) for k in range(1, n_wishes + 1)] + [_("no wish met"), _("no post")]
    colours = [*wish_colours(n_wishes), NO_WISH_COLOUR, UNPLACED_COLOUR]
    figure = Figure(figsize=(11, max(2.5, 0.45 * len(tables) + 1.5)), layout="constrained")
    axes = figure.subplots()
    rows = np.arange(len(tables))
    left = np.zeros(len(tables))
    total = counts.sum(axis=1).max()
    for k, (label, colour) in enumerate(zip(labels, colours)):
        if not counts[:, k].any():
            continue
        axes.barh(rows, counts[:, k], left=left, color=colour, label=label)
        for row in rows:
            if counts[row, k] >= 0.035 * total:
                dark = k in (0, n_wishes)  # the dark green of the first wish and the red of none
                axes.text(left[row] + counts[row, k] / 2, row, str(counts[row, k]), ha="center", va="center", fontsize=8, color="white" if dark else "black")
        left += counts[:, k]
    axes.set_yticks(rows, list(tables))
    axes.invert_yaxis()
    axes.set_xlabel(_("cadres"))
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(labels), frameon=False)
    figure.suptitle(_("Wish number met, by variant"))
    return figure


# ---- sweeps, fronts and chains --------------------------------------------------------------


def sweep_figure(table: pd.DataFrame) -> Figure:
    """Metrics against the swept weight (one factor), or as heat maps over the grid (two factors)."""
    factors = [column.removeprefix("weight_") for column in table.columns if column.startswith("weight_")]
    shown = [m for m in METRICS if m[0] in table and m[0] not in ("objective", "changed_cadres") and table[m[0]].notna().any()]
    n_columns = 3
    n_rows = math.ceil(len(shown) / n_columns)
    figure = Figure(figsize=(14, 3.6 * n_rows), layout="constrained")
    grid = figure.subplots(n_rows, n_columns, squeeze=False)
    for axes, (column, label, shape) in zip(grid.flat, shown):
        if len(factors) == 1:
            axes.plot(table[f"weight_{factors[0]}"], table[column], marker="o", color=BASELINE_COLOUR)
            axes.set_xlabel(_("weight of {factor} (points per {unit})").format(factor=word(factors[0]), unit=word(FACTORS[factors[0]].unit)))
            axes.grid(alpha=0.3)
            _number_axis(axes.yaxis, shape)
        else:
            grid_values = table.pivot_table(index=f"weight_{factors[0]}", columns=f"weight_{factors[1]}", values=column, aggfunc="first")
            image = axes.imshow(grid_values.to_numpy(float), cmap="viridis", aspect="auto", origin="lower")
            axes.set_xticks(range(grid_values.shape[1]), [f"{v:g}" for v in grid_values.columns], fontsize=8)
            axes.set_yticks(range(grid_values.shape[0]), [f"{v:g}" for v in grid_values.index], fontsize=8)
            axes.set_xlabel(_("weight of {factor}").format(factor=word(factors[1])))
            axes.set_ylabel(_("weight of {factor}").format(factor=word(factors[0])))
            middle = np.nanmean(grid_values.to_numpy(float))
            for (i, j), value in np.ndenumerate(grid_values.to_numpy(float)):
                if not np.isnan(value):
                    axes.text(j, i, shape.format(value), ha="center", va="center", fontsize=7, color="white" if value < middle else "black")
            _number_axis(figure.colorbar(image, ax=axes, shrink=0.8).ax.yaxis, shape)
        axes.set_title(_(label), fontsize=10)
    for axes in list(grid.flat)[len(shown):]:
        axes.set_visible(False)
    figure.suptitle(_("Weight sweep over {factors}").format(factors=_(" and ").join(word(f) for f in factors)))
    return figure


def objective_axis(name: str, values) -> tuple[np.ndarray, str]:
    """A factor's raw total as plotted: the quantity itself for scores that are minus a quantity."""
    values = np.asarray(values, float)
    if name in NEGATED:
        return -values, _("{quantity}, lower is better").format(quantity=_(NEGATED[name]))
    return values, _("{factor} ({unit}), higher is better").format(factor=word(name), unit=word(FACTORS[name].unit))


def pareto_figure(front: pd.DataFrame, a: str | None = None, b: str | None = None, chosen: Allocation | None = None) -> Figure:
    """The front of ``pareto`` (``b`` across, ``a`` up), proven points filled and others hollow with
    their gap; ``chosen``, an allocation of the same scenario, is marked with a star."""
    a, b = a or front.attrs["a"], b or front.attrs["b"]
    solved = front[front["status"].isin(["OPTIMAL", "FEASIBLE"])]
    x, x_label = objective_axis(b, solved[f"raw_{b}"])
    y, y_label = objective_axis(a, solved[f"raw_{a}"])
    proven = (solved["status"] == "OPTIMAL").to_numpy()
    figure = Figure(figsize=(9, 6.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(x, y, linestyle=":", color=BASELINE_COLOUR, linewidth=1)
    axes.scatter(x[proven], y[proven], s=45, color=BASELINE_COLOUR, zorder=3, label=_("Pareto-optimal (proven)"))
    if (~proven).any():
        axes.scatter(x[~proven], y[~proven], s=45, facecolors="white", edgecolors=BASELINE_COLOUR, zorder=3, label=_("best found (not proven)"))
        for xi, yi, gap in zip(x[~proven], y[~proven], solved.loc[~proven, "gap"]):
            axes.annotate(_("gap {gap:.2%}").format(gap=gap), (xi, yi), textcoords="offset points", xytext=(6, -10), fontsize=8)
    if chosen is not None:
        totals = raw_totals(chosen.scenario, chosen.policy, chosen.post_of_cadre)
        cx = objective_axis(b, [totals[f"raw_{b}"]])[0]
        cy = objective_axis(a, [totals[f"raw_{a}"]])[0]
        axes.scatter(cx, cy, marker="*", s=220, color="#e09f3e", edgecolors="black", zorder=4, label=_("chosen allocation (the policy's weights)"))
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    axes.set_title(
        _("Pareto front: {a} against {b} ({proven} of {points} points proven)").format(a=word(a), b=word(b), proven=int(proven.sum()), points=len(solved))
    )
    return figure


def chain_figure(table: pd.DataFrame) -> Figure:
    """Year by year, per relay mode: relay posts kept, wishes met, mean distance and total cost."""
    panels = [
        ("relay_share", N_("relay posts kept"), "{:.0%}"),
        ("wishes_met_share", N_("cadres with a wish met"), "{:.0%}"),
        ("mean_distance_km", N_("mean distance (km)"), "{:,.0f}"),
        ("total_annual_cost_yuan", N_("total annual cost (yuan)"), "{:,.0f}"),
    ]
    figure = Figure(figsize=(12, 8), layout="constrained")
    grid = figure.subplots(2, 2, sharex=True)
    years = sorted(table["year"].unique())
    for axes, (column, label, shape) in zip(grid.flat, panels):
        for mode, rows in table.groupby("mode", sort=False):
            axes.plot(rows["year"], pd.to_numeric(rows[column], errors="coerce"), marker="o", label=_("relay: {mode}").format(mode=word(mode)))
        axes.set_title(_(label), fontsize=10)
        _number_axis(axes.yaxis, shape)
        axes.set_xticks(years, [str(year) for year in years])
        axes.grid(alpha=0.3)
    grid.flat[0].legend()
    figure.suptitle(_("Chained batches: each allocation is the next batch's relay history"))
    return figure


__all__ = [
    "allocation_map",
    "chain_figure",
    "metrics_figure",
    "pareto_figure",
    "save",
    "sweep_figure",
    "wishes_figure",
    "write_allocation_map",
]
