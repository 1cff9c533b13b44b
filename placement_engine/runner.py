"""Variants, comparisons, weight sweeps, Pareto fronts and chained relay batches (docs/runner.md).

Every solve here goes through a ``Workbench``, which keeps what does not change
from one solve of an instance to the next: the allowed pairs (they depend only
on the hard rules and on the parameters of factors that forbid pairs, such as
``proximity.max_km``) and the raw factor scores (they depend on every parameter
but the weight). A weight sweep therefore builds its pairs and scores once.

Solving one variant is ``solve_variant``, a plain function of picklable inputs
that writes its own output folder, so that ``compare`` can hand its variants to
``placement_engine.parallel``. A sweep hands it contiguous chunks of its grid
rather than single points, so that each worker reuses the scores within its chunk.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io
from .allocation import Allocation, resolve_options, solve
from .parallel import Backend, default_workers, run_tasks
from .rules.candidates import allowed_pairs
from .errors import InfeasibleError, InputError, NoSolutionError, Problem
from .evaluate import allocation_table, assigned_pairs, factor_params, factor_totals, metrics, posts_of
from .factors import FACTORS, Factor, SideConstraints
from .solve.flow import INT64_SAFE
from .io import BASELINE
from .solve.model import ScoreCache, Terms, build_terms, solve_terms
from .scenario import Scenario
from .schema import Policy, RelayMode
from .synth import SynthConfig, generate

Report = Callable[[str], None]

# Scores that are not whole at 3 decimals (km) are rounded to 0.1 unit in a Pareto front.
FALLBACK_SCALE = 10
MAX_DECIMALS = 3
# Policy changes that turn relay off, into a weighted factor, or into a rule (chain modes).
RELAY_MODES: dict[str, dict[str, Any]] = {
    "off": {"factors": {"relay": {"weight": 0.0, "mode": "soft"}}},
    "weight": {"factors": {"relay": {"mode": "soft"}}},
    "rule": {"factors": {"relay": {"mode": "rule"}}},
}
# Tables that name the first batch's cadres, so a chained batch with a fresh pool drops them.
PER_CADRE_TABLES = ("cadres", "preferences", "pins", "pair_scores", "history")


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings for every solve of a runner call; ``None`` takes the scenario's or the policy's."""

    time_limit: float | None = None
    workers: int | None = None
    seed: int | None = None

    @classmethod
    def of(cls, options: SolveOptions | Mapping[str, Any] | None) -> SolveOptions:
        if isinstance(options, SolveOptions):
            return options
        return cls(**(options or {}))

    def resolved(self, scenario: Scenario, policy: Policy) -> tuple[float, int, int]:
        """(time limit, workers, seed), in the order of precedence of ``solve``."""
        return resolve_options(scenario, policy, self.time_limit, self.workers, self.seed)


class Workbench:
    """Allowed pairs and raw factor scores, kept across solves of the same instance.

    ``pair_builds`` counts how often the allowed pairs were generated; ``score_hits``
    how often a factor's scores came from the cache instead of being recomputed.
    """

    def __init__(self) -> None:
        self._caches: dict[tuple, tuple[Any, ScoreCache]] = {}
        self.pair_builds = 0

    @property
    def score_hits(self) -> int:
        return sum(cache.hits for _, cache in self._caches.values())

    def cache(self, scenario: Scenario, policy: Policy) -> ScoreCache:
        """The score cache over the pairs ``policy`` allows in ``scenario``, built on first use."""
        instance = scenario.instance
        key = (id(instance), _pair_rules_key(policy))
        entry = self._caches.get(key)
        if entry is None or entry[0] is not instance:  # the instance is kept, so its id is not reused
            self.pair_builds += 1
            entry = (instance, ScoreCache(allowed_pairs(instance, policy)))
            self._caches[key] = entry
        return entry[1]

    def terms(self, scenario: Scenario, policy: Policy) -> Terms:
        cache = self.cache(scenario, policy)
        return build_terms(cache.pairs, policy, cache)

    def solve(
        self,
        scenario: Scenario,
        policy: Policy | None = None,
        options: SolveOptions | None = None,
        log: Report | None = None,
        audit: bool = True,
    ) -> Allocation:
        """``placement_engine.solve`` with the pairs and scores reused."""
        policy = policy or scenario.policy
        options = options or SolveOptions()
        return solve(
            scenario,
            policy,
            time_limit=options.time_limit,
            workers=options.workers,
            seed=options.seed,
            log=log,
            cache=self.cache(scenario, policy),
            audit=audit,
        )


