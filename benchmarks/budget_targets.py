"""The budget targets: the engine against HiGHS MIP on the same model, with binding per-university budgets.

    python benchmarks/budget_targets.py                          # 156, 1,000 and national, 60 s each
    python benchmarks/budget_targets.py --sizes 156 --busy       # with the second core kept busy

The instances are those of benchmarks/suite.py with its ``budgets`` variant: the
default budget scenario's tables (156 cadres), the generated 1,000-cadre
instance (982 cadres) and the national scenario (2,897), whose budgets are 90 % of
each university's spending in the unconstrained optimum, floored at its spending
in the allocation of least cost. Each run is one process: ``placement_engine.solve``
with the time limit, or HiGHS MIP (1 thread) on the engine's own model
(``suite.highs_model``). The table gives the status, the objective and the
certified bound in points, the gap, the seconds to the engine's first allocation
within every budget, and the seconds of the whole run; with ``--repeats`` above 1,
the median seconds (the allocation is the same in every run unless the wall clock
stopped it). ``--busy`` runs a busy loop on another core throughout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suite import SCENARIOS, build_generated, load, run_highs


def run_engine(path: Path, seconds: float) -> dict:
    import placement_engine as pe

    scenario = load(path, "budgets")
    start = time.perf_counter()
    try:
        allocation = pe.solve(scenario, time_limit=seconds)
    except pe.NoSolutionError:
        return {"status": "NO SOLUTION", "total_s": time.perf_counter() - start}
    summary = allocation.summary
    return {
        "status": allocation.status,
        "objective_scaled": summary["objective_scaled"],
        "bound_scaled": summary["best_bound_scaled"],
        "first_s": summary["solver"].get("objective_start_seconds"),
        "total_s": time.perf_counter() - start,
        "stopped_by": summary.get("stopped_by", ""),
        "check": allocation.check().ok,
    }


def worker(method: str, path: Path, seconds: float) -> dict:
    if method == "engine":
        return run_engine(path, seconds)
    return run_highs(load(path, "budgets"), seconds)


def _burn(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def gap(row: dict) -> float | None:
    if row.get("objective_scaled") is None or row.get("bound_scaled") is None:
        return None
    return (row["bound_scaled"] - row["objective_scaled"]) / max(1.0, abs(row["bound_scaled"]))


def line(size: str, method: str, runs: list[dict]) -> str:
    row = runs[-1]

    def points(value):
        return "-" if value is None else f"{value / 1000:,.3f}"

    def seconds(key):
        values = [run[key] for run in runs if run.get(key) is not None]
        return f"{statistics.median(values):.1f}" if values else "-"

    found = gap(row)
    return (
        f"| {size} | {method} | {row['status']} | {points(row.get('objective_scaled'))} | {points(row.get('bound_scaled'))} "
        f"| {'-' if found is None else f'{100 * found:.2f} %'} | {seconds('first_s')} | {seconds('total_s')} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["156", "1000", "2900"], choices=["156", "500", "1000", "2900"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=["engine", "highs"], choices=["engine", "highs"])
    parser.add_argument("--busy", action="store_true", help="keep the second core busy throughout")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "PATH", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, path, seconds = args.worker
        print(json.dumps(worker(method, Path(path), float(seconds))))
        return 0
    stop = multiprocessing.Event()
    burner = multiprocessing.Process(target=_burn, args=(stop,), daemon=True) if args.busy else None
    if burner:
        burner.start()
    print(f"time limit {args.seconds:g} s{', second core busy' if args.busy else ''}")
    print("| cadres | method | status | objective | bound | gap | first allocation s | total s |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for size in args.sizes:
                path = SCENARIOS.get(size) or build_generated(Path(folder) / size, size)
                for method in args.methods:
                    runs = []
                    for _ in range(args.repeats):
                        out = subprocess.run(
                            [sys.executable, __file__, "--worker", method, str(path), str(args.seconds)], capture_output=True, text=True, check=True
                        )
                        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(line(size, method, runs), flush=True)
    finally:
        if burner:
            stop.set()
            burner.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
