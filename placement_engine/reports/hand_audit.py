"""Auditing an allocation made by hand (last year's, a draft): how good it is against the engine's optimum.

``audit_allocation(scenario, allocation)`` takes a table of ``cadre_id`` and
``post_id`` (a CSV in UTF-8, UTF-8 with BOM or GBK, an XLSX, or a DataFrame; a
blank post means unplaced, a cadre the table leaves out is unplaced) and reports:

- the hard rules it breaks (every active rule's solver-free check);
- its points per factor against the engine's proven optimum, the optimum's
  bound, and its gap to the optimum in points and per cent;
- its improving swaps and blocking pairs (``audit.py``);
- the single moves and pairwise exchanges that would gain the most points
  while keeping the pair rules, capacities, side rows and relay as a rule.

A mistake in the table itself (a missing column, an unknown id, a cadre listed
twice) is an ``InputError`` naming the file, row, what was expected and what was
found; an allocation that is readable but breaks rules is reported, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..allocation import Allocation, solve
from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..evaluate import allocation_table, factor_totals
from ..i18n import _, language
from ..instance import expand_matches
from ..naming import word
from ..rules import Allocated, allowed_pairs
from ..rules import violations as rule_violations
from ..rules.swap_free import WishState
from ..scenario import Scenario
from ..solve import Terms, build_terms
from .audit import Audit, audit_terms, side_rows_hold

COLUMNS = ("cadre_id", "post_id")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel on a Chinese Windows saves CSV as GBK
MAX_LISTED = 10  # bad cells listed per kind of problem
TOP_MOVES = 10
EXIT_RULES_BROKEN = 5  # as ``check`` exits when a rule is broken (docs/cli.md)


@dataclass
class HandAudit:
    """The audit of a given allocation against the engine's optimum."""

    scenario: str
    source: str  # the file (or "allocation" for a DataFrame)
    table: pd.DataFrame  # the given allocation, scored as allocation.csv is
    violations: dict[str, list[str]]  # per active rule, how the allocation breaks it
    factors: pd.DataFrame  # points per factor: given, optimum, difference
    fairness: Audit
    moves: pd.DataFrame  # the single moves and exchanges that gain the most points
    optimum: Allocation | None  # the engine's allocation; None when it found none
    optimum_note: str = ""  # why there is no optimum
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    @property
    def objective(self) -> float:
        return float(self.table["score_total"].sum())

    def summary(self) -> dict[str, Any]:
        optimum = self.optimum
        gap = optimum.objective - self.objective if optimum is not None else None
        return {
            "scenario": self.scenario,
            "allocation": self.source,
            "rules_broken": {name: len(found) for name, found in self.violations.items() if found},
            **self.counts,
            "objective": self.objective,
            "optimum": optimum.objective if optimum is not None else None,
            "optimum_status": optimum.status if optimum is not None else None,
            "optimum_bound": optimum.bound if optimum is not None else None,
            "gap_points": gap,
            "gap_percent": 100 * gap / max(abs(optimum.objective), 1e-9) if optimum is not None else None,
            "gap_to_bound_points": optimum.bound - self.objective if optimum is not None else None,
            "optimum_note": self.optimum_note or None,
            "fairness": self.fairness.summary(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "violations": self.violations,
            "factors": self.factors.to_dict("records"),
            "moves": self.moves.to_dict("records"),
            "fairness": self.fairness.to_dict(),
        }

    def write(self, out_dir: str | Path) -> Path:
        """audit.json (everything), audit.csv (per university), factors.csv, moves.csv and allocation.csv
        (the given allocation, scored), as one run of ``out_dir`` (``io.OutputFolder``: replaced whole)."""
        with io.OutputFolder(out_dir) as folder:
            io.write_json(self.to_dict(), folder.path("audit.json"))
            io.write_csv(self.fairness.universities, folder.path("audit.csv"))
            io.write_csv(self.factors, folder.path("factors.csv"))
            io.write_csv(self.moves, folder.path("moves.csv"))
            io.write_csv(self.table, folder.path("allocation.csv"))
        return Path(out_dir)

    def __str__(self) -> str:
        summary = self.summary()
        broken = {name: found for name, found in self.violations.items() if found}
        lines = [_("audit of {source} ({scenario})").format(source=self.source, scenario=self.scenario)]
        if self.counts.get("cadres_not_listed"):
            lines.append("  " + _("{count} cadres are not in the file: counted as unplaced").format(count=self.counts["cadres_not_listed"]))
        lines.append(_("hard rules broken: {count}").format(count=sum(map(len, broken.values()))) if broken else _("hard rules: all kept"))
        for name, found in broken.items():
            lines += [f"  - [{name}] {text}" for text in found[:MAX_LISTED]]
            if len(found) > MAX_LISTED:
                lines.append("  " + _("... and {count} more (audit.json)").format(count=len(found) - MAX_LISTED))
        if self.optimum is None:
            lines.append(
                _("points {points}; the engine found no optimum: {why}").format(points=f"{self.objective:,.3f}", why=self.optimum_note)
            )
        else:
            lines.append(
                _("points {points} against the optimum {optimum} ({status}, bound {bound}): {gap} points, {percent} below it").format(
                    points=f"{self.objective:,.3f}",
                    optimum=f"{summary['optimum']:,.3f}",
                    status=summary["optimum_status"],
                    bound=f"{summary['optimum_bound']:,.3f}",
                    gap=f"{summary['gap_points']:,.3f}",
                    percent=f"{summary['gap_percent']:.2f} %",
                )
            )
            shown = self.factors.assign(**{col: self.factors[col].map("{:,.3f}".format) for col in ("given", "optimum", "difference")})
            shown["factor"] = shown["factor"].map(word)
            headers = {"factor": _("factor"), "given": _("given"), "optimum": _("optimum"), "difference": _("difference")}
            lines += ["  " + line for line in shown.rename(columns=headers).to_string(index=False).splitlines()]
        lines.append(str(self.fairness))
        lines.append(_("moves that gain the most points: {count}").format(count=len(self.moves)))
        lines += [f"  - {text}" for text in self.moves["sentence"]]
        return "\n".join(lines)


def audit_allocation(
    scenario: Scenario | str | Path,
    allocation: str | Path | pd.DataFrame,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> HandAudit:
    """Audit ``allocation`` (a file or a DataFrame with cadre_id and post_id) under the scenario's rules and weights."""
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    inst, policy = scenario.instance, scenario.policy
    frame, source, rows = _read(allocation)
    post_of_cadre, counts = _posts(scenario, frame, source, rows)
    terms = build_terms(allowed_pairs(inst, policy), policy)
    allocated = Allocated(inst, policy, post_of_cadre, lambda: terms)
    table = allocation_table(inst, policy, post_of_cadre)
    optimum, note = None, ""
    try:
        optimum = solve(scenario, time_limit=time_limit, seed=seed, workers=workers, audit=False)
    except (InfeasibleError, NoSolutionError) as error:
        note = str(error)
    given = factor_totals(table)
    best = optimum.factor_totals if optimum is not None else dict.fromkeys(given, np.nan)
    factors = pd.DataFrame({"factor": list(given), "given": list(given.values()), "optimum": [best[name] for name in given]})
    factors["difference"] = factors["given"] - factors["optimum"]
    return HandAudit(
        scenario.name,
        source,
        table,
        rule_violations(allocated),
        factors,
        audit_terms(terms, policy, post_of_cadre),
        best_moves(terms, policy, post_of_cadre, table["score_total"].to_numpy(float)),
        optimum,
        note,
        counts,
    )


def audit_allocation_command(
    scenario_path: str | Path,
    allocation_path: str | Path,
    out: str | Path | None = None,
    *,
    lang: str | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> int:
    """``audit SCENARIO --allocation FILE [--out DIR]``: print the audit, write it to ``out``; 5 when a rule is broken, else 0.

    Input mistakes raise ``InputError`` (exit 2), as every command's do.
    """
    with language(lang):
        report = audit_allocation(scenario_path, allocation_path, time_limit=time_limit, seed=seed, workers=workers)
        print(report)
        if out is not None:
            report.write(out)
            print(_("written to {folder}/ (audit.json, audit.csv, factors.csv, moves.csv, allocation.csv, run.json)").format(folder=out))
    return 0 if report.ok else EXIT_RULES_BROKEN


# ---- reading the table ------------------------------------------------------------------------


def _read(allocation: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str, np.ndarray]:
    """The table as text cells, the name problems use, and each row's number as the user sees it."""
    if isinstance(allocation, pd.DataFrame):
        frame = allocation.astype(object).where(allocation.notna(), "").astype(str)
        return _stripped(frame), "allocation", np.asarray(allocation.index)
    path = Path(allocation)
    shown = path.name
    if not path.is_file():
        raise InputError([Problem(shown, "", _("an existing CSV or XLSX file"), _("no such file"))])
    data = path.read_bytes()
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            frame = pd.read_excel(BytesIO(data), dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(StringIO(_decoded(data, shown)), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - any unreadable table is an input problem
        raise InputError(
            [Problem(shown, "", _("a CSV or XLSX table with columns cadre_id and post_id"), str(error).strip() or type(error).__name__)]
        ) from None
    frame = _stripped(frame.astype(str))
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.ones(len(frame), bool)
    # the header is row 1, as a spreadsheet counts
    return frame.loc[~blank].reset_index(drop=True), shown, np.flatnonzero(~blank) + 2


def _decoded(data: bytes, shown: str) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError([Problem(shown, "", _("text in UTF-8 or GBK"), _("bytes that are neither"))])


def _stripped(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def _posts(scenario: Scenario, frame: pd.DataFrame, shown: str, rows: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Post index per cadre (-1 unplaced); an InputError lists every bad cell."""
    inst = scenario.instance
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or _("none")
        raise InputError(
            [
                Problem(
                    shown,
                    _("column {column}").format(column=c),
                    _("a column named {column!r}").format(column=c),
                    _("columns {found}").format(found=found),
                )
                for c in missing
            ]
        )
    cadre_ids, post_ids = frame["cadre_id"].to_numpy(str), frame["post_id"].to_numpy(str)
    cadre, post = inst.cadre_index(cadre_ids), inst.post_index(post_ids)
    problems: list[Problem] = []
    where = lambda index, column: _("row {row}, column {column}").format(row=rows[index], column=column)  # noqa: E731
    first = pd.Series(np.arange(len(frame))).groupby(cadre_ids).transform("min").to_numpy()
    checks = (
        ("cadre_id", cadre < 0, _("a cadre_id of the scenario's cadres table"), lambda i: repr(str(cadre_ids[i]))),
        (
            "post_id",
            (post < 0) & (post_ids != ""),
            _("a post_id of the scenario's posts table, or blank for unplaced"),
            lambda i: repr(str(post_ids[i])),
        ),
        (
            "cadre_id",
            (cadre >= 0) & (first != np.arange(len(frame))),
            _("each cadre once"),
            lambda i: _("{cadre!r} again (first at row {row})").format(cadre=str(cadre_ids[i]), row=rows[first[i]]),
        ),
    )
    for column, bad, expected, got in checks:
        bad_rows = np.flatnonzero(bad)
        problems += [Problem(shown, where(i, column), expected, got(i)) for i in bad_rows[:MAX_LISTED]]
        if len(bad_rows) > MAX_LISTED:
            problems.append(
                Problem(
                    shown,
                    _("column {column}").format(column=column),
                    expected,
                    _("{count} more rows like the above (not listed)").format(count=len(bad_rows) - MAX_LISTED),
                )
            )
    if problems:
        raise InputError(problems)
    post_of_cadre = np.full(inst.n_cadres, -1, np.int64)
    post_of_cadre[cadre] = post
    return post_of_cadre, {"cadres_listed": len(frame), "cadres_not_listed": inst.n_cadres - len(frame)}


# ---- the moves that gain the most --------------------------------------------------------------


def best_moves(terms: Terms, policy, post_of_cadre: np.ndarray, points: np.ndarray, top: int = TOP_MOVES) -> pd.DataFrame:
    """The ``top`` single moves (a cadre to a post with a free seat) and exchanges of two cadres' posts that gain
    the most points, keeping the pair rules, the capacities, ``fill_every_post``, every side row and relay as a
    rule (vectorised).

    ``points`` are each cadre's points now (``score_total``; 0 when unplaced).
    """
    pairs = terms.pairs
    inst = pairs.instance
    state = WishState(terms, post_of_cadre)
    own = state.own
    load = np.bincount(post_of_cadre[post_of_cadre >= 0], minlength=inst.n_posts)
    chosen = np.zeros(len(pairs))
    chosen[own[own >= 0]] = 1
    lex = terms.lexicographic_indicator()
    lex = np.zeros(len(pairs), np.int64) if lex is None else lex
    lex_of = lambda pair: np.where(pair >= 0, lex[np.maximum(pair, 0)], 0)  # noqa: E731

    # a cadre to a post with a free seat
    move = np.flatnonzero((load[pairs.post] < inst.post_capacity[pairs.post]) & (pairs.post != post_of_cadre[pairs.cadre]))
    if policy.rules.fill_every_post:  # a placed cadre who moves leaves a seat empty
        move = move[post_of_cadre[pairs.cadre[move]] < 0]
    left = own[pairs.cadre[move]]
    move_gain = terms.total[move] - points[pairs.cadre[move]]
    keep = (move_gain > 1e-9) & (lex[move] >= lex_of(left))
    move, left, move_gain = move[keep], left[keep], move_gain[keep]
    keep = side_rows_hold(terms, chosen, [move], [left])
    move, left, move_gain = move[keep], left[keep], move_gain[keep]

    # two placed cadres exchange their posts
    placed = np.flatnonzero(post_of_cadre >= 0)
    by_post = np.argsort(post_of_cadre[placed], kind="stable")
    holders, held = placed[by_post], post_of_cadre[placed][by_post]
    wanted = np.flatnonzero((post_of_cadre[pairs.cadre] >= 0) & (pairs.post != post_of_cadre[pairs.cadre]))
    which, c2 = expand_matches(held, holders, pairs.post[wanted])
    a12 = wanted[which]
    c1 = pairs.cadre[a12].astype(np.int64)
    a21 = state.lookup(c2, post_of_cadre[c1])
    ok = (c1 < c2) & (a21 >= 0)
    c1, c2, a12, a21 = c1[ok], c2[ok], a12[ok], a21[ok]
    a11, a22 = own[c1], own[c2]
    swap_gain = terms.total[a12] + terms.total[a21] - points[c1] - points[c2]
    keep = (swap_gain > 1e-9) & (lex[a12] + lex[a21] >= lex_of(a11) + lex_of(a22))
    c1, c2, a12, a21, a11, a22, swap_gain = (x[keep] for x in (c1, c2, a12, a21, a11, a22, swap_gain))
    keep = side_rows_hold(terms, chosen, [a12, a21], [a11, a22])
    c1, c2, a12, a21, swap_gain = (x[keep] for x in (c1, c2, a12, a21, swap_gain))

    name = lambda post: np.where(post >= 0, inst.post_id[np.maximum(post, 0)], "")  # noqa: E731
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": "move",
                    "cadre_a": inst.cadre_id[pairs.cadre[move]],
                    "from_a": name(post_of_cadre[pairs.cadre[move]]),
                    "to_a": inst.post_id[pairs.post[move]],
                    "cadre_b": "",
                    "from_b": "",
                    "to_b": "",
                    "gain": move_gain,
                }
            ),
            pd.DataFrame(
                {
                    "kind": "exchange",
                    "cadre_a": inst.cadre_id[c1],
                    "from_a": inst.post_id[post_of_cadre[c1]],
                    "to_a": inst.post_id[pairs.post[a12]],
                    "cadre_b": inst.cadre_id[c2],
                    "from_b": inst.post_id[post_of_cadre[c2]],
                    "to_b": inst.post_id[pairs.post[a21]],
                    "gain": swap_gain,
                }
            ),
        ],
        ignore_index=True,
    )
    table = table.sort_values(["gain", "kind", "cadre_a", "to_a"], ascending=[False, True, True, True], kind="stable").head(top)
    table = table.reset_index(drop=True)
    table["sentence"] = [_move_sentence(r) for r in table.itertuples()]
    return table


def _move_sentence(r) -> str:
    gain = f"{r.gain:,.3f}"
    if r.kind == "move":
        start = r.from_a or _("unplaced")
        return _("move {cadre} from {start} to {post}: +{gain} points").format(cadre=r.cadre_a, start=start, post=r.to_a, gain=gain)
    return _("exchange {a} ({a_post}) and {b} ({b_post}): +{gain} points").format(
        a=r.cadre_a, a_post=r.from_a, b=r.cadre_b, b_post=r.from_b, gain=gain
    )


__all__ = ["HandAudit", "audit_allocation", "audit_allocation_command", "best_moves"]
