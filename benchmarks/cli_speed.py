"""The command line's speed: ``solve`` end to end with its map, without it, ``--help``, and where the time goes.

    python benchmarks/cli_speed.py [SCENARIO] [--repeats 11] [--before DIR]

Prints two tables of medians over the repeats, each run in a fresh interpreter, the
variants taken in turn so that the machine's load falls on all of them alike:

- end to end (process start to every file written): ``solve`` as shipped (map.png drawn
  by the worker process beside the solve), ``solve`` with the map drawn after the solve in
  the same process (the worker switched off), ``solve --no-map``, ``--help``, and a bare
  ``python -c pass``; each also as a ratio to ``--no-map``. ``--before DIR`` adds ``solve``
  as shipped run from another copy of the source tree (the folder holding its
  ``placement_engine``), and a ratio of every row to that one: a baseline measured in the
  same run, on the same load;
- the stages of a solve with its map, run one after the other in one process: what each
  costs, and so what the worker takes off the solve's path.

The load average before and after is printed too: on a machine whose second core is busy,
drawing beside the solve saves little.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEQUENTIAL = "import sys; import placement_engine.cli.map_worker as worker; worker._start = lambda: None; from placement_engine.cli import main; sys.exit(main(sys.argv[1:]))"

STAGES = """
import json, sys, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
from placement_engine.cli import main
mark("command line and its parser")
import placement_engine.io as io
mark("imports: pandas, pydantic, the readers")
scenario = io.load_scenario(sys.argv[1])
mark("read and check the scenario")
import placement_engine.allocation
from placement_engine.reports.map_data import Placements, Sites
mark("imports: OR-Tools, the solver")
allocation = placement_engine.allocation.solve(scenario, audit=False)
mark("solve: pairs, scores, flow, allocation table")
allocation.summary["audit"] = allocation.audit.summary()
mark("fairness audit")
with io.OutputFolder(sys.argv[2]) as folder:
    io.write_csv(allocation.table, folder.path("allocation.csv"))
    io.write_json(allocation.summary, folder.path("summary.json"))
    for name, frame in scenario.tables.items():
        io.write_csv(frame, folder.path(f"inputs/{name}.csv"))
    io.write_yaml(allocation.policy.model_dump(mode="json"), folder.path("inputs/policy.yaml"))
    allocation.audit.write(folder.root)
    mark("write allocation.csv, summary, inputs/, audit")
    io.write_workbook(allocation.sheets(), folder.path("results.xlsx"))
    mark("write results.xlsx")
    from placement_engine.reports import maps
    maps.warm_up()
    mark("map: import matplotlib, fonts")
    basemap = maps.Basemap(Sites.of(scenario))
    mark("map: panels, outlines, names placed")
    basemap.render()
    mark("map: outlines rendered")
    folder.path("map.png").write_bytes(basemap.png(Placements.of(allocation)))
    mark("map: postings, names, legend, PNG")
mark("run.json, folder swapped in")
print(json.dumps([(name, end - start) for (name, end), (_, start) in zip(marks[1:], marks)]))
"""


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "shandong-2011.yaml")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--before", type=Path, help="another copy of the source tree, to time its solve beside this one's")
    args = parser.parse_args(argv)
    if args.before is not None and not (args.before / "placement_engine" / "__init__.py").is_file():
        parser.error(f"--before {args.before}: no placement_engine package in that folder")
    python = sys.executable
    shipped = "solve, map.png drawn beside the solve (as shipped)"
    before = f"the same, from {args.before.name}/" if args.before is not None else None
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "out")
        solve = ["solve", str(args.scenario.resolve()), "--out", out, "--quiet"]
        # -m runs the package of the working folder: ROOT's, or --before's
        variants = {shipped: ([python, "-m", "placement_engine", *solve], ROOT)}
        if before is not None:
            variants[before] = ([python, "-m", "placement_engine", *solve], args.before.resolve())
        variants |= {
            "solve, map.png drawn after the solve, same process": ([python, "-c", SEQUENTIAL, *solve], ROOT),
            "solve --no-map": ([python, "-m", "placement_engine", *solve, "--no-map"], ROOT),
            "--help": ([python, "-m", "placement_engine", "--help"], ROOT),
            "python -c pass (interpreter start)": ([python, "-c", "pass"], ROOT),
        }
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in variants}
        stages: list[list] = []
        for _ in range(args.repeats):
            for name, (command, cwd) in variants.items():
                times[name].append(wall(command, cwd))
            done = subprocess.run([python, "-c", STAGES, str(args.scenario), out], cwd=ROOT, check=True, capture_output=True, text=True)
            stages.append(json.loads(done.stdout.strip().splitlines()[-1]))
        load_after = os.getloadavg()[0]

    medians = {name: statistics.median(values) for name, values in times.items()}
    ratios = {"--no-map": medians["solve --no-map"]} | ({"before": medians[before]} if before is not None else {})
    print(f"{args.scenario.name}, {args.repeats} runs each, {os.cpu_count()} cores, load average {load_before:.2f} before, {load_after:.2f} after\n")
    print("| end to end, fresh process | median s | min s | max s | " + " | ".join(f"x {name}" for name in ratios) + " |")
    print("| --- | ---: | ---: | ---: |" + " ---: |" * len(ratios))
    for name, values in times.items():
        shares = " | ".join(f"{medians[name] / baseline:.2f}" for baseline in ratios.values())
        print(f"| {name} | {medians[name]:.3f} | {min(values):.3f} | {max(values):.3f} | {shares} |")
    print("\n| stage, one after the other in one process | median s |")
    print("| --- | ---: |")
    names = [name for name, _ in stages[0]]
    total = 0.0
    for index, name in enumerate(names):
        median = statistics.median(run[index][1] for run in stages)
        total += median
        print(f"| {name} | {median:.3f} |")
    print(f"| all stages (after the interpreter's start) | {total:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
