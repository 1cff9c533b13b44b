"""Run independent solves side by side: in this process, in local processes, or on a Dask cluster.

A comparison, sweep or chained study is a list of independent tasks. Each task
is a top-level function applied to a picklable payload, so the same list can be
run sequentially, by a local process pool (the default: model building and
scoring hold Python's GIL, so threads would not run them side by side), or by
a Dask cluster. Results
come back in task order whatever order they finish in, so every backend gives
the same tables.

Dask is an optional extra (``pip install placement_engine[dask]``); without it the
dask backend raises ``InputError`` with that command (exit code 2 on the command line). Point it at
a running scheduler with ``backend="dask"`` and ``address="tcp://host:8786"``;
without an address a local cluster is started for the call.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Literal

from .errors import InputError, Problem
from .i18n import _

Backend = Literal["sequential", "process", "dask"]
Progress = Callable[[int, int, float, Any], None]  # done, total, elapsed seconds, the result just finished


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_tasks(
    task: Callable[[Any], Any],
    payloads: Sequence[Any],
    *,
    backend: Backend = "process",
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> list[Any]:
    """``[task(p) for p in payloads]``, computed by ``backend``, in payload order."""
    payloads = list(payloads)
    if not payloads:
        return []
    workers = min(workers or default_workers(), len(payloads))
    if backend == "sequential" or (backend == "process" and workers == 1):
        return _sequential(task, payloads, progress)
    if backend == "process":
        return _processes(task, payloads, workers, progress)
    if backend == "dask":
        return _dask(task, payloads, workers, address, progress)
    raise ValueError(f"unknown backend {backend!r}; expected sequential, process or dask")


def _sequential(task, payloads, progress) -> list[Any]:
    start = time.perf_counter()
    results = []
    for payload in payloads:
        results.append(task(payload))
        if progress:
            progress(len(results), len(payloads), time.perf_counter() - start, results[-1])
    return results


def _processes(task, payloads, workers, progress) -> list[Any]:
    start = time.perf_counter()
    results: list[Any] = [None] * len(payloads)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(task, payload): index for index, payload in enumerate(payloads)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(payloads), time.perf_counter() - start, results[futures[future]])
    return results


def _dask(task, payloads, workers, address, progress) -> list[Any]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        expected = _("the optional extra for this backend, installed with: pip install 'placement_engine[dask]'")
        raise InputError([Problem("--backend", "dask", expected, _("dask.distributed is not installed"))]) from None
    start = time.perf_counter()
    cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(address or cluster)
    try:
        futures = client.map(task, payloads, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(payloads)
        for done, future in enumerate(dask_completed(futures), start=1):
            results[index[future.key]] = future.result()
            if progress:
                progress(done, len(payloads), time.perf_counter() - start, results[index[future.key]])
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
