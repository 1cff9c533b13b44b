"""Pareto fronts between two factors by the epsilon-constraint method."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..evaluate import allocation_table, factor_params, factor_totals, metrics, posts_of, raw_totals
from ..factors import FACTORS, SideConstraints
from ..scenario import Scenario
from ..schema import Policy
from ..solve import Terms, solve_model
from ..solve.flow import INT64_SAFE
from .tables import _failure_row, _Progress
from .workbench import Report, SolveOptions, Workbench

# Scores that are not whole at 3 decimals (km) are rounded to 0.1 unit in a Pareto front.
FALLBACK_SCALE = 10
MAX_DECIMALS = 3


@dataclass
class _Objective:
    """A factor's total as an integer objective: each pair's score times ``scale``, rounded."""

    name: str
    scale: int
    values: np.ndarray  # per allowed pair
    low: int  # no allocation totals less
    span: int  # more than the difference between the totals of any two allocations

    @classmethod
    def of(cls, name: str, scores: np.ndarray, cadre: np.ndarray, n_cadres: int) -> _Objective:
        scale = integer_scale(scores)
        values = np.rint(scores * scale).astype(np.int64)
        # Each cadre adds one of its pairs' values, or 0 when unplaced.
        least, most = np.zeros(n_cadres, np.int64), np.zeros(n_cadres, np.int64)
        np.minimum.at(least, cadre, values)
        np.maximum.at(most, cadre, values)
        return cls(name, scale, values, int(least.sum()), int(most.sum() - least.sum()) + 1)


def integer_scale(scores: np.ndarray) -> int:
    """10**k for the fewest decimals k <= 3 at which every score is whole, else FALLBACK_SCALE."""
    for decimals in range(MAX_DECIMALS + 1):
        scaled = scores * 10**decimals
        if np.all(np.abs(scaled - np.rint(scaled)) < 1e-6):
            return 10**decimals
    return FALLBACK_SCALE


def _at_least(values: np.ndarray, least: int, label: str) -> SideConstraints:
    """The row ``sum(values * x) >= least``, written ``-sum(values * x) <= -least``."""
    nonzero = np.flatnonzero(values)
    return SideConstraints([label], np.array([-least]), np.zeros(len(nonzero), np.int64), nonzero, -values[nonzero], "")


def pareto(
    scenario: Scenario | str | Path,
    a: str = "preferences",
    b: str = "proximity",
    points: int = 8,
    *,
    options: SolveOptions | Mapping[str, Any] | None = None,
    progress: Report | None = None,
    workbench: Workbench | None = None,
    log: Report | None = None,
) -> pd.DataFrame:
    """The Pareto front between two factors' raw totals (higher is better for both), by epsilon-constraint.

    The hard rules, the policy's side constraints and relay as a rule hold at every
    point; the weights play no part. First the two ends: the most ``a`` (then the
    most ``b`` among those allocations), and the most ``b`` (then the most ``a``).
    Then, for epsilons evenly spaced between the ends' ``b``, the most ``a`` subject
    to ``b >= epsilon`` (then the most ``b``). Dominated and repeated points are
    dropped, so the front has at most ``points`` rows, sorted by ``b``. Each row
    says whether its point is proven, and the gap on the objective it maximised.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    _check_pareto(a, b, points)
    tick = _Progress(progress, points)
    try:
        solver = _FrontSolver(scenario, a, b, SolveOptions.of(options), workbench or Workbench(), log)
    except (InfeasibleError, NoSolutionError) as error:  # relay as a rule found no allocation at all
        failed = {"maximised": a, "epsilon": float("nan"), **_failure_row(error)}
        tick(f"most {a}", failed)
        front = pd.DataFrame([failed])
        front.attrs.update({"a": a, "b": b})
        return front
    first, second = solver.first, solver.second
    found = [solver.point(first, second, None), solver.point(second, first, None)]
    tick(f"most {a}", found[0], solver.describe(found[0]))
    tick(f"most {b}", found[1], solver.describe(found[1]))
    if all(row["status"] in ("OPTIMAL", "FEASIBLE") for row in found):
        low, high = second.scale * found[0][b], second.scale * found[1][b]
        last = found[0]
        for k in range(1, points - 1):
            epsilon = int(np.ceil(low + k * (high - low) / (points - 1) - 1e-9))
            # an optimum for a looser epsilon that already meets this one is optimal for it too
            if last["status"] == "OPTIMAL" and round(last[b] * second.scale) >= epsilon:
                tick.done += 1
                continue
            last = solver.point(first, second, epsilon)
            tick(f"{b} >= {epsilon / second.scale:,.1f}", last, solver.describe(last))
            found.append(last)
    front = _nondominated(pd.DataFrame(found), a, b)
    front.attrs.update({"a": a, "b": b, "scale": {a: first.scale, b: second.scale}})
    return front


def _check_pareto(a: str, b: str, points: int) -> None:
    problems = [
        Problem("pareto", "objectives", f"a factor name (one of {', '.join(sorted(FACTORS))})", repr(name))
        for name in (a, b)
        if name not in FACTORS
    ]
    if a == b:
        problems.append(Problem("pareto", "objectives", "two different factors", f"{a!r} twice"))
    if points < 2:
        problems.append(Problem("pareto", "points", "at least 2", str(points)))
    if problems:
        raise InputError(problems)


