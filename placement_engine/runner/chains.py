"""Chained batches: relay over several years, each allocation the next batch's history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io
from ..allocation import Allocation
from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..scenario import Scenario
from ..schema import Policy, RelayMode
from ..synth import SynthConfig, generate
from .tables import _Progress, allocation_row
from .workbench import Report, SolveOptions, Workbench

# Policy changes that turn relay off, into a weighted factor, or into a rule (chain modes).
RELAY_MODES: dict[str, dict[str, Any]] = {
    "off": {"factors": {"relay": {"weight": 0.0, "mode": "soft"}}},
    "weight": {"factors": {"relay": {"mode": "soft"}}},
    "rule": {"factors": {"relay": {"mode": "rule"}}},
}
# Tables that name the first batch's cadres, so a chained batch with a fresh pool drops them.
PER_CADRE_TABLES = ("cadres", "preferences", "pins", "pair_scores", "history")


def chain(
    scenario: Scenario | str | Path,
    *,
    batches: int | None = None,
    modes: Sequence[RelayMode] | None = None,
    options: SolveOptions | Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    progress: Report | None = None,
    log: Report | None = None,
) -> pd.DataFrame:
    """Solve the scenario's ``chain``: batch after batch, each allocation the next one's relay history.

    The first batch is the scenario's own tables; each later batch has a fresh pool
    (cadres and wishes) from the generator, with the chain's pool settings and seed,
    the same in every mode. Each relay mode (off, weight, rule) runs the whole chain.
    ``batches`` keeps only the first so many years. Returns one row per mode and year.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    spec = scenario.chain
    if spec is None:
        raise InputError([Problem(scenario.name, "key chain", "a chain section (years, seeds, pool, relay_modes)", "none")])
    if batches is not None and batches < 1:
        raise InputError([Problem("chain", "batches", "at least 1", str(batches))])
    years = spec.years[: batches or len(spec.years)]
    modes = list(modes or spec.relay_modes)
    unknown = [mode for mode in modes if mode not in RELAY_MODES]
    if unknown:
        raise InputError([Problem("chain", "modes", f"one of {', '.join(RELAY_MODES)}", repr(mode)) for mode in unknown])
    pools = {year: _fresh_pool(scenario, spec.pool, seed) for year, seed in zip(years[1:], spec.pool_seeds())}
    out = Path(out_dir) if out_dir is not None else None
    if out is None:
        return _chain_into(scenario, years, modes, pools, SolveOptions.of(options), None, progress, log)
    # every batch of every mode is one run: written aside, swapped in when the chain is done
    with io.OutputFolder(out) as folder:
        return _chain_into(scenario, years, modes, pools, SolveOptions.of(options), folder.root, progress, log)


def _chain_into(scenario, years, modes, pools, options, out: Path | None, progress, log) -> pd.DataFrame:
    """``chain``'s solves, writing into the folder ``out`` (None: nothing written)."""
    workbench = Workbench()
    tick = _Progress(progress, len(modes) * len(years))
    rows = []
    for mode in modes:
        policy = scenario.policy.override(RELAY_MODES[mode])
        history = scenario.tables["history"]
        for year in years:
            batch = scenario.with_policy(policy) if year == years[0] else _later_batch(scenario, policy, pools[year], history, year)
            try:
                allocation = workbench.solve(batch, policy, options, log)
            except InfeasibleError as error:
                raise InfeasibleError(f"{mode} relay, batch {year}: {error}", error.diagnosis) from error
            except NoSolutionError as error:
                raise NoSolutionError(f"{mode} relay, batch {year}: {error}") from error
            row = {"mode": mode, "year": year, **_chain_row(allocation)}
            tick(f"{mode} {year}", row, f", relay kept {row['relay_kept']} of {row['relay_targets']}")
            rows.append(row)
            history = pd.concat([history, _as_history(allocation.table, year)], ignore_index=True)
            if out is not None:
                allocation.write(out / mode / str(year))
    table = pd.DataFrame(rows)
    if out is not None:
        from ..reports import plots

        io.write_csv(table, out / "chain.csv")
        plots.save(plots.chain_figure(table), out / "chain.png")
    return table


def _fresh_pool(scenario: Scenario, pool: SynthConfig, seed: int) -> dict[str, pd.DataFrame]:
    try:
        return generate(scenario.tables["posts"], scenario.tables["universities"], pool, seed=seed)
    except ValueError as error:
        raise InputError([Problem(scenario.name, "key chain.pool", "settings whose pool can fill the posts", str(error))]) from error


def _later_batch(scenario: Scenario, policy: Policy, pool: dict[str, pd.DataFrame], history: pd.DataFrame, year: int) -> Scenario:
    """The scenario's posts, universities and agreements with a fresh pool and the history so far."""
    kept = {name: frame for name, frame in scenario.tables.items() if name not in PER_CADRE_TABLES}
    tables = {**kept, "cadres": pool["cadres"], "preferences": pool["preferences"], "history": history}
    return replace(io.scenario_from_tables(tables, policy, name=f"{scenario.name}-{year}"), seed=scenario.seed)


def _as_history(table: pd.DataFrame, year: int) -> pd.DataFrame:
    placed = table.loc[table["post_id"] != "", ["university_id", "post_id"]]
    return placed.assign(batch=year)[["batch", "university_id", "post_id"]]


def _chain_row(allocation: Allocation) -> dict[str, Any]:
    row = allocation_row(allocation)
    assigned = row["assigned"]
    return {
        "status": row["status"],
        "gap": row["gap"],
        "objective": row["objective"],
        "relay_targets": row["relay_targets"],
        "relay_kept": row["relay_kept"],
        "relay_share": row["relay_share"],
        "wishes_met_share": (assigned - row["no_wish_met"]) / assigned if assigned else None,
        "first_choice_share": row["first_choice_share"],
        "top3_share": row["top3_share"],
        "mean_distance_km": row["mean_distance_km"],
        "total_distance_km": -row["raw_proximity"],
        "total_annual_cost_yuan": row["total_annual_cost_yuan"],
        "partnership_share": row["partnership_share"],
        "wall_seconds": row["wall_seconds"],
    }
