"""How far each bound is from the optimum under binding per-university budgets.

    python benchmarks/budget_bounds.py                       # 156, 1000 and national, 60 s limits
    python benchmarks/budget_bounds.py --sizes 156 --seconds 60 --knapsack-rounds 200

The instances are those of benchmarks/suite.py, with its ``budgets`` variant. For
each it prints, in points (the scaled integer objective / 1,000):

- the unconstrained optimum (min-cost flow, no budget rows);
- the LP relaxation (HiGHS dual simplex, 1 thread), after the engine's row tightening
  (as are the two Lagrangians);
- the engine's budget Lagrangian (``model.lagrangian``: budget rows priced, the
  assignment kept as a flow), whose limit is the LP bound;
- the knapsack Lagrangian: post rows priced instead, each university's budget kept
  as an exact knapsack (``placement_engine.solve.knapsack.knapsack_bound``), whose best
  value can only be tighter than the LP;
- the engine (``placement_engine.solve``) and HiGHS MIP, each with the time limit:
  best allocation and bound.

Each bound's "above best" column says how far it sits above the best allocation
any method found. A gap under 0.1 % needs a bound within 0.1 % of the optimum.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from suite import SCENARIOS, build_generated, highs_model, load, run_engine, run_highs, terms_of

from placement_engine.solve.knapsack import GroupRows, knapsack_bound, post_prices

KNAPSACK_ROUNDS = 200
STALL_ROUNDS = 5


def knapsack_lagrangian(terms, rules, target: float | None, rounds: int) -> tuple[float | None, float]:
    """``knapsack.knapsack_bound`` from the unconstrained flow's post duals; returns (best bound, seconds).

    Polyak steps towards ``target`` (the best allocation known; without one, 1 % under
    the current value), halving after STALL_ROUNDS steps that do not improve.
    """
    from placement_engine.rules import must_place
    from placement_engine.solve.relaxation import terms_flow as _flow

    start = time.perf_counter()
    inst = terms.pairs.instance
    groups = GroupRows.of(terms.pairs, [rows for rows in terms.side.values() if len(rows.labels)])
    prices = post_prices(_flow(terms, terms.coef, rules), inst.n_cadres, inst.n_posts)
    value = knapsack_bound(
        terms.pairs, terms.coef, groups, must_place(inst, rules), rules.fill_every_post, [prices], target, rounds, patience=STALL_ROUNDS
    )
    return value, time.perf_counter() - start


def lp_bound(terms, rules) -> tuple[float, float]:
    import highspy

    start = time.perf_counter()
    lp = highs_model(terms, rules)
    lp.integrality_ = []
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("threads", 1)
    solver.passModel(lp)
    solver.run()
    return solver.getInfo().objective_function_value, time.perf_counter() - start


def measure(path: Path, seconds: float, knapsack_rounds: int) -> list[dict]:
    from placement_engine.solve.relaxation import lagrangian, tighten
    from placement_engine.solve.relaxation import terms_flow as _flow
    from placement_engine.solve.terms import restrict_rows

    scenario = load(path, "budgets")
    rules = scenario.policy.rules
    # the relaxations get the pairs the engine keeps after row tightening, as in a solve
    every_pair = terms_of(scenario)
    side = [rows for rows in every_pair.side.values() if len(rows.labels)]
    feasible = tighten(every_pair, side, rules)
    terms, side = every_pair.subset(feasible), [restrict_rows(rows, feasible) for rows in side]
    lines = []

    def add(method: str, bound: float | None, allocation: float | None, secs: float, note: str = "") -> None:
        lines.append({"method": method, "bound": bound, "allocation": allocation, "seconds": secs, "note": note})

    start = time.perf_counter()
    add("unconstrained optimum (flow)", _flow(every_pair, every_pair.coef, rules).bound, None, time.perf_counter() - start)
    value, secs = lp_bound(terms, rules)
    add("LP relaxation (HiGHS simplex)", value, None, secs)
    start = time.perf_counter()
    relaxed = lagrangian(terms, terms.coef, side, rules)
    add("budget Lagrangian (engine, 40 rounds)", relaxed.bound, relaxed.incumbent()[1], time.perf_counter() - start)
    for method, run in (("engine solve", run_engine), ("HiGHS MIP", run_highs)):
        result = run(scenario, seconds)
        add(f"{method}, {seconds:g} s", result["bound_scaled"], result["objective_scaled"], result["total_s"], result["status"])
    known = [line["allocation"] for line in lines if line["allocation"] is not None]
    value, secs = knapsack_lagrangian(terms, rules, max(known) if known else None, knapsack_rounds)
    add(f"knapsack Lagrangian ({knapsack_rounds} rounds)", value, None, secs)
    best = max(known) if known else None
    for line in lines:
        line["above best"] = None if best is None or line["bound"] is None else (line["bound"] - best) / abs(best)
        line["cadres"] = scenario.instance.n_cadres
    return lines


def markdown(lines: list[dict]) -> str:
    def points(value):
        return "-" if value is None else f"{value / 1000:,.3f}"

    out = ["| cadres | method | bound | allocation | above best | s | note |", "| ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for line in lines:
        above = "-" if line["above best"] is None else f"{100 * line['above best']:.2f} %"
        out.append(
            f"| {line['cadres']:,} | {line['method']} | {points(line['bound'])} | {points(line['allocation'])} | {above} | {line['seconds']:.1f} | {line['note']} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["156", "1000", "2900"], choices=["156", "500", "1000", "2900"])
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit of the engine and of HiGHS MIP")
    parser.add_argument("--knapsack-rounds", type=int, default=KNAPSACK_ROUNDS)
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = SCENARIOS.get(size) or build_generated(Path(folder) / size, size)
            lines += measure(path, args.seconds, args.knapsack_rounds)
            print(markdown(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
