"""Scale benchmark: the engine against scipy's assignment solvers and HiGHS MIP, 156 to about 2,900 cadres.

    python benchmarks/suite.py            # the full table (about 20 minutes on 2 cores, mostly the 60 s limits)
    python benchmarks/suite.py --quick    # a smoke run: 156 and 500 cadres, one repeat, 10 s limits

Instances (cadres x posts), all with the policy models/bulletin-2011.yaml:
- 156: scenarios/shandong-2011.yaml (every cadre placed, every post filled);
- about 500 and 1,000: the national generator (tools/make_national.py) on a fixed
  set of provinces and their pairings, built into a temporary folder;
- about 2,900: scenarios/national-2011.yaml.
The last three fill every post and may leave the surplus cadres at home.

Variants: ``none``, the policy's weighted factors and no side constraints; and
``budgets``, per-university budgets that bind: 90 % of each university's cost in
the unconstrained optimum, floored at its cost in the least-cost allocation
(``binding_budgets`` in tools/make_scenarios.py; the shipped 156 and national
tables carry them).

Methods, each measured in a fresh process so that its peak memory is its own:
- engine: ``placement_engine.solve``. build = allowed pairs + factor scores
  (``model.build_terms``); solve = the solver; total = the whole call, up to the
  finished allocation table and summary.
- lsa: scipy ``linear_sum_assignment`` on the dense cadre x seat matrix of the
  same integer coefficients, a prohibitive cost on disallowed pairs. build = pairs
  + scores + the dense matrix. With budgets it solves the relaxation without them,
  so its objective is only an upper bound.
- sparse: scipy ``min_weight_full_bipartite_matching`` (LAPJVsp) on the allowed
  pairs alone; relaxation with budgets, as lsa.
- highs: HiGHS MIP (highspy) on the same 0/1 variables, assignment rows, budget
  rows and integer coefficients, with a zero relative gap and an absolute gap
  below one unit of the integer objective, so "optimal" means proven.
- cli (about 2,900, none): ``python -m placement_engine solve``, from process
  start to files written.
Times are medians over the repeats; peak memory is the process's maximum RSS,
imports included. "x lsa" divides a method's solve (total) time by lsa's solve
(total) time on the same instance without side constraints.

Writes docs/figures/scale.csv, docs/figures/scale.json (machine, versions,
command) and docs/figures/scale.png (time against size), and prints the table in
Markdown.
"""

from __future__ import annotations

# Only the standard library at module level: a worker imports what its method needs, no more.
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
POLICY = ROOT / "models" / "bulletin-2011.yaml"
SCENARIOS = {"156": ROOT / "scenarios" / "shandong-2011.yaml", "2900": ROOT / "scenarios" / "national-2011.yaml"}
# Provinces of the mid-size instances: Shandong, the western provinces it is paired
# with and some of theirs, so volunteers cross as in the national scenario.
GENERATED = {
    "500": ["370000", "630000", "650000", "520000", "140000"],
    "1000": ["370000", "630000", "650000", "520000", "140000", "320000", "610000", "330000", "510000"],
}
NATIONAL_RULES = {"place_every_cadre": False, "fill_every_post": True}
METHODS = ("engine", "lsa", "sparse", "highs")
VARIANTS = ("none", "budgets")


# ---- worker side: one (instance, variant, method) per process --------------------------------


def load(path: Path, variant: str):
    import placement_engine as pe

    scenario = pe.load_scenario(path)
    if variant == "budgets":
        scenario = scenario.with_policy(factors={"cost": {"budget": True}})
    scenario.instance  # noqa: B018 - shared by every method, so not timed
    return scenario


def terms_of(scenario):
    from placement_engine.rules import allowed_pairs
    from placement_engine.solve import build_terms

    return build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)


