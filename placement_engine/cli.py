"""Command line: ``python -m placement_engine {validate,solve,check,compare,chain,explain,audit} ...``.

Exit codes (docs/cli.md): 0 done; 1 internal error; 2 invalid input;
3 infeasible; 4 no allocation within the time limit; 5 ``check`` found
violations; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from . import io
from .errors import InfeasibleError, InputError, PlacementError, Problem

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_CHECK_FAILED = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except InfeasibleError as error:
        print(f"infeasible: {error}", file=sys.stderr)
        out = getattr(args, "out_dir", None)
        if out is not None:
            diagnosis = error.diagnosis
            # the diagnosis is this run's only file: nothing of an earlier run stays beside it
            io.write_folder(out, {"diagnosis.json": lambda path: io.write_json(diagnosis, path)})
            print(f"diagnosis written to {Path(out) / 'diagnosis.json'}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except PlacementError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away; that is not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence for users
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            print(f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="placement_engine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check a scenario's files and print what they hold")
    validate.add_argument("scenario", type=Path)
    validate.set_defaults(run=_validate)

    solve = sub.add_parser("solve", help="solve a scenario and write the allocation")
    solve.add_argument("scenario", type=Path)
    solve.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>)")
    solve.add_argument("--policy", type=Path, help="use this policy file instead of the scenario's")
    solve.add_argument("--time-limit", type=float, help="seconds (default: the policy's solver.time_limit_s)")
    solve.add_argument("--seed", type=int, help="random seed (default: the scenario's, else the policy's)")
    solve.add_argument("--workers", type=int, help="CP-SAT worker threads (default: the policy's)")
    solve.add_argument("--quiet", action="store_true", help="print nothing but errors")
    solve.set_defaults(run=_solve)

    check = sub.add_parser("check", help="re-verify a solve output folder without the solver")
    check.add_argument("out", type=Path)
    check.set_defaults(run=_check)

    compare = sub.add_parser("compare", help="solve the baseline and every variant; sweeps and Pareto fronts")
    compare.add_argument("scenario", type=Path)
    compare.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>-compare)")
    compare.add_argument("--variants", type=_names, help="comma-separated variants to solve (default: all)")
    compare.add_argument(
        "--sweep", action="append", default=[], metavar="FACTOR=W1,W2,...", help="a weight grid; give it twice for two factors"
    )
    compare.add_argument("--pareto", type=_names, metavar="A,B", help="the Pareto front between two factors' totals")
    compare.add_argument("--points", type=int, default=8, help="points of the Pareto front, at most (default: 8)")
    compare.add_argument(
        "--backend",
        choices=("process", "sequential", "dask"),
        default="process",
        help="how the variants and the sweep's points are solved side by side (default: local processes)",
    )
    compare.add_argument("--jobs", type=int, help="variants or sweep chunks solved at once (default: the number of cores)")
    compare.add_argument("--address", help="a Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    compare.set_defaults(run=_compare)

    chain = sub.add_parser("chain", help="solve a chained scenario batch after batch, for each relay mode")
    chain.add_argument("scenario", type=Path)
    chain.add_argument("--out", type=Path, help="output folder (default: out/<scenario name>-chain)")
    chain.add_argument("--batches", type=int, help="solve only the first N batches")
    chain.add_argument("--modes", type=_names, help="comma-separated relay modes: off, weight, rule (default: the scenario's)")
    chain.set_defaults(run=_chain)

    explain = sub.add_parser("explain", help="solve, then say why cadres got their posts and what their wishes would cost")
    explain.add_argument("scenario", type=Path)
    explain.add_argument("--cadre", action="append", default=[], metavar="ID", help="a cadre to explain (repeatable)")
    explain.add_argument("--least-satisfied", type=int, metavar="N", help="explain the N cadres with the worst wish met")
    explain.add_argument("--all", action="store_true", help="write explanations.csv for every cadre who missed their first wish")
    explain.add_argument("--table", action="store_true", help="print each explanation as a table instead of sentences")
    explain.add_argument("--out", type=Path, help="folder for explanations.csv (default: out/<scenario name>)")
    explain.add_argument("--policy", type=Path, help="use this policy file instead of the scenario's")
    explain.set_defaults(run=_explain)

    audit = sub.add_parser("audit", help="improving swaps, justified envy and wish statistics of a solve output folder")
    audit.add_argument("out", type=Path)
    audit.set_defaults(run=_audit)

    for command in (compare, chain, explain):
        command.add_argument("--time-limit", type=float, help="seconds per solve (default: the policy's)")
        command.add_argument("--seed", type=int, help="random seed (default: the scenario's, else the policy's)")
        command.add_argument("--workers", type=int, help="CP-SAT worker threads (default: the policy's)")
        command.add_argument("--quiet", action="store_true", help="print nothing but errors")
    for command in (validate, solve, check, compare, chain, explain, audit):
        command.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return parser


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _sweep_grid(specs: list[str]) -> dict[str, list[float]]:
    """``["proximity=0,0.1"]`` -> ``{"proximity": [0.0, 0.1]}``; malformed specs are input errors."""
    grid: dict[str, list[float]] = {}
    problems = []
    for spec in specs:
        factor, _, values = spec.partition("=")
        try:
            grid[factor.strip()] = [float(value) for value in values.split(",")]
        except ValueError:
            problems.append(Problem("command line", "--sweep", "FACTOR=W1,W2,... with numbers as weights", repr(spec)))
    if problems:
        raise InputError(problems)
    return grid


def _progress(args):
    return None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))


def _options(args, scenario) -> dict:
    """--time-limit, --workers and --seed, validated as the policy's solver section is (before any solve)."""
    options = {"time_limit": args.time_limit, "workers": args.workers, "seed": args.seed}
    io.solver_overrides(scenario.policy, **options)
    return options