def _pair_rules_key(policy: Policy) -> tuple:
    """What the allowed pairs depend on: the hard rules and every parameter of factors that forbid pairs."""
    forbidding = tuple(
        (name, params.model_dump_json(exclude={"weight"}))
        for name, params in policy.active_factors().items()
        if type(FACTORS[name]).forbidden is not Factor.forbidden
    )
    return policy.rules.model_dump_json(), forbidding


# ---- rows of the result tables --------------------------------------------------------------


def raw_totals(scenario: Scenario, policy: Policy, post_of_cadre: np.ndarray) -> dict[str, float]:
    """Each factor's unweighted score summed over the assigned cadres, in the factor's unit."""
    pairs = assigned_pairs(scenario.instance, post_of_cadre)
    params = factor_params(policy)
    return {f"raw_{name}": float(factor.scores(pairs, params[name]).sum()) for name, factor in FACTORS.items()}


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


# ---- variants and comparisons ---------------------------------------------------------------


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
        target, description = scenario, "the scenario as it is"
    else:
        target, description = scenario.variant(variant), scenario.variants[variant].description
    result: dict[str, Any] = {"variant": variant, "description": description, "allocation": None, "error": None}
    try:
        allocation = (workbench or Workbench()).solve(target, options=SolveOptions.of(options), log=log)
    except (InfeasibleError, NoSolutionError) as error:
        result.update(row=_failure_row(error), error=error)
        if out_dir is not None and isinstance(error, InfeasibleError):
            io.write_json(error.diagnosis, Path(out_dir) / "diagnosis.json")
        return result
    result.update(row=allocation_row(allocation), allocation=allocation)
    if out_dir is not None:
        from .reports import plots

        allocation.write(out_dir)
        plots.save(plots.allocation_map(allocation, title=f"{scenario.name}: {variant}"), Path(out_dir) / "map.png")
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
        expected = f"a variant of {scenario.name} (one of {', '.join(scenario.variants) or 'none'})"
        raise InputError([Problem("compare", "variants", expected, repr(name)) for name in unknown])
    # options are checked before the first solve, not after the last
    if sweep_weights:
        _check_sweep(sweep_weights)
    if pareto_objectives:
        _check_pareto(*pareto_objectives, points)
    out = Path(out_dir) if out_dir is not None else None
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


def _posts_of(table: pd.DataFrame, cadre_ids: pd.Series) -> np.ndarray:
    """The post of each of these cadres in an allocation table; '' for one it lacks or leaves unplaced."""
    return table.set_index("cadre_id")["post_id"].reindex(cadre_ids).fillna("").to_numpy()


def changes_table(allocations: Mapping[str, Allocation | None]) -> pd.DataFrame:
    """One row per cadre (of any variant, matched by cadre_id): the post in each variant, and a flag
    ``<variant>_changed`` where it differs from the baseline's. A cadre absent from a variant has
    an empty post there; a variant with no allocation has empty posts and empty flags."""
    solved = {name: allocation.table for name, allocation in allocations.items() if allocation is not None}
    people = pd.concat([table[["cadre_id", "university_id"]] for table in solved.values()]).drop_duplicates("cadre_id")
    changes = people.reset_index(drop=True)
    ids = changes["cadre_id"]
    base = _posts_of(solved[BASELINE], ids)
    changes[BASELINE] = base
    flags = []
    for name in allocations:
        if name == BASELINE:
            continue
        if name in solved:
            posts = _posts_of(solved[name], ids)
            changes[name] = posts
            changes[f"{name}_changed"] = pd.array(posts != base, dtype="boolean")
        else:
            changes[name] = ""
            changes[f"{name}_changed"] = pd.array([pd.NA] * len(ids), dtype="boolean")
        flags.append(f"{name}_changed")
    changes["variants_changed"] = changes[flags].sum(axis=1).astype(int) if flags else 0
    return changes


