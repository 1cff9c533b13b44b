"""``solve``: scenario in, ``Allocation`` out; and what an allocation carries."""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import io
from .rules.candidates import allowed_pairs
from .reports.audit import solve_under_rules
from .evaluate import allocation_table, factor_totals, metrics, posts_of, relay_lost
from .solve.model import ScoreCache, Solution, Terms, build_terms
from .scenario import Scenario
from .schema import Policy


@dataclass
class Allocation:
    """A solved scenario: the per-cadre table, the summary and its manifest."""

    scenario: Scenario
    policy: Policy
    table: pd.DataFrame
    summary: dict[str, Any]
    post_of_cadre: np.ndarray = field(repr=False)
    terms: Terms | None = field(default=None, repr=False)  # the built model, reused by explain and audit

    @property
    def status(self) -> str:
        return self.summary["status"]

    @property
    def objective(self) -> float:
        return self.summary["objective"]

    @property
    def bound(self) -> float:
        return self.summary["best_bound"]

    @property
    def gap(self) -> float:
        return self.summary["gap"]

    @property
    def factor_totals(self) -> dict[str, float]:
        return self.summary["factor_totals"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.summary["metrics"]

    def check(self):
        """Re-verify every hard rule and recompute the objective without the solver."""
        from .reports.check import check_allocation

        return check_allocation(self.scenario.with_policy(self.policy), self.table, self.summary)

    @cached_property
    def audit(self):
        """Improving swaps, justified envy and wish statistics per university (see audit.py)."""
        from .reports.audit import audit_terms

        terms = self.terms if self.terms is not None else build_terms(allowed_pairs(self.scenario.instance, self.policy), self.policy)
        return audit_terms(terms, self.policy, self.post_of_cadre)

    def write(self, out_dir: str | Path) -> Path:
        """Write allocation.csv, summary.json and inputs/ (see docs/file-formats.md)."""
        out = Path(out_dir)
        io.write_csv(self.table, out / "allocation.csv")
        io.write_json(self.summary, out / "summary.json")
        for name, frame in self.scenario.tables.items():
            io.write_csv(frame, out / "inputs" / f"{name}.csv")
        io.write_yaml(self.policy.model_dump(mode="json"), out / "inputs" / "policy.yaml")
        self.audit.write(out)
        return out


def solve(
    scenario: Scenario | str | Path,
    policy: Policy | None = None,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
    cache: ScoreCache | None = None,
    audit: bool = True,
) -> Allocation:
    """Solve a scenario (or a scenario file) under its policy, or under ``policy``.

    ``cache`` holds the allowed pairs and raw factor scores from earlier solves of the
    same scenario under the same hard rules (the runner's sweeps pass one). ``audit=False``
    leaves the fairness audit out of the summary (``allocation.audit`` still computes it).
    """
    started = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    policy = policy or scenario.policy
    time_limit, workers, seed = resolve_options(scenario, policy, time_limit, workers, seed)

    instance = scenario.instance
    pairs = cache.pairs if cache is not None else allowed_pairs(instance, policy)
    build_started = time.perf_counter()
    terms = build_terms(pairs, policy, cache)
    solve_started = time.perf_counter()
    terms, solution, swap_rule = solve_under_rules(terms, policy, time_limit=time_limit, workers=workers, seed=seed, log=log)
    solved = time.perf_counter()

    post_of_cadre = posts_of(terms.pairs, solution.chosen)
    table = allocation_table(instance, policy, post_of_cadre)
    summary = _summary(scenario, policy, table, terms, solution, terms.pairs, seed, workers, time_limit)
    summary["timings"] = {
        "candidates_seconds": build_started - started,
        "build_seconds": solve_started - build_started,
        "solve_seconds": solved - solve_started,
        "total_seconds": time.perf_counter() - started,
    }
    summary["wall_seconds"] = summary["timings"]["total_seconds"]
    summary["interrupted"] = solution.interrupted
    if swap_rule is not None:
        summary["swap_rule"] = swap_rule
    allocation = Allocation(scenario, policy, table, summary, post_of_cadre, terms)
    if audit:
        summary["audit"] = allocation.audit.summary()
    return allocation


def resolve_options(
    scenario: Scenario, policy: Policy, time_limit: float | None, workers: int | None, seed: int | None
) -> tuple[float, int, int]:
    """(time limit, workers, seed): the caller's, else the scenario's seed, else the policy's."""
    options = policy.solver
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else options.seed
    return (
        time_limit if time_limit is not None else options.time_limit_s,
        workers if workers is not None else options.workers,
        seed,
    )


def _summary(scenario, policy, table, terms, solution: Solution, pairs, seed, workers, time_limit) -> dict:
    scale = terms.scale
    n_assigned = int((table["post_id"] != "").sum())
    rounding = 0.5 * n_assigned / scale
    objective = float(table["score_total"].sum())
    gap = (solution.bound - solution.objective) / max(1, abs(solution.bound))
    side = {}
    chosen = solution.chosen.astype(float)
    for name, rows in terms.side.items():
        lhs = rows.lhs(chosen)
        side[name] = [
            {"constraint": label, "value": float(v), "limit": int(r), "slack": float(r - v), "binding": bool(r - v < 1)}
            for label, v, r in zip(rows.labels, lhs, rows.rhs)
        ]
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "policy": policy.name,
        "status": solution.status,
        "proof": solution.proof,
        "objective": objective,
        "best_bound": solution.bound / scale + rounding,
        "gap": gap,
        "objective_scaled": solution.objective,
        "best_bound_scaled": solution.bound,
        "objective_scale": scale,
        "rounding_error_bound": rounding,
        "factor_totals": factor_totals(table),
        "metrics": metrics(scenario.instance, policy, table),
        "allowed_pairs": len(pairs),
        "side_constraints": side,
        "lexicographic": solution.lexicographic,
        "solver": solution.stats,
    }
    relay_params = policy.active_factors().get("relay")
    if relay_params is not None and relay_params.mode == "rule":
        summary["relay_lost"] = relay_lost(scenario.instance, policy, table, pairs)
    summary["manifest"] = manifest(scenario, policy, seed, workers, time_limit)
    return summary


def manifest(scenario: Scenario, policy: Policy, seed: int, workers: int, time_limit: float) -> dict[str, Any]:
    """What is needed to reproduce the run."""
    versions = {"python": platform.python_version()}
    for package in ("placement_engine", "ortools", "numpy", "pandas", "pydantic"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "versions": versions,
        "inputs_sha256": dict(scenario.hashes),
        "input_files": {key: Path(path).name for key, path in scenario.files.items()},
        "policy": policy.model_dump(mode="json"),
        "seed": seed,
        "workers": workers,
        "time_limit_s": time_limit,
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
    }
