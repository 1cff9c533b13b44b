"""A weight sweep in one process against the same sweep on a local process pool.

    python benchmarks/sweep_parallel.py                                  # the default scenario
    python benchmarks/sweep_parallel.py scenarios/national-2011.yaml --repeats 3

Eight proximity weights, ``pe.sweep`` with ``backend="sequential"`` and with
``backend="process", jobs=2``, alternating, each repeated; the tables must match
apart from timing columns. Prints the medians and their ratio (above 1: the
pool is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

import placement_engine as pe

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = {"proximity": [0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "shandong-2011.yaml"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    scenario = pe.load_scenario(args.scenario)
    pe.solve(scenario)  # imports and the instance, before any timing
    times: dict[str, list[float]] = {"sequential": [], "process": []}
    tables = {}
    for _ in range(args.repeats):
        for backend in times:
            start = time.perf_counter()
            tables[backend] = pe.sweep(scenario, WEIGHTS, backend=backend, jobs=args.jobs)
            times[backend].append(time.perf_counter() - start)
    untimed = {name: table.drop(columns=[c for c in table.columns if "seconds" in c]) for name, table in tables.items()}
    pd.testing.assert_frame_equal(untimed["sequential"], untimed["process"])
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{scenario.name}: {len(tables['sequential'])} points, {args.repeats} repeats, {args.jobs} jobs")
    for name, median in medians.items():
        print(f"  {name:<10} median {median:.3f} s")
    print(f"  sequential / process = {medians['sequential'] / medians['process']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
