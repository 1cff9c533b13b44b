"""Same inputs, seed and workers on a quiet machine and on a busy one: the same allocation.csv, byte for byte.

    python benchmarks/reproducibility.py                                    # the shipped budget scenario
    python benchmarks/reproducibility.py scenarios/shandong-2011.yaml --busy 2

Each run is one ``python -m placement_engine solve`` in a fresh process. The
busy runs start ``--busy`` processes that spin on the CPU for the whole solve.
The table gives each run's wall time, status, what stopped the search, whether
the summary calls the run reproducible, and the SHA-256 of its allocation.csv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spin() -> None:
    while True:
        pass


def solve(scenario: Path, out: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "placement_engine", "solve", str(scenario), "--out", str(out), "--quiet"], cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"seconds": seconds, "status": f"exit {done.returncode}"}
    summary = json.loads((out / "summary.json").read_text())
    return {
        "seconds": seconds,
        "status": summary["status"],
        "stopped_by": summary["stopped_by"] or "-",
        "reproducible": summary["reproducible"],
        "sha256": hashlib.sha256((out / "allocation.csv").read_bytes()).hexdigest()[:16],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "shandong-2011-budget.yaml")
    parser.add_argument("--busy", type=int, default=2, help="processes that keep the cores busy during the busy runs")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each kind")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for load in ("quiet", "busy"):
            for k in range(args.repeats):
                hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy if load == "busy" else 0)]
                for hog in hogs:
                    hog.start()
                try:
                    rows.append({"load": load, **solve(args.scenario, Path(folder) / f"{load}-{k}")})
                finally:
                    for hog in hogs:
                        hog.terminate()
    print("| load | wall s | status | stopped by | reproducible | allocation.csv sha256 |")
    print("| --- | ---: | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['load']} | {r['seconds']:.1f} | {r['status']} | {r.get('stopped_by', '-')} | {r.get('reproducible', '-')} | {r.get('sha256', '-')} |")
    identical = len({r.get("sha256") for r in rows}) == 1
    print(f"\nall allocations identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