def _replaceable(out: Path) -> Path:
    """``out``, known before any solve to be a folder the run may replace whole (not one of the user's)."""
    io.check_replaceable(out)
    return out


def _validate(args) -> int:
    from .reports.terminal import describe_scenario
    from .solve.feasibility import precheck

    scenario = io.load_scenario(args.scenario)
    conflicts = precheck(scenario.instance, scenario.policy)
    print(describe_scenario(scenario, conflicts))
    return EXIT_INFEASIBLE if conflicts else EXIT_OK


def _solve(args) -> int:
    from .allocation import solve
    from .reports.terminal import solve_table

    started = time.perf_counter()  # the time limit covers reading the files too
    scenario = io.load_scenario(args.scenario, policy=args.policy)
    options = _options(args, scenario)
    args.out_dir = _replaceable(args.out or Path("out") / scenario.name)
    allocation = solve(scenario, log=_progress(args), started=started, **options)
    allocation.write(args.out_dir)
    if not args.quiet:
        print(solve_table(allocation))
        print(allocation.audit.headline())
        print(f"written to {args.out_dir}/ (allocation.csv, summary.json, audit.json, audit.csv, inputs/, run.json)")
    return _finished(allocation, args.out_dir)


def _finished(allocation, out_dir: Path) -> int:
    """0, or 130 when Ctrl-C stopped the search (the best allocation found by then is written)."""
    if not allocation.summary["interrupted"]:
        return EXIT_OK
    print(f"interrupted: the best allocation found so far ({allocation.status}, gap {allocation.gap:.4%}) is in {out_dir}/", file=sys.stderr)
    return EXIT_INTERRUPTED


def _compare(args) -> int:
    from .runner import compare

    scenario = io.load_scenario(args.scenario)
    if args.pareto is not None and len(args.pareto) != 2:
        raise InputError([Problem("command line", "--pareto", "two factors, A,B", repr(",".join(args.pareto)))])
    options = _options(args, scenario)
    args.out_dir = _replaceable(args.out or Path("out") / f"{scenario.name}-compare")
    comparison = compare(
        scenario,
        args.variants,
        options=options,
        out_dir=args.out_dir,
        sweep_weights=_sweep_grid(args.sweep),
        pareto_objectives=tuple(args.pareto) if args.pareto else None,
        points=args.points,
        progress=_progress(args),
        backend=args.backend,
        jobs=args.jobs,
        address=args.address,
    )
    if not args.quiet:
        print(comparison)
        files = ", ".join(path.name for path in comparison.files)
        print(f"written to {args.out_dir}/ ({files}, and a solve folder per variant)")
    return EXIT_OK


def _chain(args) -> int:
    from .runner import chain

    scenario = io.load_scenario(args.scenario)
    options = _options(args, scenario)
    args.out_dir = _replaceable(args.out or Path("out") / f"{scenario.name}-chain")
    table = chain(scenario, batches=args.batches, modes=args.modes, options=options, out_dir=args.out_dir, progress=_progress(args))
    if not args.quiet:
        from .runner import format_chain

        print(format_chain(table))
        print(f"written to {args.out_dir}/ (chain.csv, chain.png, and a solve folder per mode and year)")
    return EXIT_OK


def _check(args) -> int:
    from .reports.check import check_output_dir

    report = check_output_dir(args.out)
    print(report)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


EXPLAIN_COLUMNS = ["wish", "target_name", "status", "posts_open", "blocked_by", "granted_post", "holders", "holder_score", "price_points"]


def _explain(args) -> int:
    from .allocation import solve
    from .reports.explain import Explainer, least_satisfied

    scenario = io.load_scenario(args.scenario, policy=args.policy)
    unknown = [cadre for cadre, index in zip(args.cadre, scenario.instance.cadre_index(args.cadre)) if index < 0]
    if unknown or not (args.cadre or args.least_satisfied or args.all):
        raise InputError(
            [Problem("command line", "--cadre", "a cadre_id of the scenario", repr(cadre)) for cadre in unknown]
            or [Problem("command line", "explain", "--cadre ID, --least-satisfied N or --all", "none of them")]
        )
    options = _options(args, scenario)
    args.out_dir = _replaceable(args.out or Path("out") / scenario.name)
    allocation = solve(scenario, log=_progress(args), **options)
    if allocation.summary["interrupted"]:
        allocation.write(args.out_dir)
        return _finished(allocation, args.out_dir)
    explainer = Explainer(allocation, **options)
    for cadre in args.cadre + (least_satisfied(allocation, args.least_satisfied) if args.least_satisfied else []):
        explanation = explainer.explain(cadre)
        text = explanation.table[EXPLAIN_COLUMNS].to_string(index=False) if args.table else str(explanation)
        print(text, end="\n\n")
    if args.all:
        table = explainer.explain_all()
        # with the allocation they explain: the folder holds one run, as a solve folder does
        allocation.write(args.out_dir, extra_files={"explanations.csv": lambda path: io.write_csv(table, path)})
        cadres = table["cadre_id"].nunique() if len(table) else 0
        print(f"explanations of {cadres} cadres who missed their first wish: {args.out_dir / 'explanations.csv'} (with the allocation)")
    return EXIT_OK


def _audit(args) -> int:
    from .reports.audit import audit_output_dir

    report = audit_output_dir(args.out)
    # the audit is derived from the run's own files: it joins that run instead of starting one
    with io.OutputFolder(args.out, amend=True) as folder:
        report.write(folder.root)
    print(report)
    print(f"written to {args.out}/ (audit.json, audit.csv)")
    return EXIT_OK
