"""How tight budgets may be: the engine at budget scales around the binding budgets.

    python benchmarks/budget_scale.py                              # 1,000 and national, scales 1.05 and 1.11
    python benchmarks/budget_scale.py --sizes 156 2900 --scales 1.0 1.05 1.11 1.2 --seconds 60

The instances are those of benchmarks/suite.py with its ``budgets`` variant (90 %
of each university's cost in the unconstrained optimum, floored so that they stay
jointly feasible); ``cost.budget_scale`` multiplies every budget, so 1.11 is about
each university's unconstrained cost. Each run is one ``placement_engine.solve``
in a fresh process, with the time limit; the table gives its status, objective
and bound in points, the gap, and the seconds of the whole call.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from suite import SCENARIOS, build_generated, load


def run(path: Path, scale: float, seconds: float) -> dict:
    import placement_engine as pe

    scenario = load(path, "budgets").with_policy(factors={"cost": {"budget": True, "budget_scale": scale}})
    try:
        allocation = pe.solve(scenario, time_limit=seconds)
    except pe.NoSolutionError:
        return {"status": "NO SOLUTION"}
    summary = allocation.summary
    return {
        "status": allocation.status,
        "objective": summary["objective_scaled"] / 1000,
        "bound": summary["best_bound_scaled"] / 1000,
        "gap": allocation.gap,
        "seconds": summary["timings"]["total_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1000", "2900"], choices=["156", "500", "1000", "2900"])
    parser.add_argument("--scales", nargs="+", type=float, default=[1.05, 1.11])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--worker", nargs=3, metavar=("PATH", "SCALE", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        path, scale, seconds = args.worker
        print(json.dumps(run(Path(path), float(scale), float(seconds))))
        return 0
    print("| cadres | budget scale | status | objective | bound | gap | s |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = SCENARIOS.get(size) or build_generated(Path(folder) / size, size)
            for scale in args.scales:
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", str(path), str(scale), str(args.seconds)], capture_output=True, text=True, check=True
                )
                row = json.loads(out.stdout.strip().splitlines()[-1])
                if row["status"] == "NO SOLUTION":
                    print(f"| {size} | {scale:g} | NO SOLUTION | - | - | - | - |", flush=True)
                    continue
                print(
                    f"| {size} | {scale:g} | {row['status']} | {row['objective']:,.3f} | {row['bound']:,.3f} | {100 * row['gap']:.3f} % | {row['seconds']:.1f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
