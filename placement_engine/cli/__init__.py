"""Command line: ``python -m placement_engine {validate,solve,check,compare,chain,explain,audit} ...``.

Exit codes (docs/cli.md): 0 done; 1 internal error; 2 invalid input;
3 infeasible; 4 no allocation within the time limit; 5 ``check`` found
violations; 130 interrupted.

Modules: ``parser`` (arguments, help, ``--lang``), ``commands`` (validate, solve,
check, audit, compare, chain) and ``explaining`` (explain and the cadre's notice).
Only the standard library loads before a command runs.
"""

from __future__ import annotations

import gc
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ..errors import InfeasibleError, InputError, PlacementError
from ..i18n import _, language
from .codes import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from .parser import ENV, build_parser, env_language, flag_language, speaking

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    code = _main(list(sys.argv[1:] if argv is None else argv))
    if argv is None:  # this process's own command line: the process ends now (`python -m placement_engine`, `placement-engine`)
        # so the interpreter's exit need not search every object pandas and the rest left for cycles: 0.05-0.1 s
        gc.freeze()
    return code


def _main(argv: list[str]) -> int:
    try:
        flag, env = flag_language(argv), env_language()
    except ValueError as error:
        print(f"error: {error} (--lang or {ENV})", file=sys.stderr)
        return EXIT_INPUT
    # --lang, then the scenario's language key (read by the command), then the environment;
    # it holds for this call only: a notebook or a test calling main() keeps its own
    with language(flag or env):
        with speaking():
            args = build_parser(with_replan="replan" in argv).parse_args(argv)
        args.flag_language = flag
        return _run(args)


def _run(args) -> int:
    from . import commands, explaining

    run = getattr(commands, args.run, None) or getattr(explaining, args.run)
    try:
        return run(args)
    except InputError as error:
        print(_("error: {message}").format(message=error), file=sys.stderr)
        return EXIT_INPUT
    except InfeasibleError as error:
        print(_("infeasible: {message}").format(message=error), file=sys.stderr)
        out = getattr(args, "out_dir", None)
        if out is not None:
            from .. import io

            diagnosis = error.diagnosis
            # the diagnosis is this run's only file: nothing of an earlier run stays beside it
            io.write_folder(out, {"diagnosis.json": lambda path: io.write_json(diagnosis, path)})
            print(_("diagnosis written to {path}").format(path=Path(out) / "diagnosis.json"), file=sys.stderr)
        return EXIT_INFEASIBLE
    except PlacementError as error:
        print(_("error: {message}").format(message=error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away; that is not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence for users
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            words = _("internal error: {kind}: {message} (run with --debug for the traceback)")
            print(words.format(kind=type(error).__name__, message=error), file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        bar = getattr(args, "bar", None)
        if bar is not None:
            bar.close()
