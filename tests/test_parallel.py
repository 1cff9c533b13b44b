"""Every backend returns the same results, in task order, and reports progress."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pandas as pd
import pytest

from placement_engine.cli import main
from placement_engine.errors import InfeasibleError, InputError, Problem
from placement_engine.parallel import run_tasks
from placement_engine.runner import compare

PAYLOADS = [30, 5, 12, 1, 20, 7]
EXPECTED = [math.factorial(n) for n in PAYLOADS]


@pytest.mark.parametrize("backend", ["sequential", "process", "dask"])
def test_backends_return_results_in_task_order(backend):
    seen = []
    results = run_tasks(math.factorial, PAYLOADS, backend=backend, workers=2, progress=lambda done, total, *_: seen.append((done, total)))
    assert results == EXPECTED
    assert seen == [(i, len(PAYLOADS)) for i in range(1, len(PAYLOADS) + 1)]


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'ray'"):
        run_tasks(math.factorial, [1, 2], backend="ray", workers=2)


def test_no_tasks_need_no_workers():
    assert run_tasks(math.factorial, [], backend="dask") == []


SHIPPED = Path(__file__).resolve().parent.parent / "scenarios" / "shandong-2011.yaml"


def _without_timings(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in table.columns if "seconds" in c])


@pytest.fixture(scope="module")
def sequential_comparison():
    return compare(SHIPPED, backend="sequential")


@pytest.mark.parametrize("backend", ["process", "dask"])
def test_parallel_compare_gives_the_sequential_tables(sequential_comparison, backend):
    parallel = compare(SHIPPED, backend=backend, jobs=2)
    pd.testing.assert_frame_equal(_without_timings(parallel.table), _without_timings(sequential_comparison.table))
    pd.testing.assert_frame_equal(parallel.changes, sequential_comparison.changes)


def test_an_infeasible_variant_crosses_process_boundaries_with_its_diagnosis():
    error = InfeasibleError("no allocation", {"reasons": ["14 posts, 12 cadres"]})
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "no allocation" and copy.diagnosis == error.diagnosis
    problems = InputError([Problem("posts.csv", "row 2, column lon", "a number", "'x'")])
    assert pickle.loads(pickle.dumps(problems)).problems == problems.problems


def test_cli_compare_runs_on_a_local_dask_cluster(tmp_path):
    assert main(["compare", str(SHIPPED), "--backend", "dask", "--jobs", "2", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "comparison.csv").stat().st_size > 0