def run_engine(scenario, time_limit: float) -> dict:
    import placement_engine as pe

    start = time.perf_counter()
    try:
        allocation = pe.solve(scenario, time_limit=time_limit)
    except pe.NoSolutionError:
        wall = time.perf_counter() - start
        return {"build_s": None, "solve_s": None, "total_s": wall, "objective_scaled": None, "bound_scaled": None, "status": "NO SOLUTION", "proven": False, "gap": None}
    timings = allocation.summary["timings"]
    return {
        "build_s": timings["candidates_seconds"] + timings["build_seconds"],
        "solve_s": timings["solve_seconds"],
        "total_s": timings["total_seconds"],
        "objective_scaled": allocation.summary["objective_scaled"],
        "bound_scaled": allocation.summary["best_bound_scaled"],
        "status": allocation.status,
        "proven": allocation.status == "OPTIMAL",
        "gap": allocation.gap,
    }


def _seats(scenario):
    import numpy as np

    rules = scenario.policy.rules
    if not rules.fill_every_post:
        raise ValueError("the assignment baselines here need fill_every_post: every seat is then taken exactly once")
    inst = scenario.instance
    return np.repeat(np.arange(inst.n_posts), inst.post_capacity)


def run_lsa(scenario, time_limit: float) -> dict:
    """Dense LAPJV. With more cadres than seats it leaves the surplus unassigned, as the model may."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    start = time.perf_counter()
    terms = terms_of(scenario)
    seats = _seats(scenario)
    inst = scenario.instance
    penalty = int(np.abs(terms.coef).sum()) + 1
    cost = np.full((inst.n_cadres, inst.n_posts), penalty, dtype=np.int64)
    cost[terms.pairs.cadre, terms.pairs.post] = -terms.coef
    cost = cost[:, seats]
    built = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    solved = time.perf_counter()
    used = cost[rows, cols]
    relaxed = terms.has_side_constraints
    return {
        "build_s": built - start,
        "solve_s": solved - built,
        "total_s": solved - start,
        "objective_scaled": None if (used >= penalty).any() else -int(used.sum()),
        "status": "RELAXATION" if relaxed else "OPTIMAL",
        "proven": not relaxed,
        "gap": None,
    }


def run_sparse(scenario, time_limit: float) -> dict:
    """Sparse LAPJVsp on the allowed pairs; weights shifted to be positive (every full matching has as many edges)."""
    import numpy as np
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    start = time.perf_counter()
    terms = terms_of(scenario)
    seats = _seats(scenario)
    inst = scenario.instance
    seat_start = np.cumsum(inst.post_capacity) - inst.post_capacity
    # one edge per (pair, seat of its post)
    per_pair = inst.post_capacity[terms.pairs.post]
    pair = np.repeat(np.arange(len(terms.pairs)), per_pair)
    seat = seat_start[terms.pairs.post[pair]] + (np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair))
    weight = -terms.coef[pair]
    graph = csr_array((weight - weight.min() + 1, (terms.pairs.cadre[pair], seat)), shape=(inst.n_cadres, len(seats)))
    built = time.perf_counter()
    rows, cols = min_weight_full_bipartite_matching(graph)
    solved = time.perf_counter()
    matched = np.asarray(graph[rows, cols]).ravel() + weight.min() - 1
    relaxed = terms.has_side_constraints
    return {
        "build_s": built - start,
        "solve_s": solved - built,
        "total_s": solved - start,
        "objective_scaled": -int(np.rint(matched).sum()),
        "status": "RELAXATION" if relaxed else "OPTIMAL",
        "proven": not relaxed,
        "gap": None,
    }


def highs_model(terms, rules):
    """The engine's model as a HiGHS MIP: x per allowed pair, assignment rows, side rows; maximise coef . x."""
    import highspy
    import numpy as np
    from scipy.sparse import coo_array

    from placement_engine.rules import must_place

    pairs = terms.pairs
    inst = pairs.instance
    n, n_cadres, n_posts = len(pairs), inst.n_cadres, inst.n_posts
    must = must_place(inst, rules)
    row = [pairs.cadre.astype(np.int64), n_cadres + pairs.post.astype(np.int64)]
    col = [np.arange(n), np.arange(n)]
    val = [np.ones(n), np.ones(n)]
    lower = [np.where(must, 1.0, 0.0), inst.post_capacity.astype(float) if rules.fill_every_post else np.zeros(n_posts)]
    upper = [np.ones(n_cadres), inst.post_capacity.astype(float)]
    offset = n_cadres + n_posts
    for side in terms.side.values():
        row.append(offset + side.row.astype(np.int64))
        col.append(side.pair.astype(np.int64))
        val.append(side.coef.astype(float))
        lower.append(np.full(len(side.labels), -highspy.kHighsInf))
        upper.append(side.rhs.astype(float))
        offset += len(side.labels)
    matrix = coo_array((np.concatenate(val), (np.concatenate(row), np.concatenate(col))), shape=(offset, n)).tocsc()

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, offset
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = terms.coef.astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.concatenate(lower), np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    return lp


