"""``solve``: scenario in, ``Allocation`` out; and what an allocation carries."""

from __future__ import annotations

import html
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io
from .evaluate import allocation_table, factor_params, factor_totals, metrics, posts_of, relay_lost
from .i18n import _
from .naming import region_name
from .rules import allowed_pairs
from .scenario import Scenario
from .schema import TABLES, Policy
from .solve import Deadline, ScoreCache, Settings, Solution, Terms, build_terms, solve_model


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

    def __repr__(self) -> str:
        placed, cadres = self.metrics["assigned"], len(self.table)
        return _("<Allocation {scenario}: {status}, objective {objective:,.1f}, bound {bound:,.1f}, gap {gap:.2%}, {placed} of {cadres} cadres placed>").format(
            scenario=self.scenario.name, status=self.status, objective=self.objective, bound=self.bound, gap=self.gap, placed=placed, cadres=cadres
        )

    def _repr_html_(self) -> str:
        """A short summary for notebooks; ``allocation.table`` is the whole allocation."""
        metrics = self.metrics
        rows = [
            (_("Scenario"), self.scenario.name),
            (_("Policy"), self.policy.name),
            (_("Status"), self.status),
            (_("Objective (points)"), f"{self.objective:,.2f}"),
            (_("Upper bound (points)"), f"{self.bound:,.2f}"),
            (_("Gap"), f"{self.gap:.2%}"),
            (_("Cadres placed"), _("{placed} of {cadres}").format(placed=metrics["assigned"], cadres=len(self.table))),
            (_("First wish met (share)"), _share(metrics.get("first_choice_share"))),
            (_("One of the first three wishes met (share)"), _share(metrics.get("top3_share"))),
            (_("Mean distance (km)"), _number(metrics.get("mean_distance_km"))),
        ]
        return html_table(_("Allocation"), rows)

    def sheets(self) -> list[io.Sheet]:
        """The sheets of results.xlsx: allocation, summary, universities, budgets and audit."""
        return [
            io.Sheet("allocation", self.table),
            io.Sheet("summary", summary_frame(self.summary)),
            io.Sheet("universities", with_university_names(self.scenario, self.audit.universities)),
            io.Sheet("budgets", budget_frame(self.scenario, self.policy, self.table)),
            io.Sheet("audit", audit_frame(self.audit)),
        ]

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

    def write(self, out_dir: str | Path, extra_files: dict[str, bytes | Callable[[Path], Any]] | None = None) -> Path:
        """Write allocation.csv, summary.json, audit.json, audit.csv, results.xlsx and inputs/ as the whole
        content of ``out_dir``, with run.json (see docs/file-formats.md and ``io.OutputFolder``).

        ``extra_files`` become files of the same run: relative path -> bytes, or a function
        that writes the file at the path it is given, e.g.
        ``{"map.png": lambda path: plots.save(figure, path)}``. If anything fails while
        writing, the folder is left as it was.
        """
        with io.OutputFolder(out_dir) as folder:
            io.write_csv(self.table, folder.path("allocation.csv"))
            io.write_json(self.summary, folder.path("summary.json"))
            for name, frame in self.scenario.tables.items():
                io.write_csv(frame, folder.path(f"inputs/{name}.csv"))
            io.write_yaml(self.policy.model_dump(mode="json"), folder.path("inputs/policy.yaml"))
            self.audit.write(folder.root)
            io.write_workbook(self.sheets(), folder.path("results.xlsx"))
            folder.add(extra_files or {})
        return Path(out_dir)


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
    started: float | None = None,
) -> Allocation:
    """Solve a scenario (or a scenario file) under its policy, or under ``policy``.

    ``time_limit``, ``seed`` and ``workers`` override the policy's solver options and
    are validated as a policy file's are. ``time_limit`` caps the whole call, from
    the allowed pairs to the last search. ``cache`` holds the allowed pairs and raw
    factor scores from earlier solves of the same scenario under the same hard rules
    (the runner's sweeps pass one). ``audit=False`` leaves the fairness audit out of
    the summary (``allocation.audit`` still computes it). ``started`` (a
    ``time.perf_counter()`` reading) starts the clock earlier, e.g. when the
    command that calls this began reading its files.
    """
    started = time.perf_counter() if started is None else started
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    policy = effective_policy(scenario, policy or scenario.policy, time_limit, workers, seed)
    settings = Settings.of(policy.solver)
    deadline = Deadline(settings.time_limit, settings.work_limit, started)

    instance = scenario.instance
    pairs = cache.pairs if cache is not None else allowed_pairs(instance, policy)
    build_started = time.perf_counter()
    terms = build_terms(pairs, policy, cache)
    solve_started = time.perf_counter()
    solution = solve_model(terms, policy, settings, log=log, deadline=deadline)
    solved = time.perf_counter()

    terms = solution.terms
    post_of_cadre = posts_of(terms.pairs, solution.chosen)
    table = readable(scenario, allocation_table(instance, policy, post_of_cadre))
    summary = _summary(scenario, policy, table, terms, solution, settings)
    summary["timings"] = {
        "candidates_seconds": build_started - started,
        "build_seconds": solve_started - build_started,
        "solve_seconds": solved - solve_started,
        "total_seconds": time.perf_counter() - started,
    }
    summary["wall_seconds"] = summary["timings"]["total_seconds"]
    summary["interrupted"] = solution.interrupted
    for name, cost in solution.lazy_rules.items():
        summary["swap_rule" if name == "forbid_improving_swaps" else name] = cost
    allocation = Allocation(scenario, policy, table, summary, post_of_cadre, terms)
    if audit:
        summary["audit"] = allocation.audit.summary()
    return allocation


