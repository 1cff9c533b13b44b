"""Re-planning a published allocation with the least disruption (docs/replan.md).

A cadre withdraws, a post closes, a late cadre arrives: ``replan`` starts from the
published solve folder and its ``inputs/``, applies the changes, and solves again
through ``solve_model`` with every hard rule of the published policy but one:
``fill_every_post`` is relaxed, so that a post left empty may stay vacant instead
of pulling a cadre away from another post.

By default it is lexicographic. First the number of cadres placed before who keep
their post is maximised (the "stay" indicator: 1 on each such cadre's old pair);
the solver's bound on that count is the certificate that no plan with fewer moves
exists. Then the objective is maximised among the plans that keep that many.
With ``move_cost_points`` each move is priced instead: the solve maximises the
objective minus that many points per move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .. import io
from ..allocation import Allocation, _summary, effective_policy
from ..errors import InputError, Problem
from ..evaluate import allocation_table, posts_of
from ..factors import Lexicographic, SideConstraints
from ..i18n import N_, _
from ..io.models import _validate_model
from ..rules import allowed_pairs
from ..schema import Policy
from ..solve import Deadline, Settings, Solution, Terms, build_terms, solve_model, with_rows
from ..solve.constrained import RELAY_KEPT
from .replan_inputs import Changes, Published, changed_tables, read_changes, read_published

KEPT = "cadres kept in place"
MOVES_FILE = "moves.csv"
MOVE_COLUMNS = ["cadre_id", "old_post_id", "new_post_id", "reason"]
# the reasons in moves.csv (machine text there; translated where a person reads them)
WITHDRAWN, POST_CLOSED, MAKE_ROOM, FOR_OBJECTIVE = N_("withdrawn"), N_("post closed"), N_("moved to make room"), N_("moved for the objective")
LEFT_UNPLACED, NEWLY_ADDED, NEWLY_PLACED = N_("left unplaced"), N_("newly added"), N_("newly placed")


class ReplanOptions(BaseModel):
    """How a re-plan weighs disruption against the objective."""

    model_config = ConfigDict(extra="forbid")

    move_cost_points: float | None = Field(
        None,
        gt=0,
        description="objective points each move of a cadre placed before costs; unset: fewest moves first, then the objective",
    )
    keep_fill_every_post: bool = Field(
        False, description="keep the policy's fill_every_post rule (by default relaxed, so that a vacated post may stay vacant)"
    )


class _OptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replan: ReplanOptions = Field(default_factory=ReplanOptions)


def replan_options(options: ReplanOptions | dict | None = None, shown: str = "replan options") -> ReplanOptions:
    """Validated options; a mistake is an InputError naming the key (``replan.move_cost_points``)."""
    if isinstance(options, ReplanOptions):
        return options
    problems: list[Problem] = []
    parsed = _validate_model(_OptionsFile, {"replan": options or {}}, shown, problems)
    if problems:
        raise InputError(problems)
    return parsed.replan


@dataclass
class Replan:
    """A re-planned allocation: the new allocation, who moves and why, and the certificate."""

    allocation: Allocation
    moves: pd.DataFrame  # one row per cadre whose post changed: cadre_id, old_post_id, new_post_id, reason
    certificate: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        return self.allocation.summary

    def write(self, out_dir: str | Path) -> Path:
        """The new folder, as a solve writes one (``check`` passes on it), with moves.csv."""
        return self.allocation.write(out_dir, extra_files={MOVES_FILE: lambda path: io.write_csv(self.moves, path)})

    def __str__(self) -> str:
        counts = self.moves["reason"].value_counts()
        lines = [self.certificate["statement"]]
        lines += [_("  {reason}: {count}").format(reason=_(reason), count=count) for reason, count in counts.items()]
        lines.append(
            _("objective {objective:,.3f} ({status}, gap {gap:.4%})").format(
                objective=self.allocation.objective, status=self.allocation.status, gap=self.allocation.gap
            )
        )
        return "\n".join(lines)


def replan(
    out_dir: str | Path,
    withdraw=(),
    close_posts=(),
    add_cadres: str | Path | pd.DataFrame | None = None,
    add_preferences: str | Path | pd.DataFrame | None = None,
    *,
    options: ReplanOptions | dict | None = None,
    out: str | Path | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    log=None,
    started: float | None = None,
) -> Replan:
    """Re-plan the allocation published in ``out_dir`` after the changes; write it to ``out`` when given.

    ``withdraw`` and ``close_posts`` are ids of the published allocation; ``add_cadres``
    a CSV/XLSX file (or data frame) with the cadres table's columns, ``add_preferences``
    their wishes. ``options`` are ``ReplanOptions`` (or a dict of them). The solver
    options override the published policy's, as ``solve``'s do.
    """
    started = time.perf_counter() if started is None else started
    options = replan_options(options)
    if out is not None:
        io.check_replaceable(out)  # before the solve, not after it
    published = read_published(out_dir)
    changes = read_changes(published, withdraw, close_posts, add_cadres, add_preferences)
    tables, dropped_pins = changed_tables(published, changes)
    policy, relaxed = _replan_policy(published.policy, options)
    scenario = io.scenario_from_tables(tables, policy, name=f"{published.folder.name}-replan")
    policy = effective_policy(scenario, policy, time_limit, workers, seed)
    scenario = scenario.with_policy(policy)
    settings = Settings.of(policy.solver)
    deadline = Deadline(settings.time_limit, settings.work_limit, started)

    inst = scenario.instance
    old_ids = pd.Series(inst.cadre_id).map(published.post_of).fillna("").to_numpy(str)
    terms = build_terms(allowed_pairs(inst, policy), policy)
    old_post = inst.post_index(old_ids)  # -1 when unplaced before, added, or the post closed
    # a stay is a pair that keeps a cadre on the post it held
    stay = (old_post[terms.pairs.cadre] == terms.pairs.post).astype(np.int64)
    placed_before = int((old_ids != "").sum())
    if options.move_cost_points is None:
        solution, certificate = _fewest_moves(terms, stay, placed_before, policy, settings, deadline, log)
    else:
        solution, certificate = _priced_moves(terms, stay, placed_before, options.move_cost_points, policy, settings, deadline, log)

    post_of_cadre = posts_of(solution.terms.pairs, solution.chosen)
    moves = moves_table(
        inst.cadre_id, old_ids, np.where(post_of_cadre >= 0, inst.post_id[np.maximum(post_of_cadre, 0)], ""), published, changes, options
    )
    table = allocation_table(inst, policy, post_of_cadre)
    summary = _summary(scenario, policy, table, solution.terms, solution, settings)
    summary["wall_seconds"] = time.perf_counter() - started
    summary["interrupted"] = solution.interrupted
    for name, cost in solution.lazy_rules.items():
        summary["swap_rule" if name == "forbid_improving_swaps" else name] = cost
    summary["replan"] = {
        "source": published.folder.name,
        "source_run_id": published.run_id,
        "changes": changes.record(),
        "pins_dropped": dropped_pins.to_dict("records"),
        "relaxed_rules": relaxed,
        "options": options.model_dump(),
        "moves": int(moves["reason"].isin([POST_CLOSED, MAKE_ROOM, FOR_OBJECTIVE, LEFT_UNPLACED]).sum()),
        "reasons": {str(k): int(v) for k, v in moves["reason"].value_counts().items()},
        "certificate": certificate,
    }
    summary["manifest"]["replan"] = {key: summary["replan"][key] for key in ("source", "source_run_id", "changes", "options")}
    allocation = Allocation(scenario, policy, table, summary, post_of_cadre, solution.terms)
    summary["audit"] = allocation.audit.summary()
    result = Replan(allocation, moves, certificate)
    if out is not None:
        result.write(out)
    return result


def _replan_policy(policy: Policy, options: ReplanOptions) -> tuple[Policy, list[str]]:
    """The published policy, with fill_every_post relaxed unless the options keep it."""
    if policy.rules.fill_every_post and not options.keep_fill_every_post:
        return policy.override({"rules": {"fill_every_post": False}}), ["fill_every_post"]
    return policy, []


def _fewest_moves(terms: Terms, stay, placed_before: int, policy, settings, deadline, log) -> tuple[Solution, dict]:
    """Most cadres kept in place (certified), then the best objective among the plans that keep that many."""
    first = solve_model(replace(terms, coef=stay, lexicographic=[]), policy, settings, log=log, deadline=deadline)
    if first.interrupted:
        raise KeyboardInterrupt
    kept = int(first.objective)
    # the rows the lazy rules added hold for every allocation: keep them
    base = replace(first.terms, coef=terms.coef, lexicographic=terms.lexicographic)
    if base.has_side_constraints or base.lexicographic or settings.method != "auto":
        # CP-SAT anyway: keeping that many is one more row, below the relay count when relay is a rule
        nonzero = np.flatnonzero(stay)
        row = SideConstraints([KEPT], np.array([-kept]), np.zeros(len(nonzero), np.int64), nonzero, -stay[nonzero], "cadres")
        second = solve_model(with_rows(base, KEPT, row), policy, settings, log=log, deadline=deadline)
    else:
        # the flow's lexicographic weight: keeping one more outweighs any change of the objective
        second = solve_model(replace(base, lexicographic=[Lexicographic(KEPT, stay)]), policy, settings, log=log, deadline=deadline)
    final_kept = int(stay[second.chosen > 0].sum())
    proven = first.status == "OPTIMAL" and final_kept >= first.bound
    moves = placed_before - final_kept
    lower = max(0, placed_before - int(first.bound))
    if proven and moves == 0:
        statement = _("No cadre placed before has to move: all {placed} keep their posts.").format(placed=placed_before)
    elif proven:
        statement = _(
            "No allocation that meets every hard rule keeps more than {kept} of the {placed} cadres placed before "
            "on their posts ({proof}), so at least {moves} must move; this plan moves {moves}."
        ).format(kept=final_kept, placed=placed_before, proof=first.proof, moves=moves)
    else:
        statement = _(
            "This plan moves {moves} of the {placed} cadres placed before; no plan moves fewer than {lower}, "
            "but the fewest was not proven (stopped by the {stopped})."
        ).format(moves=moves, placed=placed_before, lower=lower, stopped=first.stopped_by or "time limit")
    certificate = {
        "mode": "fewest moves",
        "cadres_placed_before": placed_before,
        "cadres_kept_in_place": final_kept,
        "min_moves": moves,
        "moves_lower_bound": lower,
        "proven": proven,
        "status": first.status,
        "proof": first.proof,
        "bound": int(first.bound),
        "stopped_by": first.stopped_by or None,
        "statement": statement,
    }
    return _as_published(second, terms), certificate


def _priced_moves(terms: Terms, stay, placed_before: int, points: float, policy, settings, deadline, log) -> tuple[Solution, dict]:
    """The best objective minus ``points`` per move: a stay earns the price back on its pair."""
    price = int(np.rint(points * terms.scale))
    solution = solve_model(replace(terms, coef=terms.coef + price * stay), policy, settings, log=log, deadline=deadline)
    kept = int(stay[solution.chosen > 0].sum())
    moves = placed_before - kept
    objective = int(terms.coef[solution.chosen > 0].sum())
    priced_bound = int(solution.bound) - price * placed_before
    statement = _(
        "This plan moves {moves} of the {placed} cadres placed before, at {points:g} points a move; "
        "the objective less the moves' cost is {priced:,.3f} ({status}, bound {bound:,.3f})."
    ).format(
        moves=moves,
        placed=placed_before,
        points=points,
        priced=(objective - price * moves) / terms.scale,
        status=solution.status,
        bound=priced_bound / terms.scale,
    )
    certificate = {
        "mode": "priced moves",
        "move_cost_points": points,
        "cadres_placed_before": placed_before,
        "cadres_kept_in_place": kept,
        "moves": moves,
        "priced_objective": (objective - price * moves) / terms.scale,
        "priced_bound": priced_bound / terms.scale,
        "proven": solution.status == "OPTIMAL",
        "status": solution.status,
        "proof": solution.proof,
        "stopped_by": solution.stopped_by or None,
        "statement": statement,
    }
    # no plan with at most this many moves scores more than the priced bound plus their price
    solution = replace(solution, objective=objective, bound=priced_bound + price * moves)
    return _as_published(solution, terms), certificate


def _as_published(solution: Solution, terms: Terms) -> Solution:
    """The solution over the re-plan's own terms (objective coefficients, no kept-in-place row), the relay count recounted."""
    solved = solution.terms
    side = {name: rows for name, rows in solved.side.items() if name != KEPT}
    clean = replace(solved, coef=terms.coef, lexicographic=terms.lexicographic, side=side)
    relay = terms.lexicographic_indicator()
    kept = {RELAY_KEPT: int(relay[solution.chosen > 0].sum())} if relay is not None else {}
    return replace(solution, terms=clean, lexicographic=kept)