def _write_comparison(comparison: Comparison, out: Path) -> list[Path]:
    from .reports import plots

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
    return files


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


# ---- weight sweeps --------------------------------------------------------------------------


def sweep(
    scenario: Scenario | str | Path,
    weights: Mapping[str, Sequence[float]],
    *,
    options: SolveOptions | Mapping[str, Any] | None = None,
    progress: Report | None = None,
    workbench: Workbench | None = None,
    log: Report | None = None,
    backend: Backend = "process",
    jobs: int | None = None,
    address: str | None = None,
) -> pd.DataFrame:
    """Solve the scenario at every point of a weight grid over one or two factors.

    ``weights`` maps each factor to its weights (points per unit), e.g.
    ``{"proximity": [0, 0.05, 0.1, 0.2]}``. Returns one row per point, in grid
    order: the ``weight_<factor>`` columns, then the columns of comparison.csv.

    The grid is cut into contiguous chunks, about two per worker, solved side by
    side by ``backend`` as in ``compare``; each chunk builds the allowed pairs and
    raw scores once and reuses them at its other points. With ``"sequential"``,
    or a single worker, every point is solved in this process with ``workbench``
    and ``log``, which reach the solves only then.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    _check_sweep(weights)
    options = SolveOptions.of(options)
    names = list(weights)
    grid = itertools.product(*(weights[name] for name in names))
    points = [dict(zip(names, map(float, combination))) for combination in grid]
    tick = _Progress(progress, len(points))
    workers = min(jobs or default_workers(), len(points))
    if backend == "sequential" or workers == 1:
        workbench = workbench or Workbench()
        rows = []
        for point in points:
            rows.append(_sweep_row(scenario, point, options, workbench, log))
            tick(_sweep_label(names, rows[-1]), rows[-1])
        return pd.DataFrame(rows)
    chunks = _contiguous_chunks(points, min(len(points), 2 * workers))

    def report_chunk(done: int, total: int, elapsed: float, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            tick(_sweep_label(names, row), row)

    solved = run_tasks(
        _sweep_chunk_task,
        [(scenario, chunk, options) for chunk in chunks],
        backend=backend,
        workers=workers,
        address=address,
        progress=report_chunk,
    )
    return pd.DataFrame([row for rows in solved for row in rows])


def _sweep_row(
    scenario: Scenario, point: Mapping[str, float], options: SolveOptions, workbench: Workbench, log: Report | None
) -> dict[str, Any]:
    """The sweep row of one point: its weights, then its allocation row or failure row."""
    policy = scenario.policy.override({"factors": {name: {"weight": weight} for name, weight in point.items()}})
    try:
        row = allocation_row(workbench.solve(scenario, policy, options, log, audit=False))
    except (InfeasibleError, NoSolutionError) as error:
        row = _failure_row(error)
    return {**{f"weight_{name}": weight for name, weight in point.items()}, **row}


def _sweep_label(names: Sequence[str], row: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {row[f'weight_{name}']:g}" for name in names)


def _sweep_chunk_task(payload: tuple) -> list[dict[str, Any]]:
    """A contiguous chunk of sweep points, in order, as a picklable top-level task for the parallel backends."""
    scenario, points, options = payload
    workbench = Workbench()  # one per chunk, so that its points share the pairs and scores
    return [_sweep_row(scenario, point, options, workbench, None) for point in points]


def _contiguous_chunks(items: Sequence[Any], count: int) -> list[Sequence[Any]]:
    """``items`` cut in order into ``count`` runs whose lengths differ by at most one."""
    size, longer = divmod(len(items), count)
    bounds = [k * size + min(k, longer) for k in range(count + 1)]
    return [items[start:stop] for start, stop in zip(bounds, bounds[1:])]


def _check_sweep(weights: Mapping[str, Sequence[float]]) -> None:
    problems = []
    if not 1 <= len(weights) <= 2:
        problems.append(Problem("sweep", "factors", "one or two factors", f"{len(weights)}"))
    for name, values in weights.items():
        if name not in FACTORS:
            problems.append(Problem("sweep", f"factor {name}", f"a factor name (one of {', '.join(sorted(FACTORS))})", repr(name)))
        if not len(values):
            problems.append(Problem("sweep", f"factor {name}", "at least one weight", "none"))
    if problems:
        raise InputError(problems)


# ---- Pareto fronts by the epsilon-constraint method -----------------------------------------


@dataclass
class _Objective:
    """A factor's total as an integer objective: each pair's score times ``scale``, rounded."""

    name: str
    scale: int
    values: np.ndarray  # per allowed pair
    low: int  # no allocation totals less
    span: int  # more than the difference between the totals of any two allocations

    @classmethod
    def of(cls, name: str, scores: np.ndarray, cadre: np.ndarray, n_cadres: int) -> _Objective:
        scale = integer_scale(scores)
        values = np.rint(scores * scale).astype(np.int64)
        # Each cadre adds one of its pairs' values, or 0 when unplaced.
        least, most = np.zeros(n_cadres, np.int64), np.zeros(n_cadres, np.int64)
        np.minimum.at(least, cadre, values)
        np.maximum.at(most, cadre, values)
        return cls(name, scale, values, int(least.sum()), int(most.sum() - least.sum()) + 1)


def integer_scale(scores: np.ndarray) -> int:
    """10**k for the fewest decimals k <= 3 at which every score is whole, else FALLBACK_SCALE."""
    for decimals in range(MAX_DECIMALS + 1):
        scaled = scores * 10**decimals
        if np.all(np.abs(scaled - np.rint(scaled)) < 1e-6):
            return 10**decimals
    return FALLBACK_SCALE


def _at_least(values: np.ndarray, least: int, label: str) -> SideConstraints:
    """The row ``sum(values * x) >= least``, written ``-sum(values * x) <= -least``."""
    nonzero = np.flatnonzero(values)
    return SideConstraints([label], np.array([-least]), np.zeros(len(nonzero), np.int64), nonzero, -values[nonzero], "")


def pareto(
    scenario: Scenario | str | Path,
    a: str = "preferences",
    b: str = "proximity",
    points: int = 8,
    *,
    options: SolveOptions | Mapping[str, Any] | None = None,
    progress: Report | None = None,
    workbench: Workbench | None = None,
    log: Report | None = None,
) -> pd.DataFrame:
    """The Pareto front between two factors' raw totals (higher is better for both), by epsilon-constraint.

    The hard rules, the policy's side constraints and relay as a rule hold at every
    point; the weights play no part. First the two ends: the most ``a`` (then the
    most ``b`` among those allocations), and the most ``b`` (then the most ``a``).
    Then, for epsilons evenly spaced between the ends' ``b``, the most ``a`` subject
    to ``b >= epsilon`` (then the most ``b``). Dominated and repeated points are
    dropped, so the front has at most ``points`` rows, sorted by ``b``. Each row
    says whether its point is proven, and the gap on the objective it maximised.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    _check_pareto(a, b, points)
    tick = _Progress(progress, points)
    try:
        solver = _FrontSolver(scenario, a, b, SolveOptions.of(options), workbench or Workbench(), log)
    except (InfeasibleError, NoSolutionError) as error:  # relay as a rule found no allocation at all
        failed = {"maximised": a, "epsilon": float("nan"), **_failure_row(error)}
        tick(f"most {a}", failed)
        front = pd.DataFrame([failed])
        front.attrs.update({"a": a, "b": b})
        return front
    first, second = solver.first, solver.second
    found = [solver.point(first, second, None), solver.point(second, first, None)]
    tick(f"most {a}", found[0], solver.describe(found[0]))
    tick(f"most {b}", found[1], solver.describe(found[1]))
    if all(row["status"] in ("OPTIMAL", "FEASIBLE") for row in found):
        low, high = second.scale * found[0][b], second.scale * found[1][b]
        last = found[0]
        for k in range(1, points - 1):
            epsilon = int(np.ceil(low + k * (high - low) / (points - 1) - 1e-9))
            # an optimum for a looser epsilon that already meets this one is optimal for it too
            if last["status"] == "OPTIMAL" and round(last[b] * second.scale) >= epsilon:
                tick.done += 1
                continue
            last = solver.point(first, second, epsilon)
            tick(f"{b} >= {epsilon / second.scale:,.1f}", last, solver.describe(last))
            found.append(last)
    front = _nondominated(pd.DataFrame(found), a, b)
    front.attrs.update({"a": a, "b": b, "scale": {a: first.scale, b: second.scale}})
    return front


