"""Weight sweeps: a grid over one or two factors' weights, solved in contiguous chunks."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io
from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..factors import FACTORS
from ..parallel import Backend, default_workers, run_tasks
from ..scenario import Scenario
from .tables import _failure_row, _Progress, allocation_row
from .workbench import Report, SolveOptions, Workbench


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
