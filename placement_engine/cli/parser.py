"""The argument parser, its help in the user's language, and ``--lang`` read before it is built.

Nothing heavy loads here: the commands import pandas, OR-Tools and the rest
when they run, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..i18n import LANGUAGES, N_, _, ngettext, normalise

ENV = "PLACEMENT_ENGINE_LANG"
BACKENDS = ("process", "sequential", "dask")
# argparse's own words that a user may read, exactly as argparse writes them (Python 3.11 to 3.13), so that the
# catalogue holds them; argparse translates them itself, through the functions ``speaking`` lends it
ARGPARSE_MESSAGES = (
    N_("%(heading)s:"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("expected one argument"),
    N_("ignored explicit argument %r"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("options"),
    N_("positional arguments"),
    N_("show program's version number and exit"),
    N_("show this help message and exit"),
    N_("the following arguments are required: %s"),
    N_("unexpected option string: %s"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("unrecognized arguments: %s"),
    N_("usage: "),
)


def flag_language(argv: Sequence[str]) -> str | None:
    """The language ``--lang`` asks for (the last one wins), None without it.

    Read before the parser exists, because its help texts are written in that language.
    Raises ``ValueError`` for a language the engine does not speak.
    """
    asked = None
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and index + 1 < len(argv):
            asked = argv[index + 1]
        elif word.startswith("--lang="):
            asked = word.partition("=")[2]
    return normalise(asked) if asked is not None else None


def env_language() -> str | None:
    """The language of ``PLACEMENT_ENGINE_LANG``, None when unset or empty; ``ValueError`` when unknown."""
    asked = os.environ.get(ENV) or None
    return normalise(asked) if asked is not None else None


def version() -> str:
    """The installed distribution's version, else the source tree's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("placement_engine")
    except PackageNotFoundError:
        from .. import __version__

        return __version__


@contextmanager
def speaking() -> Iterator[None]:
    """argparse's own messages (its errors, 'usage: ', ...) in the current language while the block runs.

    argparse looks up its module's ``_`` and ``ngettext`` whenever it words a message; inside the block
    they are the engine's, so that any other parser of the process keeps stdlib gettext."""
    lent = {"_": _, "ngettext": ngettext}
    kept = {name: getattr(argparse, name) for name in lent if hasattr(argparse, name)}
    for name in kept:
        setattr(argparse, name, lent[name])
    try:
        yield
    finally:
        for name, function in kept.items():
            setattr(argparse, name, function)


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix=_("usage: ") if prefix is None else prefix)

    class _Section(argparse.HelpFormatter._Section):
        def format_help(self) -> str:
            # before Python 3.13 the colon after a section's heading is always ASCII; in Chinese it is full-width
            text = super().format_help()
            if self.heading in (None, argparse.SUPPRESS):
                return text
            return text.replace(f"{self.heading}:\n", _("%(heading)s:") % {"heading": self.heading} + "\n", 1)


