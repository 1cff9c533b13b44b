"""The CP-SAT layer: writes the model proto straight from index arrays.

Building through the high-level API costs a Python call per term; here every
repeated field is filled with one ``extend`` from a numpy-made list. This is
the only module that touches CP-SAT's proto, since that layer can change
between OR-Tools releases; tests/test_cpsat.py checks it against the
high-level API on a small model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model, cp_model_helper

from ..errors import SolverError
from ..factors import SideConstraints
from ..instance import PairTable
from ..rules import must_place

STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


@dataclass
class CpResult:
    status: str
    objective: float
    bound: float
    chosen: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C stopped the search; ``chosen`` is the best allocation found by then
    work: float = 0.0  # deterministic time the search spent
    stopped_by: str = ""  # "", "work limit", "wall clock" or "interrupted": what ended an unfinished search


class AssignmentModel:
    """x[a] in {0, 1} per allowed pair; one post per cadre; capacity per post; side rows."""

    def __init__(
        self, pairs: PairTable, rules, rows: list[SideConstraints] = (), capacity: np.ndarray | None = None, must: np.ndarray | None = None
    ):
        """``capacity`` and ``must`` (per post, per cadre) default to the instance's; a sub-model of a
        neighbourhood (``neighbourhood.py``) gives the seats and cadres the fixed cadres leave."""
        inst = pairs.instance
        capacity = inst.post_capacity if capacity is None else capacity
        self.n_pairs = len(pairs)
        self.model = cp_model.CpModel()
        proto = self.model.proto
        template = cp_model_helper.IntegerVariableProto()
        template.domain.extend([0, 1])
        proto.variables.extend([template] * self.n_pairs)

        bounds = np.searchsorted(pairs.cadre, np.arange(inst.n_cadres + 1))
        must = (must_place(inst, rules) if must is None else must).tolist()
        for cadre, (start, stop) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
            if stop == start and not must[cadre]:
                continue
            literals = proto.constraints.add()
            target = literals.exactly_one if must[cadre] else literals.at_most_one
            target.literals.extend(range(start, stop))

        by_post = np.argsort(pairs.post, kind="stable")
        post_bounds = np.searchsorted(pairs.post[by_post], np.arange(inst.n_posts + 1))
        for post, (start, stop) in enumerate(zip(post_bounds[:-1].tolist(), post_bounds[1:].tolist())):
            cap = int(capacity[post])
            if stop - start <= cap and not rules.fill_every_post:
                continue
            members = by_post[start:stop]
            self._linear(members, np.ones(len(members), np.int64), cap if rules.fill_every_post else 0, cap)

        for side in rows:
            self.add_rows(side)

    def add_rows(self, rows: SideConstraints, elastic: bool = False) -> list[int]:
        """Add ``sum(coef * x) <= rhs`` per row; with ``elastic``, ``<= rhs + slack`` and return the slack variables."""
        order = np.argsort(rows.row, kind="stable")
        row_bounds = np.searchsorted(rows.row[order], np.arange(len(rows.labels) + 1))
        slacks = []
        for row, (start, stop) in enumerate(zip(row_bounds[:-1].tolist(), row_bounds[1:].tolist())):
            members = order[start:stop]
            variables, coefs = rows.pair[members], rows.coef[members]
            if elastic:
                slack = self._new_variable(0, int(np.abs(coefs).sum()) + abs(int(rows.rhs[row])))
                slacks.append(slack)
                variables, coefs = np.append(variables, slack), np.append(coefs, -1)
            self._linear(variables, coefs, None, int(rows.rhs[row]))
        return slacks

    def _new_variable(self, lower: int, upper: int) -> int:
        variable = self.model.proto.variables.add()
        variable.domain.extend([int(lower), int(upper)])
        return len(self.model.proto.variables) - 1

    def _linear(self, variables: np.ndarray, coefs: np.ndarray, lower: int | None, upper: int | None) -> None:
        constraint = self.model.proto.constraints.add()
        constraint.linear.vars.extend(np.asarray(variables, np.int64).tolist())
        constraint.linear.coeffs.extend(np.asarray(coefs, np.int64).tolist())
        lo = int(lower) if lower is not None else cp_model.INT_MIN
        hi = int(upper) if upper is not None else cp_model.INT_MAX
        constraint.linear.domain.extend([lo, hi])

    def bound_objective(self, coef: np.ndarray, upper: int) -> None:
        nonzero = np.flatnonzero(coef)
        self._linear(nonzero, coef[nonzero], None, upper)

    def solve(
        self,
        coef: np.ndarray,
        *,
        wall_limit: float,
        work_limit: float,
        workers: int,
        seed: int,
        hint: np.ndarray | None = None,
        log: Callable[[str], None] | None = None,
        progress_scale: float | None = None,
    ) -> CpResult:
        """Maximise ``coef . x`` within ``work_limit`` deterministic time (reproducible) and ``wall_limit`` seconds (a cap).

        A model CP-SAT calls invalid is a fault of this layer, never of the inputs: ``SolverError``.
        """
        proto = self.model.proto
        proto.clear_objective()
        nonzero = np.flatnonzero(coef)
        proto.objective.vars.extend(nonzero.tolist())
        proto.objective.coeffs.extend((-coef[nonzero]).astype(np.int64).tolist())
        proto.objective.scaling_factor = -1.0  # CP-SAT minimises; this reports the maximum
        proto.clear_solution_hint()
        if hint is not None:
            proto.solution_hint.vars.extend(range(self.n_pairs))
            proto.solution_hint.values.extend(np.asarray(hint, np.int64).tolist())

        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = float(wall_limit)
        params.max_deterministic_time = float(work_limit)
        params.num_workers = int(workers)
        params.random_seed = int(seed)
        # The one-post-per-cadre rows make the LP relaxation strong; give it to the search.
        params.linearization_level = 2
        params.cp_model_probing_level = 0
        if workers >= 2:
            params.subsolvers.extend(["max_lp", "core", "quick_restart", "lb_tree_search"][: max(workers, 2)])
            # several workers give the same answer run after run only when they interleave in fixed batches
            params.interleave_search = True
        # Ctrl-C is handled here (it stops the search and keeps the best allocation), not by CP-SAT.
        params.catch_sigint_signal = False
        callback = _Progress(log, progress_scale) if log else None
        status, interrupted = _solve_stoppable(solver, self.model, callback)
        name = STATUS.get(status, str(status))
        if name == "MODEL_INVALID":
            raise SolverError(f"CP-SAT rejected the model it was given: {solver.response_proto.solution_info or self.model.validate()}")
        response = solver.response_proto
        stopped_by = ""
        if name not in ("OPTIMAL", "INFEASIBLE"):
            stopped_by = "interrupted" if interrupted else "work limit" if response.deterministic_time >= work_limit else "wall clock"
        if name in ("OPTIMAL", "FEASIBLE"):
            chosen = np.asarray(solver.response_proto.solution, dtype=np.int64)[: self.n_pairs]
        else:
            chosen = np.zeros(self.n_pairs, np.int64)
        return CpResult(
            name,
            solver.objective_value if name in ("OPTIMAL", "FEASIBLE") else float("nan"),
            solver.best_objective_bound,
            chosen,
            {
                "cp_sat_status": name,
                "cp_sat_wall_seconds": solver.wall_time,
                "cp_sat_work": response.deterministic_time,
                "cp_sat_branches": solver.num_branches,
                "cp_sat_conflicts": solver.num_conflicts,
            },
            interrupted,
            response.deterministic_time,
            stopped_by,
        )


def _solve_stoppable(solver: cp_model.CpSolver, model: cp_model.CpModel, callback) -> tuple[Any, bool]:
    """Run the search in a worker thread so that Ctrl-C, which Python delivers to the main
    thread, stops it cleanly with ``stop_search`` instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        return solver.solve(model, callback), False
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def search() -> None:
        try:
            outcome["status"] = solver.solve(model, callback)
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=search, name="cp-sat", daemon=True).start()
    interrupted = False
    # An Event, not Thread.join: a KeyboardInterrupt inside join can mark a running thread as finished.
    while not done.is_set():
        try:
            done.wait(0.05)
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            # repeated: a stop asked for before the search has started is not remembered
            solver.stop_search()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["status"], interrupted


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each improving allocation with its bound, for long solves.

    ``scale``: objective units per point (``objective_scale``), so that the lines speak in
    points; None when the objective is a count (relay postings kept).
    """

    def __init__(self, log: Callable[[str], None], scale: float | None):
        super().__init__()
        self._log, self._scale = log, scale

    def on_solution_callback(self) -> None:
        from ..i18n import _

        seconds = f"  {self.wall_time:7.2f} s  "
        if self._scale is None:
            words = _("found {value:,.0f}, at most {bound:,.0f}")
            self._log(seconds + words.format(value=self.objective_value, bound=self.best_objective_bound))
            return
        words = _("objective {objective:,.2f} points, bound {bound:,.2f}")
        self._log(seconds + words.format(objective=self.objective_value / self._scale, bound=self.best_objective_bound / self._scale))
