"""Variants and comparisons: each variant solved on its own, then tables of what changed."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..allocation import Allocation, extra_cadre_columns
from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..i18n import _
from ..io import BASELINE
from ..parallel import Backend, run_tasks
from ..scenario import Scenario
from .fronts import _check_pareto, pareto
from .sweeps import _check_sweep, sweep
from .tables import _failure_row, _Progress, allocation_row, format_comparison
from .workbench import Report, SolveOptions, Workbench


def solve_variant(
    scenario: Scenario | str | Path,
    variant: str = BASELINE,
    options: SolveOptions | Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    workbench: Workbench | None = None,
    log: Report | None = None,
) -> dict[str, Any]:
    """Solve the baseline or one variant of a scenario (a path, or a loaded ``Scenario``).

    Returns a dict: ``variant``, ``description``, ``row`` (as in comparison.csv),
    ``allocation`` (None when none was found) and ``error`` (the exception then).
    With ``out_dir``, writes the solve folder there, with ``map.png``, or
    ``diagnosis.json`` when the variant is infeasible.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    if variant == BASELINE:
        target, description = scenario, _("the scenario as it is")
    else:
        target, description = scenario.variant(variant), scenario.variants[variant].description
    result: dict[str, Any] = {"variant": variant, "description": description, "allocation": None, "error": None}
    try:
        allocation = (workbench or Workbench()).solve(target, options=SolveOptions.of(options), log=log)
    except (InfeasibleError, NoSolutionError) as error:
        result.update(row=_failure_row(error), error=error)
        if out_dir is not None and isinstance(error, InfeasibleError):
            diagnosis = error.diagnosis
            io.write_folder(out_dir, {"diagnosis.json": lambda path: io.write_json(diagnosis, path)})
        return result
    result.update(row=allocation_row(allocation), allocation=allocation)
    if out_dir is not None:
        from ..reports import plots

        figure = plots.allocation_map(allocation, title=f"{scenario.name}: {variant}")
        allocation.write(out_dir, extra_files={"map.png": lambda path: plots.save(figure, path)})
    return result


def _variant_task(payload: tuple) -> dict[str, Any]:
    """One variant's solve, as a picklable top-level task for the parallel backends."""
    scenario, name, options, folder = payload
    return solve_variant(scenario, name, options, folder)


@dataclass
class Comparison:
    """What ``compare`` found: the tables it writes and the allocations behind them."""

    table: pd.DataFrame  # comparison.csv: one row per variant, the baseline first
    changes: pd.DataFrame  # changes.csv: one row per cadre, its post in each variant
    allocations: dict[str, Allocation | None]
    sweep: pd.DataFrame | None = None
    front: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)

    def __str__(self) -> str:
        return format_comparison(self.table)

    def __repr__(self) -> str:
        solved = sum(allocation is not None for allocation in self.allocations.values())
        moved = int((self.changes["variants_changed"] > 0).sum()) if len(self.changes) else 0
        return _("<Comparison: {variants} variants ({solved} solved), {moved} cadres moved by some variant>").format(
            variants=len(self.table), solved=solved, moved=moved
        )

    def _repr_html_(self) -> str:
        """The key figures per variant, not the tables behind them."""
        shown = {"variant": "{}", "status": "{}", "objective": "{:,.1f}", "gap": "{:.2%}", "first_choice_share": "{:.1%}", "changed_cadres": "{:.0f}"}
        columns = [column for column in shown if column in self.table]
        head = "".join(f"<th>{html.escape(io.excel.header(column))}</th>" for column in columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_shown(row[column], shown[column]))}</td>" for column in columns) + "</tr>"
            for _index, row in self.table.iterrows()
        )
        return f"<table><caption style='text-align:left'><b>{html.escape(repr(self))}</b></caption><tr>{head}</tr>{rows}</table>"

    def sheets(self) -> list[io.Sheet]:
        """The sheets of comparison.xlsx: the comparison, the changes, and the sweep and front when there are any."""
        sheets = [io.Sheet("comparison", self.table), io.Sheet("changes", self.changes, headers=_change_headers(self.changes, self.allocations))]
        sheets += [io.Sheet(name, frame) for name, frame in (("sweep", self.sweep), ("pareto", self.front)) if frame is not None]
        return sheets


