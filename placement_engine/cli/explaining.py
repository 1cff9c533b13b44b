"""explain: why cadres got their posts, what their wishes would cost, and the notice handed to a cadre."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem
from ..i18n import _, ngettext
from .codes import EXIT_OK
from .commands import finished, load, options, progress, replaceable, solver_log

EXPLAIN_COLUMNS = ["wish", "target_name", "status", "posts_open", "blocked_by", "granted_post", "holders", "holder_score", "price_points"]
NOTICE_SUFFIXES = (".md", ".txt")


def explain(args) -> int:
    scenario = load(args, policy=args.policy)
    from .. import io
    from ..allocation import solve
    from ..reports.explain import Explainer, least_satisfied

    _check_request(args, scenario)
    chosen = options(args, scenario)
    notice_file = args.out if args.notice and args.out is not None else None
    args.out_dir = replaceable(Path("out") / scenario.name if notice_file is not None or args.out is None else args.out)
    allocation = solve(scenario, log=solver_log(args), **chosen)
    if allocation.summary["interrupted"]:
        allocation.write(args.out_dir)
        return finished(allocation, args.out_dir)
    explainer = Explainer(allocation, **chosen)
    cadres = args.cadre + (least_satisfied(allocation, args.least_satisfied) if args.least_satisfied else [])
    if args.notice:
        return _notices(explainer, cadres, notice_file)
    for cadre in cadres:
        explanation = explainer.explain(cadre)
        text = explanation.table[EXPLAIN_COLUMNS].to_string(index=False) if args.table else str(explanation)
        print(text, end="\n\n")
    if args.all:
        table = explainer.explain_all(progress=progress(args))
        # with the allocation they explain: the folder holds one run, as a solve folder does
        files = {"explanations.csv": lambda path: io.write_csv(table, path), "explanations.xlsx": lambda path: io.write_explanations_xlsx(table, path)}
        allocation.write(args.out_dir, extra_files=files)
        count = int(table["cadre_id"].nunique()) if len(table) else 0
        words = ngettext(
            "explanation of {count} cadre who missed their first wish: {path} and explanations.xlsx (with the allocation)",
            "explanations of {count} cadres who missed their first wish: {path} and explanations.xlsx (with the allocation)",
            count,
        )
        print(words.format(count=count, path=args.out_dir / "explanations.csv"))
    return EXIT_OK


def _check_request(args, scenario) -> None:
    """Every --cadre a cadre of the scenario, at least one thing asked for, a notice written to .md or .txt."""
    command_line = _("command line")
    unknown = [cadre for cadre, index in zip(args.cadre, scenario.instance.cadre_index(args.cadre)) if index < 0]
    problems = [Problem(command_line, "--cadre", _("a cadre_id of the scenario"), repr(cadre)) for cadre in unknown]
    if not (args.cadre or args.least_satisfied or args.all):
        problems.append(Problem(command_line, "explain", _("--cadre ID, --least-satisfied N or --all"), _("none of them")))
    if args.notice and not (args.cadre or args.least_satisfied):
        problems.append(Problem(command_line, "--notice", _("--cadre ID or --least-satisfied N: the cadres to write to"), _("none")))
    if args.notice and args.out is not None and args.out.suffix.lower() not in NOTICE_SUFFIXES:
        problems.append(Problem(command_line, "--out", _("a .md or .txt file for the notice"), repr(str(args.out))))
    if problems:
        raise InputError(problems)


def _notices(explainer, cadres: list[str], out: Path | None) -> int:
    from ..reports.notice import notice

    texts = [notice(explainer, cadre, markdown=out is not None and out.suffix.lower() == ".md") for cadre in cadres]
    text = "\n\n---\n\n".join(texts) if out is not None and out.suffix.lower() == ".md" else "\n\n\n".join(texts)
    if out is None:
        print(text)
        return EXIT_OK
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    print(_("notice written to {path}").format(path=out))
    return EXIT_OK