def _check_pareto(a: str, b: str, points: int) -> None:
    problems = [
        Problem("pareto", "objectives", f"a factor name (one of {', '.join(sorted(FACTORS))})", repr(name))
        for name in (a, b)
        if name not in FACTORS
    ]
    if a == b:
        problems.append(Problem("pareto", "objectives", "two different factors", f"{a!r} twice"))
    if points < 2:
        problems.append(Problem("pareto", "points", "at least 2", str(points)))
    if problems:
        raise InputError(problems)


class _FrontSolver:
    """Lexicographic optima of two integer objectives under the scenario's rules, one front point each."""

    def __init__(self, scenario: Scenario, a: str, b: str, options: SolveOptions, workbench: Workbench, log: Report | None):
        self.scenario, self.policy, self.log = scenario, scenario.policy, log
        self.time_limit, self.workers, self.seed = options.resolved(scenario, self.policy)
        cache = workbench.cache(scenario, self.policy)
        terms = workbench.terms(scenario, self.policy)
        params = factor_params(self.policy)
        cadre, n_cadres = cache.pairs.cadre, scenario.instance.n_cadres
        self.first = _Objective.of(a, cache.scores(a, params[a]), cadre, n_cadres)
        self.second = _Objective.of(b, cache.scores(b, params[b]), cadre, n_cadres)
        self.side = dict(terms.side)
        self.terms = replace(terms, lexicographic=[])
        if terms.lexicographic:
            self.side["lexicographic"] = self._keep_lexicographic(terms)

    def _solve(self, coef: np.ndarray, side: dict[str, SideConstraints]):
        terms = replace(self.terms, coef=coef, side=side)
        return solve_terms(terms, self.policy, time_limit=self.time_limit, workers=self.workers, seed=self.seed, log=self.log)

    def _keep_lexicographic(self, terms: Terms) -> SideConstraints:
        """The row 'keep as many relay postings as any allocation can' (relay as a rule), after finding that many."""
        indicator = np.sum([lex.indicator for lex in terms.lexicographic], axis=0).astype(np.int64)
        most = self._solve(indicator, self.side)
        if most.status != "OPTIMAL":
            raise NoSolutionError(f"could not prove the most relay postings that can be kept within {self.time_limit:g} s")
        return _at_least(indicator, int(indicator[most.chosen > 0].sum()), "relay postings kept")

    def best(self, primary: _Objective, secondary: _Objective, epsilon: int | None) -> tuple[Any, int]:
        """The most ``primary``, then the most ``secondary``, with ``secondary >= epsilon``.

        One solve of ``span * primary + secondary``: one unit of ``primary`` outweighs
        any change of ``secondary``, so this is exactly that order. Returns the
        solution and an upper bound on ``primary`` derived from the solver's bound.
        """
        side = dict(self.side)
        floor = secondary.low
        if epsilon is not None:
            side["epsilon"] = _at_least(secondary.values, epsilon, f"{secondary.name} >= {epsilon / secondary.scale:g}")
            floor = max(epsilon, secondary.low)
        # each cadre adds one coefficient: the objective must stay well inside int64 (Python ints here)
        largest = int(np.abs(primary.values).max(initial=0)) * secondary.span + int(np.abs(secondary.values).max(initial=0))
        if largest * max(self.scenario.instance.n_cadres, 1) >= INT64_SAFE:
            raise ValueError(f"{primary.name} and {secondary.name} are too large to combine into one exact objective")
        solution = self._solve(primary.values * secondary.span + secondary.values, side)
        return solution, (solution.bound - floor) // secondary.span

    def point(self, primary: _Objective, secondary: _Objective, epsilon: int | None) -> dict[str, Any]:
        """One row of the front: what was maximised, the epsilon, status, both objectives, gap, evaluation."""
        head = {"maximised": primary.name, "epsilon": float("nan") if epsilon is None else epsilon / secondary.scale}
        started = time.perf_counter()
        try:
            solution, bound = self.best(primary, secondary, epsilon)
        except (InfeasibleError, NoSolutionError) as error:
            return {**head, **_failure_row(error), "wall_seconds": time.perf_counter() - started}
        picked = solution.chosen > 0
        reached = int(primary.values[picked].sum())
        post_of_cadre = posts_of(self.terms.pairs, solution.chosen)
        return {
            **head,
            "status": solution.status,
            "proof": solution.proof,
            "message": "",
            self.first.name: int(self.first.values[picked].sum()) / self.first.scale,
            self.second.name: int(self.second.values[picked].sum()) / self.second.scale,
            "bound": bound / primary.scale,
            "gap": (bound - reached) / max(1, abs(bound)),
            "wall_seconds": time.perf_counter() - started,
            **_evaluation(self.scenario, self.policy, post_of_cadre),
        }

    def describe(self, row: Mapping[str, Any]) -> str:
        names = (self.first.name, self.second.name)
        return "".join(f", {name} {row[name]:,.1f}" for name in names if name in row)