class _FrontSolver:
    """Lexicographic optima of two integer objectives under the scenario's rules, one front point each."""

    def __init__(self, scenario: Scenario, a: str, b: str, options: SolveOptions, workbench: Workbench, log: Report | None):
        self.scenario, self.policy, self.log = scenario, scenario.policy, log
        self.settings = options.settings(scenario, self.policy)
        cache = workbench.cache(scenario, self.policy)
        terms = workbench.terms(scenario, self.policy)
        params = factor_params(self.policy)
        cadre, n_cadres = cache.pairs.cadre, scenario.instance.n_cadres
        self.first = _Objective.of(a, cache.scores(a, params[a]), cadre, n_cadres)
        self.second = _Objective.of(b, cache.scores(b, params[b]), cadre, n_cadres)
        self.side = dict(terms.side)
        self.terms = replace(terms, lexicographic=[])
        if terms.lexicographic:
            self.side["lexicographic"] = self._keep_lexicographic(terms)

    def _solve(self, coef: np.ndarray, side: dict[str, SideConstraints]):
        terms = replace(self.terms, coef=coef, side=side)
        # through the one entry point, so that every hard rule holds here too (the swap-free rule's lazy rows)
        return solve_model(terms, self.policy, self.settings, log=self.log)

    def _keep_lexicographic(self, terms: Terms) -> SideConstraints:
        """The row 'keep as many relay postings as any allocation can' (relay as a rule), after finding that many."""
        indicator = terms.lexicographic_indicator()
        most = self._solve(indicator, self.side)
        if most.status != "OPTIMAL":
            raise NoSolutionError(f"could not prove the most relay postings that can be kept within {self.settings.time_limit:g} s")
        return _at_least(indicator, int(indicator[most.chosen > 0].sum()), "relay postings kept")

    def best(self, primary: _Objective, secondary: _Objective, epsilon: int | None) -> tuple[Any, int]:
        """The most ``primary``, then the most ``secondary``, with ``secondary >= epsilon``.

        One solve of ``span * primary + secondary``: one unit of ``primary`` outweighs
        any change of ``secondary``, so this is exactly that order. Returns the
        solution and an upper bound on ``primary`` derived from the solver's bound.
        """
        side = dict(self.side)
        floor = secondary.low
        if epsilon is not None:
            side["epsilon"] = _at_least(secondary.values, epsilon, f"{secondary.name} >= {epsilon / secondary.scale:g}")
            floor = max(epsilon, secondary.low)
        # each cadre adds one coefficient: the objective must stay well inside int64 (Python ints here)
        largest = int(np.abs(primary.values).max(initial=0)) * secondary.span + int(np.abs(secondary.values).max(initial=0))
        if largest * max(self.scenario.instance.n_cadres, 1) >= INT64_SAFE:
            raise ValueError(f"{primary.name} and {secondary.name} are too large to combine into one exact objective")
        solution = self._solve(primary.values * secondary.span + secondary.values, side)
        return solution, (solution.bound - floor) // secondary.span

    def point(self, primary: _Objective, secondary: _Objective, epsilon: int | None) -> dict[str, Any]:
        """One row of the front: what was maximised, the epsilon, status, both objectives, gap, evaluation."""
        head = {"maximised": primary.name, "epsilon": float("nan") if epsilon is None else epsilon / secondary.scale}
        started = time.perf_counter()
        try:
            solution, bound = self.best(primary, secondary, epsilon)
        except (InfeasibleError, NoSolutionError) as error:
            return {**head, **_failure_row(error), "wall_seconds": time.perf_counter() - started}
        picked = solution.chosen > 0
        reached = int(primary.values[picked].sum())
        post_of_cadre = posts_of(self.terms.pairs, solution.chosen)
        return {
            **head,
            "status": solution.status,
            "proof": solution.proof,
            "message": "",
            self.first.name: int(self.first.values[picked].sum()) / self.first.scale,
            self.second.name: int(self.second.values[picked].sum()) / self.second.scale,
            "bound": bound / primary.scale,
            "gap": (bound - reached) / max(1, abs(bound)),
            "wall_seconds": time.perf_counter() - started,
            **_evaluation(self.scenario, self.policy, post_of_cadre),
        }

    def describe(self, row: Mapping[str, Any]) -> str:
        names = (self.first.name, self.second.name)
        return "".join(f", {name} {row[name]:,.1f}" for name in names if name in row)


def _evaluation(scenario: Scenario, policy: Policy, post_of_cadre: np.ndarray) -> dict[str, Any]:
    """The policy's objective, metrics, points and raw totals of an allocation given as posts per cadre."""
    table = allocation_table(scenario.instance, policy, post_of_cadre)
    return {
        "objective": float(table["score_total"].sum()),
        **metrics(scenario.instance, policy, table),
        **{f"points_{name}": value for name, value in factor_totals(table).items()},
        **raw_totals(scenario, policy, post_of_cadre),
    }


def _nondominated(points: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Solved points that no other solved point matches or beats on both objectives, sorted by ``b``;
    points with no allocation are kept at the end, with their status."""
    solved = points[points["status"].isin(["OPTIMAL", "FEASIBLE"])]
    if solved.empty:
        return points.reset_index(drop=True)
    solved = solved.sort_values([a, b], ascending=False)
    best_b = solved[b].cummax().shift(fill_value=-np.inf)
    front = solved[solved[b] > best_b].sort_values(b)
    return pd.concat([front, points[~points.index.isin(solved.index)]], ignore_index=True)
