"""validate, solve, check, audit, compare and chain; each imports the heavy modules it needs when it runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import InputError, Problem
from ..i18n import _, ngettext, set_language
from .codes import EXIT_CHECK_FAILED, EXIT_INFEASIBLE, EXIT_INTERRUPTED, EXIT_OK
from .map_worker import MapDrawing


def speak_scenario(args) -> None:
    """Without --lang, speak the scenario's ``language`` key when it has one (read before the scenario is,
    so that its problems are told in that language too)."""
    if args.flag_language is not None:
        return
    import yaml

    from ..io.read import load_yaml

    try:
        raw = load_yaml(Path(args.scenario).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return  # the loader reports the file's problems
    if isinstance(raw, dict) and raw.get("language") in ("en", "zh"):
        set_language(raw["language"])


def progress(args):
    """The runner's report: a bar with ETA on a terminal (or with --progress), plain lines otherwise, nothing with --quiet."""
    if args.quiet:
        return None
    if getattr(args, "bar", None) is None:
        from ..progress import ProgressBar

        args.bar = ProgressBar(bar=True if args.progress else None)
    return args.bar


def solver_log(args):
    """Where CP-SAT's improving allocations go: above the bar, or as lines; nowhere with --quiet."""
    bar = progress(args)
    return None if bar is None else bar.note


def options(args, scenario) -> dict:
    """--time-limit, --workers and --seed, validated as the policy's solver section is (before any solve)."""
    from .. import io

    chosen = {"time_limit": args.time_limit, "workers": args.workers, "seed": args.seed}
    io.solver_overrides(scenario.policy, **chosen)
    return chosen


def replaceable(out: Path) -> Path:
    """``out``, known before any solve to be a folder the run may replace whole (not one of the user's)."""
    from .. import io

    io.check_replaceable(out)
    return out


def load(args, **kwargs):
    from .. import io

    speak_scenario(args)
    return io.load_scenario(args.scenario, **kwargs)


def written(out_dir: Path, files: str) -> str:
    return _("written to {folder}/ ({files})").format(folder=out_dir, files=files)


def validate(args) -> int:
    from .. import io
    from ..reports.terminal import describe_scenario
    from ..solve.feasibility import precheck

    scenario = load(args)
    conflicts = precheck(scenario.instance, scenario.policy)
    print(describe_scenario(scenario, conflicts))
    note = io.encoding_note(scenario)
    if note is not None:
        print(note)
    print_shadowed_wishes(scenario)
    return EXIT_INFEASIBLE if conflicts else EXIT_OK


SHADOWED_SHOWN = 10


def print_shadowed_wishes(scenario) -> None:
    """Warn about wishes that can never count (a prefecture after its own province, ...): the first few, and how many."""
    from ..factors.preferences import shadowed_wishes

    shadowed = shadowed_wishes(scenario.tables)
    if not shadowed:
        return
    words = ngettext(
        "warning: {count} wish can never count, because an earlier wish of the same cadre contains its area:",
        "warning: {count} wishes can never count, because an earlier wish of the same cadre contains their area:",
        len(shadowed),
    )
    print(words.format(count=len(shadowed)))
    for wish in shadowed[:SHADOWED_SHOWN]:
        print(f"  - {wish}")
    if len(shadowed) > SHADOWED_SHOWN:
        print(_("  ... and {count} more").format(count=len(shadowed) - SHADOWED_SHOWN))


def solve(args) -> int:
    started = time.perf_counter()  # the time limit covers reading the files too
    drawing = None if args.no_map else MapDrawing(args.map_province)  # matplotlib loads beside the solve from now on
    try:
        scenario = load(args, policy=args.policy)
        chosen = options(args, scenario)
        args.out_dir = replaceable(args.out or Path("out") / scenario.name)
        if drawing is not None:
            if args.map_province is not None:
                from ..data.boundaries import layer
                from ..reports.map_data import province_code

                province_code(layer("province"), args.map_province)  # a misspelt province fails before the solve
            drawing.outline(scenario)  # before the solver's modules load, which the worker's outlines need not wait for
        from ..allocation import solve as solve_scenario

        allocation = solve_scenario(scenario, log=solver_log(args), started=started, audit=False, **chosen)
        if drawing is not None:
            drawing.draw(allocation)  # drawn while the audit and the other files are made
        allocation.summary["audit"] = allocation.audit.summary()  # last, as solve(audit=True) adds it
        allocation.write(args.out_dir, extra_files={} if drawing is None else {"map.png": drawing.write})
    finally:
        if drawing is not None:
            drawing.close()
    if not args.quiet:
        from ..reports.terminal import solve_table

        print(solve_table(allocation))
        print(allocation.audit.headline())
        drawn = "" if args.no_map else "map.png, "
        print(written(args.out_dir, f"allocation.csv, results.xlsx, {drawn}summary.json, audit.json, audit.csv, inputs/, run.json"))
    return finished(allocation, args.out_dir)