def effective_policy(scenario: Scenario, policy: Policy, time_limit: float | None, workers: int | None, seed: int | None) -> Policy:
    """The policy a solve runs under: the caller's options, else the scenario's seed, else the policy's; validated."""
    if seed is None and scenario.seed is not None:
        seed = scenario.seed
    return io.solver_overrides(policy, time_limit, workers, seed)


def _summary(scenario, policy, table, terms, solution: Solution, settings: Settings) -> dict:
    scale = terms.scale
    inst = scenario.instance
    n_assigned = int((table["post_id"] != "").sum())
    rounding = 0.5 * n_assigned / scale
    # each placed cadre's points may exceed its rounded coefficient by 0.5 / scale, so the bound on
    # the points of any allocation allows for the most cadres any allocation can place
    most_placed = min(inst.n_cadres, int(inst.post_capacity.sum()))
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
        "stopped_by": solution.stopped_by or None,
        "reproducible": solution.reproducible,
        "wall_clock_cut": solution.clock_cut,
        "objective": objective,
        "best_bound": (solution.bound + 0.5 * most_placed) / scale,
        "gap": gap,
        "objective_scaled": solution.objective,
        "best_bound_scaled": solution.bound,
        "objective_scale": scale,
        "rounding_error_bound": rounding,
        "factor_totals": factor_totals(table),
        "metrics": metrics(inst, policy, table),
        "allowed_pairs": len(terms.pairs),
        "side_constraints": side,
        "lexicographic": solution.lexicographic,
        "solver": solution.stats,
    }
    relay_params = policy.active_factors().get("relay")
    if relay_params is not None and relay_params.mode == "rule":
        summary["relay_lost"] = relay_lost(inst, policy, table, terms.pairs)
    summary["manifest"] = manifest(scenario, policy, settings)
    return summary


def manifest(scenario: Scenario, policy: Policy, settings: Settings) -> dict[str, Any]:
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
        "seed": settings.seed,
        "workers": settings.workers,
        "time_limit_s": settings.time_limit,
        "work_limit": settings.work_limit,
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
    }


# ---- names beside codes, and the sheets of results.xlsx -------------------------------------