class _Version(argparse.Action):
    """Prints the version; looked up only when asked for (the metadata lookup is not free)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"placement_engine {version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose own words (sections, usage, the error line) are translated."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        self.add_argument("-h", "--help", action="help", help=_("show this help and exit"))

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def build_parser(with_replan: bool = True) -> argparse.ArgumentParser:
    """Every command and option, with help in the current language.

    ``with_replan=False`` leaves out the replan command's own options, whose module is heavy to load.
    """
    parser = _Parser(prog="placement_engine", description=_("Assign university Youth League cadres to county-level posts."))
    parser.add_argument("--version", action=_Version, nargs=0, help=_("print the version and exit"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title=_("commands"), parser_class=_Parser)

    def command(name: str, text: str, run: str) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=text, description=text)
        made.set_defaults(run=run)
        return made

    scenario_help = _("the scenario file (YAML)")
    folder_help = _("a solve output folder")

    validate = command("validate", _("check a scenario's files and print what they hold"), "validate")
    validate.add_argument("scenario", type=Path, help=scenario_help)

    solve = command("solve", _("solve a scenario and write the allocation"), "solve")
    solve.add_argument("scenario", type=Path, help=scenario_help)
    solve.add_argument("--out", type=Path, help=_("output folder (default: out/<scenario name>)"))
    solve.add_argument("--policy", type=Path, help=_("use this policy file instead of the scenario's"))
    solve.add_argument("--map-province", metavar="PROVINCE", help=_("draw map.png for this province only (a code such as 370000 or a name)"))
    solve.add_argument("--no-map", action="store_true", help=_("do not draw map.png"))

    check = command("check", _("re-verify a solve output folder without the solver"), "check")
    check.add_argument("out", type=Path, metavar="OUT_DIR", help=folder_help)

    compare = command("compare", _("solve the baseline and every variant; sweeps and Pareto fronts"), "compare")
    compare.add_argument("scenario", type=Path, help=scenario_help)
    compare.add_argument("--out", type=Path, help=_("output folder (default: out/<scenario name>-compare)"))
    compare.add_argument("--variants", type=names, help=_("comma-separated variants to solve (default: all)"))
    compare.add_argument(
        "--sweep", action="append", default=[], metavar="FACTOR=W1,W2,...", help=_("a weight grid; give it twice for two factors")
    )
    compare.add_argument("--pareto", type=names, metavar="A,B", help=_("the Pareto front between two factors' totals"))
    compare.add_argument("--points", type=int, default=8, help=_("points of the Pareto front, at most (default: 8)"))
    compare.add_argument(
        "--backend",
        choices=BACKENDS,
        default="process",
        help=_("how the variants and the sweep's points are solved side by side (default: local processes)"),
    )
    compare.add_argument("--jobs", type=int, help=_("variants or sweep chunks solved at once (default: the number of cores)"))
    compare.add_argument("--address", help=_("a Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)"))

    chain = command("chain", _("solve a chained scenario batch after batch, for each relay mode"), "chain")
    chain.add_argument("scenario", type=Path, help=scenario_help)
    chain.add_argument("--out", type=Path, help=_("output folder (default: out/<scenario name>-chain)"))
    chain.add_argument("--batches", type=int, help=_("solve only the first N batches"))
    chain.add_argument("--modes", type=names, help=_("comma-separated relay modes: off, weight, rule (default: the scenario's)"))

    explain = command("explain", _("solve, then say why cadres got their posts and what their wishes would cost"), "explain")
    explain.add_argument("scenario", type=Path, help=scenario_help)
    explain.add_argument("--cadre", action="append", default=[], metavar="ID", help=_("a cadre to explain (repeatable)"))
    explain.add_argument("--least-satisfied", type=int, metavar="N", help=_("explain the N cadres with the worst wish met"))
    explain.add_argument("--all", action="store_true", help=_("write explanations.csv for every cadre who missed their first wish"))
    explain.add_argument("--table", action="store_true", help=_("print each explanation as a table instead of sentences"))
    explain.add_argument(
        "--notice", action="store_true", help=_("write a notice to hand to each cadre given with --cadre: the post, why, and what each wish would cost")
    )
    explain.add_argument(
        "--out", type=Path, help=_("folder for explanations.csv (default: out/<scenario name>); with --notice, a .md or .txt file for the notice")
    )
    explain.add_argument("--policy", type=Path, help=_("use this policy file instead of the scenario's"))

    audit = command("audit", _("improving swaps, justified envy and wish statistics of a solve output folder"), "audit")
    audit.add_argument("target", type=Path, metavar="OUT_DIR|SCENARIO", help=_("a solve output folder, or with --allocation the scenario file"))
    audit.add_argument(
        "--allocation", type=Path, metavar="FILE", help=_("audit this allocation (CSV or XLSX: cadre_id, post_id), made by hand, against the scenario")
    )
    audit.add_argument("--out", type=Path, metavar="DIR", help=_("with --allocation: folder to write the audit to"))

    replan = command(
        "replan", _("re-plan a published allocation after withdrawals, closed posts or late cadres, moving as few cadres as possible"), "replan"
    )
    if with_replan:
        # its options live beside the re-plan, in the runner package, which loads pandas and OR-Tools
        from ..runner.replan_cli import add_arguments

        add_arguments(replan)

    for each in (solve, compare, chain, explain, replan):
        per = _("seconds (default: the policy's solver.time_limit_s)") if each in (solve, replan) else _("seconds per solve (default: the policy's)")
        each.add_argument("--time-limit", type=float, help=per)
        each.add_argument("--seed", type=int, help=_("random seed (default: the scenario's, else the policy's)"))
        each.add_argument("--workers", type=int, help=_("CP-SAT worker threads (default: the policy's)"))
        each.add_argument("--quiet", action="store_true", help=_("print nothing but errors (no progress bars)"))
        each.add_argument("--progress", action="store_true", help=_("show progress bars even when stderr is not a terminal"))
    for each in (parser, validate, solve, check, compare, chain, explain, audit, replan):
        each.add_argument(
            "--lang",
            type=normalise,
            metavar="{" + ",".join(LANGUAGES) + "}",
            default=argparse.SUPPRESS if each is not parser else None,
            help=_("language of the output: zh or en (default: the scenario's language, else {env}, else en)").format(env=ENV),
        )
        each.add_argument("--debug", action="store_true", default=argparse.SUPPRESS if each is not parser else False, help=_("show tracebacks of internal errors"))
    return parser


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]
