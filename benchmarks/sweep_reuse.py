"""What reusing the allowed pairs and factor scores saves in a weight sweep, and what a Pareto front costs.

    python benchmarks/sweep_reuse.py [SCENARIO] [--points 20] [--repeats 7] [--pareto]

Prints one table (medians over the repeats, seconds for the whole sweep):
- sweep with reuse: ``placement_engine.sweep`` over ``--points`` proximity weights
  from 0 to 0.4; the allowed pairs and raw scores are built once, and no point
  is audited (the sweep's table does not report the audit);
- the same sweep, nothing reused: the same solves, with the pairs and scores
  rebuilt at every point (a fresh ``Workbench``); this isolates the reuse;
- cold solves, from the file: for each weight, ``load_scenario`` then
  ``placement_engine.solve``, as a script looping over ``python -m
  placement_engine solve`` would do, minus the interpreter start and the writing;
- cold solves, scenario loaded once: ``placement_engine.solve`` at every point on
  the tables read once.
Every point is checked to give the same allocation in every way. The ratio
column is each row's time over the sweep with reuse.

With ``--pareto``, it also times ``placement_engine.pareto`` on the scenario:
wish points against distance, and against cost, ``--front-points`` points each,
one run each (CP-SAT times vary from run to run), with workers 1 and 2.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from solve_speed import timed as median_seconds  # the sibling script's median of repeated timings

import placement_engine as pe
from placement_engine.runner import Workbench

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "shandong-2011.yaml")
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pareto", action="store_true", help="also time Pareto fronts")
    parser.add_argument("--front-points", type=int, default=8)
    args = parser.parse_args(argv)

    scenario = pe.load_scenario(args.scenario)
    weights = np.linspace(0.0, 0.4, args.points).round(4).tolist()
    changes = [{"factors": {"proximity": {"weight": w}}} for w in weights]

    def with_reuse():
        workbench = Workbench()
        table = pe.sweep(scenario, {"proximity": weights}, workbench=workbench, backend="sequential")
        return table, workbench

    def without_reuse():
        return [Workbench().solve(scenario.with_policy(**change), audit=False) for change in changes]

    def cold(load):
        return [pe.solve(load().with_policy(**change)) for change in changes]

    pe.solve(scenario)  # warm the imports and the instance, as in a long session
    t_reuse, (table, workbench) = median_seconds(with_reuse, args.repeats)
    t_rebuilt, rebuilt = median_seconds(without_reuse, args.repeats)
    t_file, from_file = median_seconds(lambda: cold(lambda: pe.load_scenario(args.scenario)), args.repeats)
    t_once, loaded_once = median_seconds(lambda: cold(lambda: scenario), args.repeats)
    same = all(
        row["objective"] == a.objective == b.objective == c.objective and a.table.equals(b.table) and b.table.equals(c.table)
        for (_, row), a, b, c in zip(table.iterrows(), rebuilt, from_file, loaded_once)
    )

    inst = scenario.instance
    print(f"scenario {scenario.name}: {inst.n_cadres} cadres, {inst.n_posts} posts, {from_file[0].summary['allowed_pairs']} allowed pairs")
    print(f"{args.points}-point sweep of the proximity weight (0 to 0.4); medians over {args.repeats} runs")
    print(f"{'method':<38}{'seconds':>9}{'per point':>11}{'x reuse':>9}")
    for name, seconds in [
        ("sweep with reuse", t_reuse),
        ("the same sweep, nothing reused", t_rebuilt),
        ("cold solves, from the file", t_file),
        ("cold solves, scenario loaded once", t_once),
    ]:
        print(f"{name:<38}{seconds:>9.3f}{seconds / args.points:>11.4f}{seconds / t_reuse:>9.2f}")
    print(
        f"sweep / cold solves from the file = {t_reuse / t_file:.2f}; / loaded once = {t_reuse / t_once:.2f}; "
        f"reuse alone = {t_reuse / t_rebuilt:.2f}"
    )
    print(f"pairs built {workbench.pair_builds} time(s); factor scores reused {workbench.score_hits} times")
    print(f"same allocations at every point: {same}")

    if args.pareto:
        print()
        print(f"Pareto fronts, {args.front_points} points at most, one run each")
        print(f"{'front':<28}{'workers':>8}{'seconds':>9}{'points':>8}{'proven':>8}{'max gap':>9}")
        for b in ("proximity", "cost"):
            for workers in (1, 2):
                start = time.perf_counter()
                front = pe.pareto(scenario, "preferences", b, args.front_points, options={"workers": workers})
                seconds = time.perf_counter() - start
                proven = int((front["status"] == "OPTIMAL").sum())
                print(f"{'preferences vs ' + b:<28}{workers:>8}{seconds:>9.1f}{len(front):>8}{proven:>8}{front['gap'].max():>9.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