def finished(allocation, out_dir: Path) -> int:
    """0, or 130 when Ctrl-C stopped the search (the best allocation found by then is written)."""
    if not allocation.summary["interrupted"]:
        return EXIT_OK
    words = _("interrupted: the best allocation found so far ({status}, gap {gap:.4%}) is in {folder}/")
    print(words.format(status=allocation.status, gap=allocation.gap, folder=out_dir), file=sys.stderr)
    return EXIT_INTERRUPTED


def check(args) -> int:
    from ..reports.check import check_output_dir

    report = check_output_dir(args.out)
    print(report)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def audit(args) -> int:
    if args.allocation is not None:
        from ..reports.hand_audit import audit_allocation_command

        args.scenario = args.target
        speak_scenario(args)
        return audit_allocation_command(args.target, args.allocation, args.out)
    if args.out is not None:
        raise InputError([Problem(_("command line"), "--out", _("--allocation FILE (a solve folder's audit is written into it)"), str(args.out))])
    from .. import io
    from ..reports.audit import audit_output_dir

    report = audit_output_dir(args.target)
    # the audit is derived from the run's own files: it joins that run instead of starting one
    with io.OutputFolder(args.target, amend=True) as folder:
        report.write(folder.root)
    print(report)
    print(written(args.target, "audit.json, audit.csv"))
    return EXIT_OK


def replan(args) -> int:
    from ..runner.replan_cli import run_replan

    return run_replan(args)


def sweep_grid(specs: list[str]) -> dict[str, list[float]]:
    """``["proximity=0,0.1"]`` -> ``{"proximity": [0.0, 0.1]}``; malformed specs are input errors."""
    grid: dict[str, list[float]] = {}
    problems = []
    for spec in specs:
        factor, _sign, values = spec.partition("=")
        try:
            grid[factor.strip()] = [float(value) for value in values.split(",")]
        except ValueError:
            problems.append(Problem(_("command line"), "--sweep", _("FACTOR=W1,W2,... with numbers as weights"), repr(spec)))
    if problems:
        raise InputError(problems)
    return grid


def compare(args) -> int:
    scenario = load(args)
    from ..runner import compare as compare_variants

    if args.pareto is not None and len(args.pareto) != 2:
        raise InputError([Problem(_("command line"), "--pareto", _("two factors, A,B"), repr(",".join(args.pareto)))])
    chosen = options(args, scenario)
    args.out_dir = replaceable(args.out or Path("out") / f"{scenario.name}-compare")
    comparison = compare_variants(
        scenario,
        args.variants,
        options=chosen,
        out_dir=args.out_dir,
        sweep_weights=sweep_grid(args.sweep),
        pareto_objectives=tuple(args.pareto) if args.pareto else None,
        points=args.points,
        progress=progress(args),
        backend=args.backend,
        jobs=args.jobs,
        address=args.address,
    )
    if not args.quiet:
        print(comparison)
        files = ", ".join(path.name for path in comparison.files)
        print(_("written to {folder}/ ({files}, and a solve folder per variant)").format(folder=args.out_dir, files=files))
    return EXIT_OK


def chain(args) -> int:
    scenario = load(args)
    from ..runner import chain as chain_batches
    from ..runner import format_chain

    chosen = options(args, scenario)
    args.out_dir = replaceable(args.out or Path("out") / f"{scenario.name}-chain")
    table = chain_batches(scenario, batches=args.batches, modes=args.modes, options=chosen, out_dir=args.out_dir, progress=progress(args))
    if not args.quiet:
        print(format_chain(table))
        print(_("written to {folder}/ (chain.csv, chain.png, and a solve folder per mode and year)").format(folder=args.out_dir))
    return EXIT_OK