def run_highs(scenario, time_limit: float) -> dict:
    import highspy
    import numpy as np

    start = time.perf_counter()
    terms = terms_of(scenario)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit))
    solver.setOptionValue("threads", 1)
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.setOptionValue("mip_abs_gap", 0.999)  # the objective is integral: a gap below 1 proves the optimum
    solver.passModel(highs_model(terms, scenario.policy.rules))
    built = time.perf_counter()
    solver.run()
    solved = time.perf_counter()
    status = solver.modelStatusToString(solver.getModelStatus())
    info = solver.getInfo()
    found = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = int(np.rint(info.objective_function_value)) if found else None
    bound = info.mip_dual_bound
    return {
        "build_s": built - start,
        "solve_s": solved - built,
        "total_s": solved - start,
        "objective_scaled": objective,
        "bound_scaled": bound if np.isfinite(bound) else None,
        "status": "OPTIMAL" if status == "Optimal" else ("FEASIBLE" if found else status.upper()),
        "proven": status == "Optimal",
        "gap": (bound - objective) / max(1.0, abs(bound)) if found else None,
    }


RUNNERS = {"engine": run_engine, "lsa": run_lsa, "sparse": run_sparse, "highs": run_highs}


def worker(path: Path, variant: str, method: str, repeats: int, time_limit: float) -> dict:
    scenario = load(path, variant)
    runs = [RUNNERS[method](scenario, time_limit) for _ in range(repeats)]
    medians = {key: [run[key] for run in runs if run[key] is not None] for key in ("build_s", "solve_s", "total_s")}
    row = {key: statistics.median(values) if values else None for key, values in medians.items()}
    row.update({key: runs[-1][key] for key in ("objective_scaled", "status", "proven", "gap")})
    inst = scenario.instance
    row.update(
        cadres=inst.n_cadres,
        posts=int(inst.post_capacity.sum()),
        pairs=len(terms_of(scenario).pairs),
        scale=scenario.policy.solver.objective_scale,
        repeats=repeats,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return row


def cli_worker(path: Path) -> dict:
    """The command line in this process, for its peak memory; the parent times the whole process."""
    from placement_engine.cli import main

    with tempfile.TemporaryDirectory() as out:
        code = main(["solve", str(path), "--out", out, "--quiet"])
    return {"exit_code": code, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ---- parent side ---------------------------------------------------------------------------


def build_generated(folder: Path, size: str) -> Path:
    """Write a mid-size instance from the national generator as a scenario, with binding budgets."""
    import importlib.util

    import yaml

    import placement_engine as pe
    from placement_engine import io

    spec = importlib.util.spec_from_file_location("make_national", ROOT / "tools" / "make_national.py")
    national = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(national)
    tables, _ = national.tables(GENERATED[size])
    policy = pe.load_policy(POLICY).override({"rules": NATIONAL_RULES})
    scenario = pe.scenario_from_tables(tables, policy, name=f"generated-{size}")
    tables["universities"]["budget_yuan"] = national.binding_budgets(scenario, pe.solve(scenario))
    for name, frame in tables.items():
        io.write_csv(frame, folder / f"{name}.csv")
    path = folder / "scenario.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": f"generated-{size}",
                "policy": str(POLICY),
                "policy_overrides": {"rules": NATIONAL_RULES},
                "tables": {name: f"{name}.csv" for name in tables},
            }
        )
    )
    return path


def spawn(args: list[str]) -> tuple[dict, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1]), wall