def _evaluation(scenario: Scenario, policy: Policy, post_of_cadre: np.ndarray) -> dict[str, Any]:
    """The policy's objective, metrics, points and raw totals of an allocation given as posts per cadre."""
    table = allocation_table(scenario.instance, policy, post_of_cadre)
    return {
        "objective": float(table["score_total"].sum()),
        **metrics(scenario.instance, policy, table),
        **{f"points_{name}": value for name, value in factor_totals(table).items()},
        **raw_totals(scenario, policy, post_of_cadre),
    }


def _nondominated(points: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Solved points that no other solved point matches or beats on both objectives, sorted by ``b``;
    points with no allocation are kept at the end, with their status."""
    solved = points[points["status"].isin(["OPTIMAL", "FEASIBLE"])]
    if solved.empty:
        return points.reset_index(drop=True)
    solved = solved.sort_values([a, b], ascending=False)
    best_b = solved[b].cummax().shift(fill_value=-np.inf)
    front = solved[solved[b] > best_b].sort_values(b)
    return pd.concat([front, points[~points.index.isin(solved.index)]], ignore_index=True)


# ---- chained batches: relay over several years ----------------------------------------------


def chain(
    scenario: Scenario | str | Path,
    *,
    batches: int | None = None,
    modes: Sequence[RelayMode] | None = None,
    options: SolveOptions | Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    progress: Report | None = None,
    log: Report | None = None,
) -> pd.DataFrame:
    """Solve the scenario's ``chain``: batch after batch, each allocation the next one's relay history.

    The first batch is the scenario's own tables; each later batch has a fresh pool
    (cadres and wishes) from the generator, with the chain's pool settings and seed,
    the same in every mode. Each relay mode (off, weight, rule) runs the whole chain.
    ``batches`` keeps only the first so many years. Returns one row per mode and year.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    spec = scenario.chain
    if spec is None:
        raise InputError([Problem(scenario.name, "key chain", "a chain section (years, seeds, pool, relay_modes)", "none")])
    if batches is not None and batches < 1:
        raise InputError([Problem("chain", "batches", "at least 1", str(batches))])
    years = spec.years[: batches or len(spec.years)]
    modes = list(modes or spec.relay_modes)
    unknown = [mode for mode in modes if mode not in RELAY_MODES]
    if unknown:
        raise InputError([Problem("chain", "modes", f"one of {', '.join(RELAY_MODES)}", repr(mode)) for mode in unknown])
    pools = {year: _fresh_pool(scenario, spec.pool, seed) for year, seed in zip(years[1:], spec.pool_seeds())}
    out = Path(out_dir) if out_dir is not None else None
    options = SolveOptions.of(options)
    workbench = Workbench()
    tick = _Progress(progress, len(modes) * len(years))
    rows = []
    for mode in modes:
        policy = scenario.policy.override(RELAY_MODES[mode])
        history = scenario.tables["history"]
        for year in years:
            batch = scenario.with_policy(policy) if year == years[0] else _later_batch(scenario, policy, pools[year], history, year)
            try:
                allocation = workbench.solve(batch, policy, options, log)
            except InfeasibleError as error:
                raise InfeasibleError(f"{mode} relay, batch {year}: {error}", error.diagnosis) from error
            except NoSolutionError as error:
                raise NoSolutionError(f"{mode} relay, batch {year}: {error}") from error
            row = {"mode": mode, "year": year, **_chain_row(allocation)}
            tick(f"{mode} {year}", row, f", relay kept {row['relay_kept']} of {row['relay_targets']}")
            rows.append(row)
            history = pd.concat([history, _as_history(allocation.table, year)], ignore_index=True)
            if out is not None:
                allocation.write(out / mode / str(year))
    table = pd.DataFrame(rows)
    if out is not None:
        from .reports import plots

        io.write_csv(table, out / "chain.csv")
        plots.save(plots.chain_figure(table), out / "chain.png")
    return table


def _fresh_pool(scenario: Scenario, pool: SynthConfig, seed: int) -> dict[str, pd.DataFrame]:
    try:
        return generate(scenario.tables["posts"], scenario.tables["universities"], pool, seed=seed)
    except ValueError as error:
        raise InputError([Problem(scenario.name, "key chain.pool", "settings whose pool can fill the posts", str(error))]) from error


def _later_batch(scenario: Scenario, policy: Policy, pool: dict[str, pd.DataFrame], history: pd.DataFrame, year: int) -> Scenario:
    """The scenario's posts, universities and agreements with a fresh pool and the history so far."""
    kept = {name: frame for name, frame in scenario.tables.items() if name not in PER_CADRE_TABLES}
    tables = {**kept, "cadres": pool["cadres"], "preferences": pool["preferences"], "history": history}
    return replace(io.scenario_from_tables(tables, policy, name=f"{scenario.name}-{year}"), seed=scenario.seed)


def _as_history(table: pd.DataFrame, year: int) -> pd.DataFrame:
    placed = table.loc[table["post_id"] != "", ["university_id", "post_id"]]
    return placed.assign(batch=year)[["batch", "university_id", "post_id"]]


def _chain_row(allocation: Allocation) -> dict[str, Any]:
    row = allocation_row(allocation)
    assigned = row["assigned"]
    return {
        "status": row["status"],
        "gap": row["gap"],
        "objective": row["objective"],
        "relay_targets": row["relay_targets"],
        "relay_kept": row["relay_kept"],
        "relay_share": row["relay_share"],
        "wishes_met_share": (assigned - row["no_wish_met"]) / assigned if assigned else None,
        "first_choice_share": row["first_choice_share"],
        "top3_share": row["top3_share"],
        "mean_distance_km": row["mean_distance_km"],
        "total_distance_km": -row["raw_proximity"],
        "total_annual_cost_yuan": row["total_annual_cost_yuan"],
        "partnership_share": row["partnership_share"],
        "wall_seconds": row["wall_seconds"],
    }