def _shown(value: Any, shape: str) -> str:
    """A cell of the notebook table: '-' where a variant has no value."""
    return "-" if value is None or (not isinstance(value, str) and pd.isna(value)) else shape.format(value)


def _change_headers(changes: pd.DataFrame, allocations: Mapping[str, Allocation | None]) -> dict[str, str]:
    """Headers for the columns named after variants: '<variant>: post', '<variant>: county', '<variant>: moved'."""
    headers = {}
    for name in allocations:
        headers[name] = _("{variant}: post").format(variant=name)
        headers[f"{name}_post_name"] = _("{variant}: county").format(variant=name)
        headers[f"{name}_changed"] = _("{variant}: moved").format(variant=name)
    return {column: label for column, label in headers.items() if column in changes}


def compare(
    scenario: Scenario | str | Path,
    variants: Sequence[str] | None = None,
    *,
    options: SolveOptions | Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    sweep_weights: Mapping[str, Sequence[float]] | None = None,
    pareto_objectives: tuple[str, str] | None = None,
    points: int = 8,
    progress: Report | None = None,
    log: Report | None = None,
    backend: Backend = "process",
    jobs: int | None = None,
    address: str | None = None,
) -> Comparison:
    """Solve the baseline and each variant (all of them by default); optionally a sweep and a front.

    A variant that has no allocation gets a row with its status and message; the
    baseline must have one, since every comparison is made against it. Variants,
    and the sweep's points in chunks, are solved side by side by ``backend`` (see
    ``placement_engine.parallel``: a local process pool by default, ``"dask"`` with
    an optional scheduler ``address``), ``jobs`` at a time; the Pareto front runs in
    this process. ``log`` reaches the solves only when they run in this process.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    names = [BASELINE, *(scenario.variants if variants is None else variants)]
    unknown = [name for name in names[1:] if name not in scenario.variants]
    if unknown:
        expected = _("a variant of {scenario} (one of {names})").format(scenario=scenario.name, names=", ".join(scenario.variants) or _("none"))
        raise InputError([Problem("compare", "variants", expected, repr(name)) for name in unknown])
    # options are checked before the first solve, not after the last
    if sweep_weights:
        _check_sweep(sweep_weights)
    if pareto_objectives:
        _check_pareto(*pareto_objectives, points)
    out = Path(out_dir) if out_dir is not None else None
    # the whole folder is one run: written aside, swapped in when every part is done
    with io.OutputFolder(out) if out is not None else contextlib.nullcontext() as folder:
        comparison = _compare_into(
            scenario, names, options, folder.root if folder is not None else None, sweep_weights, pareto_objectives, points,
            progress, log, backend, jobs, address,
        )
    if out is not None:
        comparison.files = [out / path.name for path in comparison.files]
    return comparison


def _compare_into(scenario, names, options, out, sweep_weights, pareto_objectives, points, progress, log, backend, jobs, address) -> Comparison:
    """``compare``'s solves, writing into the folder ``out`` (None: nothing written)."""
    workbench = Workbench()
    tick = _Progress(progress, len(names))
    if backend == "sequential":
        results = []
        for name in names:
            folder = out / name if out is not None else None
            results.append(solve_variant(scenario, name, options, folder, workbench, log))
            tick(name, results[-1]["row"])
    else:
        payloads = [(scenario, name, SolveOptions.of(options), out / name if out is not None else None) for name in names]
        results = run_tasks(
            _variant_task,
            payloads,
            backend=backend,
            workers=jobs,
            address=address,
            progress=lambda done, total, elapsed, result: tick(result["variant"], result["row"]),
        )
    if results[0]["error"] is not None:
        raise results[0]["error"]
    allocations = {result["variant"]: result["allocation"] for result in results}
    comparison = Comparison(comparison_table(results), changes_table(allocations), allocations)
    if sweep_weights:
        comparison.sweep = sweep(
            scenario,
            sweep_weights,
            options=options,
            progress=progress,
            workbench=workbench,
            log=log,
            backend=backend,
            jobs=jobs,
            address=address,
        )
    if pareto_objectives:
        a, b = pareto_objectives
        comparison.front = pareto(scenario, a, b, points, options=options, progress=progress, workbench=workbench, log=log)
    if out is not None:
        comparison.files = _write_comparison(comparison, out)
    return comparison