def machine() -> dict:
    from importlib import metadata

    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    versions = {"python": platform.python_version()}
    for package in ("placement_engine", "ortools", "numpy", "scipy", "highspy", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {"cpus": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1), "cpu": cpu, "system": f"{platform.system()} {platform.machine()}", "versions": versions}


def markdown(rows: list[dict]) -> str:
    head = "| cadres | posts | pairs | variant | method | build s | solve s | total s | objective | status | gap | peak MB | x lsa (solve) | x lsa (total) |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        objective = "-" if r.get("objective") is None else f"{r['objective']:,.3f}"
        gap = "-" if r.get("gap") is None else f"{r['gap']:.4%}"
        ratio = lambda key, r=r: "-" if r.get(key) is None else f"{r[key]:.2f}"  # noqa: E731
        build = "-" if r.get("build_s") is None else f"{r['build_s']:.3f}"
        solve = "-" if r.get("solve_s") is None else f"{r['solve_s']:.3f}"
        lines.append(
            f"| {r['cadres']:,} | {r['posts']:,} | {r['pairs']:,} | {r['variant']} | {r['method']} | {build} | {solve} | "
            f"{r['total_s']:.3f} | {objective} | {r['status']} | {gap} | {r['peak_mb']:,.0f} | {ratio('x_lsa_solve')} | {ratio('x_lsa_total')} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Total time against cadres, log-log: a colour per method, dashed with budgets, hollow where not proven optimal.

    lsa and sparse with budgets solve the same relaxation as without, so they are left out.
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    for colour, method in zip(("C0", "C1", "C2", "C3", "C4"), (*METHODS, "cli")):
        for variant, style in (("none", "-"), ("budgets", "--")):
            points = sorted(
                (r["cadres"], r["total_s"], bool(r["proven"]) or method == "cli")
                for r in rows
                if r["method"] == method and r["variant"] == variant and r["status"] != "RELAXATION"
            )
            if not points:
                continue
            x, y, proven = zip(*points)
            axis.plot(x, y, style, color=colour, label=f"{method}, {variant}")
            axis.scatter(x, y, color=colour, facecolors=[colour if p else "white" for p in proven], zorder=3)
    axis.set(xscale="log", yscale="log", xlabel="cadres", ylabel="total seconds (median)")
    sizes = sorted({r["cadres"] for r in rows})
    axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.set_title("Time against size (hollow: not proven optimal within the limit)", fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def at_least_as_fast(engine: dict, highs: dict) -> bool:
    """Proven sooner, or, when neither proves its optimum in the limit, a solution with no larger gap."""
    if engine["proven"]:
        return not highs["proven"] or engine["total_s"] <= highs["total_s"]
    if highs["proven"] or engine["objective_scaled"] is None:
        return False
    return highs["objective_scaled"] is None or engine["gap"] <= highs["gap"]


def targets(rows: list[dict]) -> list[str]:
    """The issue's targets, checked on this run's rows."""
    find = lambda cadres, variant, method: next(  # noqa: E731
        (r for r in rows if r["size"] == cadres and r["variant"] == variant and r["method"] == method), None
    )
    lines = []
    engine, lsa = find("2900", "none", "engine"), find("2900", "none", "lsa")
    if engine and lsa:
        limit = 5 * lsa["solve_s"] + 0.5
        ok = engine["proven"] and engine["total_s"] <= limit
        lines.append(f"national, none: engine {engine['total_s']:.3f} s proven={engine['proven']} <= 5 x lsa + 0.5 = {limit:.3f} s: {'met' if ok else 'NOT met'}")
        same = engine["objective_scaled"] == lsa["objective_scaled"]
        lines.append(f"national, none: engine optimum equals lsa optimum: {same}")
    cli = find("2900", "none", "cli")
    if cli:
        ok = cli["total_s"] < 20 and cli["peak_mb"] < 2048
        lines.append(f"national CLI end to end {cli['total_s']:.2f} s, peak {cli['peak_mb']:,.0f} MB (< 20 s, < 2 GB): {'met' if ok else 'NOT met'}")
    budget = find("2900", "budgets", "engine")
    if budget:
        ok = budget["proven"] or (budget["gap"] is not None and budget["gap"] < 0.001 and budget["total_s"] <= 60)
        lines.append(f"national, budgets: engine {budget['status']} gap {budget['gap']} in {budget['total_s']:.1f} s (optimal, or gap < 0.1 % within 60 s): {'met' if ok else 'NOT met'}")
    for size in ("156", "1000"):
        engine, highs = find(size, "budgets", "engine"), find(size, "budgets", "highs")
        if engine and highs:
            lines.append(
                f"{size}, budgets: engine {engine['status']} {engine['total_s']:.2f} s gap {engine['gap']} vs HiGHS"
                f" {highs['status']} {highs['total_s']:.2f} s gap {highs['gap']} (engine at least as fast): "
                f"{'met' if at_least_as_fast(engine, highs) else 'NOT met'}"
                + (" - neither found an allocation" if engine["objective_scaled"] is None and highs["objective_scaled"] is None else "")
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="156 and 500 only, one repeat, 10 s limits")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the fast methods (medians)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds for the engine and HiGHS with budgets")
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for scale.csv, scale.json and scale.png")
    parser.add_argument("--worker", nargs=3, metavar=("SCENARIO", "VARIANT", "METHOD"), help=argparse.SUPPRESS)
    parser.add_argument("--cli-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cli_worker:
        print(json.dumps(cli_worker(args.cli_worker)))
        return 0
    if args.worker:
        path, variant, method = args.worker
        print(json.dumps(worker(Path(path), variant, method, args.repeats, args.time_limit)))
        return 0

    sizes = ["156", "500"] if args.quick else ["156", "500", "1000", "2900"]
    repeats, time_limit = (1, 10.0) if args.quick else (args.repeats, args.time_limit)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            path = SCENARIOS.get(size) or build_generated(Path(scratch) / size, size)
            for variant in VARIANTS:
                for method in METHODS:
                    # the slow exact solvers run once; the assignment codes and the flow are repeated
                    runs = 1 if method == "highs" or variant == "budgets" else repeats
                    row, _ = spawn(["--worker", str(path), variant, method, "--repeats", str(runs), "--time-limit", str(time_limit)])
                    row.update(size=size, variant=variant, method=method)
                    rows.append(row)
                    print(f"  {size:>5} {variant:<8} {method:<7} {row['total_s']:8.3f} s  {row['status']}", file=sys.stderr, flush=True)
            if size == "2900":
                times, peaks = [], []
                for _ in range(max(1, repeats)):
                    result, wall = spawn(["--cli-worker", str(path)])
                    times.append(wall)
                    peaks.append(result["peak_mb"])
                base = rows[-len(VARIANTS) * len(METHODS)]
                rows.append(
                    {**{k: base[k] for k in ("cadres", "posts", "pairs", "scale", "size")}, "variant": "none", "method": "cli",
                     "build_s": None, "solve_s": None, "total_s": statistics.median(times), "objective_scaled": None,
                     "status": "", "proven": None, "gap": None, "peak_mb": max(peaks), "repeats": len(times)}
                )  # fmt: skip
    for row in rows:
        lsa = next(r for r in rows if r["size"] == row["size"] and r["variant"] == "none" and r["method"] == "lsa")
        row["objective"] = None if row["objective_scaled"] is None else row["objective_scaled"] / row["scale"]
        row["x_lsa_solve"] = None if row["solve_s"] is None else row["solve_s"] / lsa["solve_s"]
        row["x_lsa_total"] = row["total_s"] / lsa["total_s"]

    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    columns = ["cadres", "posts", "pairs", "variant", "method", "repeats", "build_s", "solve_s", "total_s", "objective",
               "objective_scaled", "status", "proven", "gap", "peak_mb", "x_lsa_solve", "x_lsa_total"]  # fmt: skip
    pd.DataFrame(rows)[columns].to_csv(args.out / "scale.csv", index=False, float_format="%.6g")
    command = "python benchmarks/suite.py" + (" --quick" if args.quick else "")
    (args.out / "scale.json").write_text(json.dumps({"command": command, "machine": machine()}, indent=2) + "\n")
    plot(rows, args.out / "scale.png")
    print(markdown(rows))
    print()
    print("\n".join(targets(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