def readable(scenario: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """The allocation table with names beside codes (university, prefecture, province) and, after
    the engine's columns, every column of the cadres table that the engine does not know (notes, say)."""
    out = table.copy()
    names = university_names(scenario).reindex(out["university_id"]).fillna("").to_numpy(object)
    out.insert(out.columns.get_loc("university_id") + 1, "university_name", names)
    codes = np.unique(np.concatenate([out["prefecture"].to_numpy(str), out["province"].to_numpy(str)]))
    regions = {code: region_name(scenario.instance, code) for code in codes if code}  # a name per distinct code
    for level in ("prefecture", "province"):
        named = out[level].map(lambda code: regions.get(code, "")).to_numpy(object)
        out.insert(out.columns.get_loc(level) + 1, f"{level}_name", named)
    cadres = scenario.tables["cadres"]
    for column in [c for c in extra_cadre_columns(scenario) if c not in out.columns]:
        out[column] = cadres[column].to_numpy(object)  # the allocation lists the cadres in their table's order
    return out


def extra_cadre_columns(scenario: Scenario) -> list[str]:
    """The columns of the cadres table that the table contract does not name (notes, say), in their order."""
    known = {column.name for column in TABLES["cadres"].columns}
    return [column for column in scenario.tables["cadres"].columns if column not in known]


def university_names(scenario: Scenario) -> pd.Series:
    """Each university's name, by university_id."""
    universities = scenario.tables["universities"]
    return pd.Series(universities["name"].to_numpy(object), index=universities["university_id"].to_numpy(str))


def with_university_names(scenario: Scenario, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "university_id" in out and "university_name" not in out:
        names = university_names(scenario).reindex(out["university_id"].astype(str)).fillna("").to_numpy(object)
        out.insert(out.columns.get_loc("university_id") + 1, "university_name", names)
    return out


def summary_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The headline of summary.json as (item, value) rows, items as readable headers."""
    keys = ["scenario", "policy", "status", "proof", "objective", "best_bound", "gap", "stopped_by", "reproducible", "allowed_pairs"]
    items = [(key, summary.get(key)) for key in keys]
    items += list(summary["metrics"].items())
    items += [(f"score_{name}", total) for name, total in summary["factor_totals"].items()]
    return pd.DataFrame(
        {"item": [io.excel.header(key) for key, _value in items], "value": pd.Series([value for _key, value in items], dtype=object)}
    )


def budget_frame(scenario: Scenario, policy: Policy, table: pd.DataFrame) -> pd.DataFrame:
    """Per university: its yearly cost, and with a ``budget_yuan`` column its budget, limit and what is left."""
    universities = scenario.tables["universities"]
    ids = universities["university_id"].to_numpy(str)
    spent = pd.to_numeric(table["annual_cost_yuan"], errors="coerce").groupby(table["university_id"]).sum()
    frame = pd.DataFrame({"university_id": ids, "university_name": universities["name"].to_numpy(object)})
    frame["cadres"] = table.groupby("university_id").size().reindex(ids).fillna(0).astype(int).to_numpy()
    frame["annual_cost_yuan"] = spent.reindex(ids).fillna(0.0).to_numpy(float)
    if "budget_yuan" in universities:
        cost = factor_params(policy)["cost"]
        budget = pd.to_numeric(universities["budget_yuan"], errors="coerce").to_numpy(float)
        frame["budget_yuan"] = budget
        frame["limit_yuan"] = budget * cost.budget_scale if cost.budget else np.nan
        frame["slack_yuan"] = frame["limit_yuan"] - frame["annual_cost_yuan"]
        frame["binding"] = pd.array(np.where(np.isnan(frame["slack_yuan"]), None, frame["slack_yuan"] < 1), dtype="boolean")
    return frame


def audit_frame(audit) -> pd.DataFrame:
    """Improving swaps and blocking pairs (justified envy, or an empty seat), one finding a row."""
    columns = ["finding", "cadre", "post", "other_cadre", "other_post", "sentence"]
    swaps = audit.swaps.rename(columns={"cadre_a": "cadre", "post_a": "post", "cadre_b": "other_cadre", "post_b": "other_post"})
    swaps["finding"] = _("improving swap")
    blocking = audit.blocking.rename(columns={"displaced": "other_cadre", "blocking_post": "other_post"})
    blocking["finding"] = np.where(blocking["empty_seat"].to_numpy(bool), _("blocking pair (an empty seat)"), _("justified envy"))
    return pd.concat([swaps.reindex(columns=columns), blocking.reindex(columns=columns)], ignore_index=True)


def html_table(title: str, rows: list[tuple[str, Any]]) -> str:
    """A small two-column HTML table for notebooks, its cells escaped."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table><caption style='text-align:left'><b>{html.escape(title)}</b></caption>{body}</table>"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
