"""Every backend returns the same results, in task order, and reports progress."""

from __future__ import annotations

import math

import pytest

from placement_engine.parallel import run_tasks

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
