"""Command line: ``python -m placement_engine {validate,solve,check} ...``.

Exit codes (docs/cli.md): 0 done; 1 internal error; 2 invalid input;
3 infeasible; 4 no allocation within the time limit; 5 ``check`` found
violations; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from . import io
from .errors import InfeasibleError, InputError, PlacementError

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
            io.write_json(error.diagnosis, Path(out) / "diagnosis.json")
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

    for command in (validate, solve, check):
        command.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    return parser


def _validate(args) -> int:
    from .report import describe_scenario

    scenario = io.load_scenario(args.scenario)
    print(describe_scenario(scenario))
    return EXIT_OK


def _solve(args) -> int:
    from .allocation import solve
    from .report import solve_table

    scenario = io.load_scenario(args.scenario, policy=args.policy)
    args.out_dir = args.out or Path("out") / scenario.name
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    allocation = solve(scenario, time_limit=args.time_limit, seed=args.seed, workers=args.workers, log=log)
    allocation.write(args.out_dir)
    if not args.quiet:
        print(solve_table(allocation))
        print(f"written to {args.out_dir}/ (allocation.csv, summary.json, inputs/)")
    return EXIT_OK


def _check(args) -> int:
    from .check import check_output_dir

    report = check_output_dir(args.out)
    print(report)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED
