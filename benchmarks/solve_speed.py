"""Solve speed on a scenario, against scipy's linear_sum_assignment on the same scores.

    python benchmarks/solve_speed.py [SCENARIO] [--repeats 15]

Prints one table (medians over the repeats, seconds):
- lsa: scipy ``linear_sum_assignment`` on the dense cadre x post matrix of the
  engine's integer coefficients (disallowed pairs get a prohibitive penalty),
  timed alone (the matrix is built beforehand);
- engine solve: ``placement_engine.solve`` on the loaded scenario, from allowed
  pairs to the finished allocation table and summary (proven optimal);
- CP-SAT, flow hint+bound: the same model forced through CP-SAT (``method: cpsat``)
  with the relaxation's allocation as hint and its bound as a constraint;
- CP-SAT, cold (tuned): CP-SAT alone with the engine's parameters, no hint or bound;
- CLI end to end: ``python -m placement_engine solve`` in a fresh process, from
  start to files written.
The target ratio is engine <= 3 x lsa + 0.1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

import placement_engine as pe
from placement_engine.rules import allowed_pairs
from placement_engine.solve import build_terms

ROOT = Path(__file__).resolve().parent.parent


def lsa_matrix(scenario: pe.Scenario) -> tuple[np.ndarray, int]:
    """Dense cost matrix (posts expanded by capacity) and the penalty used for disallowed pairs."""
    inst = scenario.instance
    terms = build_terms(allowed_pairs(inst, scenario.policy), scenario.policy)
    penalty = int(np.abs(terms.coef).sum()) + 1
    seats = np.repeat(np.arange(inst.n_posts), inst.post_capacity)
    cost = np.full((inst.n_cadres, inst.n_posts), penalty, dtype=np.int64)
    cost[terms.pairs.cadre, terms.pairs.post] = -terms.coef
    return cost[:, seats], penalty


def timed(call, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "shandong-2011.yaml")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cli-repeats", type=int, default=5)
    args = parser.parse_args(argv)

    scenario = pe.load_scenario(args.scenario)
    cost, penalty = lsa_matrix(scenario)
    t_lsa, (rows, cols) = timed(lambda: linear_sum_assignment(cost), args.repeats)
    lsa_objective = -int(cost[rows, cols].sum())
    if (cost[rows, cols] >= penalty).any():
        lsa_objective = None  # LSA had to use a disallowed pair: not comparable

    t_engine, allocation = timed(lambda: pe.solve(scenario), args.repeats)
    few = max(1, args.repeats // 5)
    cpsat = scenario.with_policy(solver={"method": "cpsat", "time_limit_s": 60})
    t_cpsat, cp_allocation = timed(lambda: pe.solve(cpsat), few)
    cold = scenario.with_policy(solver={"method": "cpsat", "use_relaxation": False, "time_limit_s": 60})
    t_cold, cold_allocation = timed(lambda: pe.solve(cold), few)

    def cli() -> None:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [sys.executable, "-m", "placement_engine", "solve", str(args.scenario), "--out", out, "--quiet"],
                check=True,
            )

    t_cli, _ = timed(cli, args.cli_repeats)

    rows_out = [
        ("lsa (scipy)", t_lsa, "OPTIMAL", lsa_objective, 1.0),
        ("engine solve", t_engine, allocation.status, allocation.summary["objective_scaled"], t_engine / t_lsa),
        ("CP-SAT, flow hint+bound", t_cpsat, cp_allocation.status, cp_allocation.summary["objective_scaled"], t_cpsat / t_lsa),
        ("CP-SAT, cold (tuned)", t_cold, cold_allocation.status, cold_allocation.summary["objective_scaled"], t_cold / t_lsa),
        ("CLI end to end", t_cli, "", None, t_cli / t_lsa),
    ]
    inst = scenario.instance
    print(f"scenario {scenario.name}: {inst.n_cadres} cadres, {inst.n_posts} posts, {allocation.summary['allowed_pairs']} allowed pairs")
    print(f"medians over {args.repeats} runs ({args.cli_repeats} for the CLI, {few} for CP-SAT)")
    print(f"{'method':<26}{'seconds':>10}  {'status':<9}{'objective (scaled)':>20}{'x lsa':>10}")
    for name, seconds, status, objective, ratio in rows_out:
        shown = f"{objective:,}" if objective is not None else "-"
        print(f"{name:<26}{seconds:>10.4f}  {status:<9}{shown:>20}{ratio:>10.1f}")
    target = 3 * t_lsa + 0.1
    print(f"target engine <= 3 x lsa + 0.1 s = {target:.4f} s: {'met' if t_engine <= target else 'NOT met'}")
    print(f"target CLI < 3 s: {'met' if t_cli < 3 else 'NOT met'}")
    same = lsa_objective == allocation.summary["objective_scaled"]
    print(f"engine optimum equals lsa optimum: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