def moves_table(cadre_ids, old_ids, new_ids, published: Published, changes: Changes, options: ReplanOptions) -> pd.DataFrame:
    """Who moves and why: the withdrawn, every cadre whose post changed, and the added cadres."""
    frame = pd.DataFrame({"cadre_id": np.asarray(cadre_ids, str), "old_post_id": old_ids, "new_post_id": new_ids})
    added = frame["cadre_id"].isin(changes.added_cadres["cadre_id"])
    closed = frame["old_post_id"].isin(changes.close_posts)
    moved_reason = MAKE_ROOM if options.move_cost_points is None else FOR_OBJECTIVE
    reason = np.select(
        [added, frame["old_post_id"] == "", closed, frame["new_post_id"] == ""],
        [NEWLY_ADDED, NEWLY_PLACED, POST_CLOSED, LEFT_UNPLACED],
        moved_reason,
    )
    frame["reason"] = reason
    changed = added | (frame["old_post_id"] != frame["new_post_id"])
    withdrawn = pd.DataFrame(
        {
            "cadre_id": changes.withdraw,
            "old_post_id": [published.post_of.get(cadre, "") for cadre in changes.withdraw],
            "new_post_id": "",
            "reason": WITHDRAWN,
        },
        columns=MOVE_COLUMNS,
    )
    return pd.concat([withdrawn, frame.loc[changed, MOVE_COLUMNS]], ignore_index=True)
