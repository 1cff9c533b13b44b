"""Quality of the optimum against what people do today: a hand allocator's greedy, and a random allocation.

    python benchmarks/quality.py [SCENARIO ...] [--seeds 5]

Default scenarios: scenarios/shandong-2011.yaml and scenarios/national-2011.yaml.
For each it prints one Markdown table with a column per allocation:
- optimum: ``placement_engine.solve`` (proven optimal);
- greedy: ``baselines.greedy_allocation``, serial dictatorship by university
  order, best free wish, else the nearest free post;
- random: ``baselines.random_allocation``, the mean over ``--seeds`` seeds of an
  allocation drawn at random among those meeting every hard rule.
Every column is scored by the same code (``evaluate.metrics``, the objective of
``allocation.csv``), and ``check`` counts the hard rules an allocation breaks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import placement_engine as pe
from placement_engine.baselines import greedy_allocation, random_allocation

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "scenarios" / "shandong-2011.yaml", ROOT / "scenarios" / "national-2011.yaml"]

# (label, how to read it from a scored allocation, format)
ROWS = [
    ("cadres placed", lambda s: s["metrics"]["assigned"], "{:,.0f}"),
    ("posts left empty", lambda s: s["unfilled"], "{:,.0f}"),
    ("hard-rule violations (check)", lambda s: s["violations"], "{:,.0f}"),
    ("first-choice share", lambda s: s["metrics"]["first_choice_share"], "{:.1%}"),
    ("top-3 share", lambda s: s["metrics"]["top3_share"], "{:.1%}"),
    ("no wish met", lambda s: s["metrics"]["no_wish_met"], "{:,.0f}"),
    ("over-ranked cadres", lambda s: s["metrics"]["over_ranked"], "{:,.0f}"),
    ("mean distance, km", lambda s: s["metrics"]["mean_distance_km"], "{:,.1f}"),
    ("partnership share", lambda s: s["metrics"]["partnership_share"], "{:.1%}"),
    ("relay share (of relay posts)", lambda s: s["metrics"]["relay_share"], "{:.1%}"),
    ("total annual cost, yuan", lambda s: s["metrics"]["total_annual_cost_yuan"], "{:,.0f}"),
    ("cost per placed cadre, yuan", lambda s: s["metrics"]["total_annual_cost_yuan"] / max(1, s["metrics"]["assigned"]), "{:,.0f}"),
    ("objective, points", lambda s: s["objective"], "{:,.1f}"),
]


def scored(allocation) -> dict:
    """Metrics, objective, empty posts and hard-rule violations of an Allocation or a Baseline."""
    report = allocation.check()
    posts = allocation.scenario.instance
    filled = np.bincount(posts.post_index(allocation.table["post_id"].to_numpy(str)) + 1, minlength=posts.n_posts + 1)[1:]
    return {
        "metrics": allocation.metrics,
        "objective": allocation.objective,
        "unfilled": int((filled < posts.post_capacity).sum()),
        "violations": len(report.violations),
    }


def mean_of(runs: list[dict]) -> dict:
    """Field-by-field mean of several scored allocations (None stays None)."""
    keys = runs[0]["metrics"]
    return {
        "metrics": {k: None if runs[0]["metrics"][k] is None else float(np.mean([r["metrics"][k] for r in runs])) for k in keys},
        **{k: float(np.mean([r[k] for r in runs])) for k in ("objective", "unfilled", "violations")},
    }


def compare(path: Path, seeds: int) -> str:
    scenario = pe.load_scenario(path)
    columns = {
        "optimum": scored(pe.solve(scenario)),
        "greedy": scored(greedy_allocation(scenario)),
        f"random (mean of {seeds})": mean_of([scored(random_allocation(scenario, seed=s)) for s in range(seeds)]),
    }
    inst = scenario.instance
    lines = [
        f"### {scenario.name}: {inst.n_cadres:,} cadres, {int(inst.post_capacity.sum()):,} posts",
        "",
        "| | " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for label, read, fmt in ROWS:
        cells = [(lambda v: "-" if v is None else fmt.format(v))(read(column)) for column in columns.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--seeds", type=int, default=5, help="random allocations to average")
    args = parser.parse_args(argv)
    print("\n\n".join(compare(path, args.seeds) for path in args.scenarios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
