"""Sweeps in parallel: chunks of the grid on processes or Dask give the sequential table, in grid order."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import placement_engine as pe
from placement_engine import io
from placement_engine.cli import main
from placement_engine.runner import Workbench, sweep
from placement_engine.runner.sweeps import _contiguous_chunks
from tests.test_parallel import _without_timings
from tests.test_variants import tiny_with

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "shandong-2011.yaml"
# five points on two workers: four chunks of 2, 1, 1 and 1 points
WEIGHTS = {"proximity": [0.0, 0.05, 0.1, 0.2, 0.4]}


@pytest.fixture(scope="module")
def scenario() -> pe.Scenario:
    return pe.load_scenario(DEFAULT)


@pytest.fixture(scope="module")
def sequential_table(scenario) -> pd.DataFrame:
    return sweep(scenario, WEIGHTS, backend="sequential")


@pytest.mark.parametrize(
    "n_points, count, lengths",
    [(5, 4, [2, 1, 1, 1]), (5, 2, [3, 2]), (7, 3, [3, 2, 2]), (6, 3, [2, 2, 2]), (3, 3, [1, 1, 1]), (1, 1, [1])],
)
def test_chunks_cut_the_grid_in_order_into_near_equal_runs(n_points, count, lengths):
    points = list(range(n_points))
    chunks = _contiguous_chunks(points, count)
    assert [len(chunk) for chunk in chunks] == lengths
    assert [point for chunk in chunks for point in chunk] == points


@pytest.mark.parametrize("backend", ["process", "dask"])
def test_a_parallel_sweep_gives_the_sequential_table_in_grid_order(scenario, sequential_table, backend):
    lines: list[str] = []
    table = sweep(scenario, WEIGHTS, backend=backend, jobs=2, progress=lines.append)
    assert table["weight_proximity"].tolist() == WEIGHTS["proximity"]
    pd.testing.assert_frame_equal(_without_timings(table), _without_timings(sequential_table))
    # one line per point as its chunk finishes, counted in the order they arrive
    assert [re.match(r"\[(\d)/5\]", line).group(1) for line in lines] == ["1", "2", "3", "4", "5"]
    assert sorted(re.search(r"proximity ([\d.]+):", line).group(1) for line in lines) == ["0", "0.05", "0.1", "0.2", "0.4"]


@pytest.mark.parametrize("jobs, pair_builds", [(1, 1), (2, 0)])
def test_the_callers_workbench_serves_a_sweep_only_in_this_process(scenario, sequential_table, jobs, pair_builds):
    workbench = Workbench()
    table = sweep(scenario, WEIGHTS, backend="process", jobs=jobs, workbench=workbench)
    assert workbench.pair_builds == pair_builds  # each chunk on a worker builds its own
    pd.testing.assert_frame_equal(_without_timings(table), _without_timings(sequential_table))


def test_points_without_an_allocation_get_failure_rows_from_the_workers(tmp_path):
    path = tiny_with(tmp_path, variants={"near": {"policy": {"factors": {"proximity": {"max_km": 10}}}}})
    near = pe.load_scenario(path).variant("near")
    table = sweep(near, {"preferences": [1, 2, 3]}, backend="process", jobs=2)
    assert table["weight_preferences"].tolist() == [1, 2, 3]
    assert (table["status"] == "INFEASIBLE").all()
    assert table["message"].str.contains("no allocation meets the hard rules").all()


def test_cli_compare_writes_the_sequential_sweep_from_processes(tmp_path, sequential_table):
    grid = ",".join(f"{weight:g}" for weight in WEIGHTS["proximity"])
    argv = ["compare", str(DEFAULT), "--variants", "closer", "--sweep", f"proximity={grid}", "--jobs", "2", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    io.write_csv(sequential_table, tmp_path / "sequential.csv")
    written, expected = io.read_csv(tmp_path / "out" / "sweep.csv"), io.read_csv(tmp_path / "sequential.csv")
    pd.testing.assert_frame_equal(_without_timings(written), _without_timings(expected))
