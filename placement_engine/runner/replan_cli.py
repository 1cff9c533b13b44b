"""The ``replan`` command: its options, and running it from parsed arguments.

Light on purpose: the parser imports ``add_arguments`` while building ``--help``,
so the re-plan itself (pandas, OR-Tools) loads only when ``run_replan`` runs.

    replan OUT_DIR --withdraw ID[,ID...] [--close-posts ID,...] [--add-cadres FILE] --out NEW
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..i18n import N_, _

EXIT_INTERRUPTED = 130  # as every command: Ctrl-C stopped the search, the best plan found is written
HELP = N_("re-plan a published allocation after withdrawals, closed posts or late cadres, moving as few cadres as possible")


def ids(text: str) -> list[str]:
    """``"a,b, c"`` -> ``["a", "b", "c"]``."""
    return [name.strip() for name in text.split(",") if name.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The replan command's own options (the solver options --time-limit, --seed, --workers, --quiet too)."""
    parser.add_argument("published", type=Path, metavar="OUT_DIR", help=_("the solve output folder of the published allocation"))
    parser.add_argument("--out", type=Path, required=True, help=_("the new output folder"))
    parser.add_argument(
        "--withdraw", type=ids, action="extend", default=[], metavar="ID[,ID...]", help=_("cadres who withdraw (repeatable)")
    )
    parser.add_argument(
        "--close-posts", type=ids, action="extend", default=[], metavar="ID[,ID...]", help=_("posts that close (repeatable)")
    )
    parser.add_argument(
        "--add-cadres", type=Path, metavar="FILE", help=_("late cadres: a CSV or XLSX file with the cadres table's columns")
    )
    parser.add_argument("--add-preferences", type=Path, metavar="FILE", help=_("the late cadres' wishes: the preferences table's columns"))
    parser.add_argument(
        "--move-cost",
        type=float,
        metavar="POINTS",
        help=_("price each move in objective points instead of moving as few cadres as possible"),
    )
    parser.add_argument(
        "--keep-fill-every-post",
        action="store_true",
        help=_("keep the policy's fill_every_post rule (by default a vacated post may stay vacant)"),
    )


def run_replan(args: argparse.Namespace) -> int:
    """Re-plan, write the new folder, print who moves and the certificate; 0, or 130 when Ctrl-C cut the search."""
    from .. import io
    from .replan import replan

    started = time.perf_counter()
    args.out_dir = args.out  # where the diagnosis goes when no allocation meets the rules
    io.check_replaceable(args.out)
    options = {"move_cost_points": args.move_cost, "keep_fill_every_post": args.keep_fill_every_post}
    quiet = getattr(args, "quiet", False)
    log = None if quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    result = replan(
        args.published,
        withdraw=args.withdraw,
        close_posts=args.close_posts,
        add_cadres=args.add_cadres,
        add_preferences=args.add_preferences,
        options=options,
        time_limit=getattr(args, "time_limit", None),
        seed=getattr(args, "seed", None),
        workers=getattr(args, "workers", None),
        log=log,
        started=started,
    )
    result.write(args.out)
    if not quiet:
        print(result)
        print(
            _("written to {folder}/ (allocation.csv, moves.csv, summary.json, audit.json, audit.csv, inputs/, run.json)").format(
                folder=args.out
            )
        )
    return EXIT_INTERRUPTED if result.summary["interrupted"] else 0