def comparison_table(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per variant: name, description, cadres moved from the baseline, then its allocation row."""
    baseline = results[0]["allocation"]
    rows = []
    for result in results:
        allocation = result["allocation"]
        moved = None
        if allocation is not None and baseline is not None:
            ids = baseline.table["cadre_id"]
            moved = int((_posts_of(allocation.table, ids) != _posts_of(baseline.table, ids)).sum())
        rows.append({"variant": result["variant"], "description": result["description"], "changed_cadres": moved, **result["row"]})
    table = pd.DataFrame(rows)
    first = ["variant", "description", "status", "proof", "message", "objective", "best_bound", "gap", "changed_cadres"]
    return table[first + [column for column in table.columns if column not in first]]


def _posts_of(table: pd.DataFrame, cadre_ids: pd.Series, column: str = "post_id") -> np.ndarray:
    """The post (or another column of it) of each of these cadres in an allocation table; '' for one it lacks or leaves unplaced."""
    return table.set_index("cadre_id")[column].reindex(cadre_ids).fillna("").to_numpy()


def changes_table(allocations: Mapping[str, Allocation | None]) -> pd.DataFrame:
    """One row per cadre (of any variant, matched by cadre_id): the post and its county in each
    variant, and a flag ``<variant>_changed`` where the post differs from the baseline's. A cadre
    absent from a variant has an empty post there; a variant with no allocation has empty posts and
    empty flags. The cadres' own extra columns (notes, say) come last."""
    solved = {name: allocation.table for name, allocation in allocations.items() if allocation is not None}
    extras = list(dict.fromkeys(c for a in allocations.values() if a is not None for c in extra_cadre_columns(a.scenario)))
    people = pd.concat([table.reindex(columns=["cadre_id", "university_id", "university_name", *extras]) for table in solved.values()])
    changes = people.drop_duplicates("cadre_id").reset_index(drop=True)
    ids = changes["cadre_id"]
    base = _posts_of(solved[BASELINE], ids)
    columns: dict[str, Any] = {BASELINE: base, f"{BASELINE}_post_name": _posts_of(solved[BASELINE], ids, "post_name")}
    flags = []
    for name in allocations:
        if name == BASELINE:
            continue
        if name in solved:
            posts = _posts_of(solved[name], ids)
            columns[name] = posts
            columns[f"{name}_post_name"] = _posts_of(solved[name], ids, "post_name")
            columns[f"{name}_changed"] = pd.array(posts != base, dtype="boolean")
        else:
            columns[name] = columns[f"{name}_post_name"] = ""
            columns[f"{name}_changed"] = pd.array([pd.NA] * len(ids), dtype="boolean")
        flags.append(f"{name}_changed")
    posts = pd.DataFrame(columns, index=changes.index)
    posts["variants_changed"] = posts[flags].sum(axis=1).astype(int) if flags else 0
    people_columns = ["cadre_id", "university_id", "university_name"]
    return pd.concat([changes[people_columns], posts, changes[extras]], axis=1)


def _write_comparison(comparison: Comparison, out: Path) -> list[Path]:
    from ..reports import plots

    written = {
        "comparison.csv": comparison.table,
        "changes.csv": comparison.changes,
        "sweep.csv": comparison.sweep,
        "pareto.csv": comparison.front,
    }
    files = []
    for name, frame in written.items():
        if frame is not None:
            io.write_csv(frame, out / name)
            files.append(out / name)
    solved = {name: allocation.table for name, allocation in comparison.allocations.items() if allocation is not None}
    figures = {
        "metrics.png": plots.metrics_figure(comparison.table),
        "wishes.png": plots.wishes_figure(solved),
    }
    if comparison.sweep is not None:
        figures["sweep.png"] = plots.sweep_figure(comparison.sweep)
    if comparison.front is not None:
        figures["pareto.png"] = plots.pareto_figure(comparison.front, chosen=comparison.allocations[BASELINE])
    for name, figure in figures.items():
        plots.save(figure, out / name)
        files.append(out / name)
    io.write_workbook(comparison.sheets(), out / "comparison.xlsx")
    files.append(out / "comparison.xlsx")
    return files
