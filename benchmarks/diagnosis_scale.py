"""Counting diagnosis at national scale: ``counting_conflicts`` on infeasible versions of national-2011.

    python benchmarks/diagnosis_scale.py [--repeats 7]

Instances (national-2011.yaml already fills every post):
- place every cadre: 2,897 cadres for 2,842 one-seat posts, so 55 cannot be placed;
- deputy-division cadres halved: every other deputy-division cadre left out, so the
  126 sub-provincial district posts cannot all be filled;
- both at once, which runs both matchings.

Prints the median seconds of ``counting_conflicts`` (allowed pairs built once,
outside the timing) and the conflicts found. When networkx is importable, the
previous networkx implementation of ``hall_violators`` is timed in the same run,
checked to find the same conflicts, and the ratio is its median over the current one.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np

# the sibling script's median of repeated timings
from solve_speed import timed as median_seconds

import placement_engine as pe
from placement_engine.rules import allowed_pairs
from placement_engine.solve import feasibility

ROOT = Path(__file__).resolve().parent.parent


def networkx_hall_violators(n_top: int, n_bottom: int, top: np.ndarray, bottom: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The networkx implementation ``hall_violators`` replaced, kept here as the baseline."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n_top + n_bottom))
    graph.add_edges_from(zip(top.tolist(), (bottom + n_top).tolist()))
    matching = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=range(n_top))
    unmatched = [node for node in range(n_top) if node not in matching]
    if not unmatched:
        return []
    directed = nx.DiGraph(zip(top.tolist(), (bottom + n_top).tolist()))
    directed.add_edges_from((b, t) for b, t in matching.items() if b >= n_top)
    directed.add_edges_from(("root", t) for t in unmatched)
    reached = nx.descendants(directed, "root")
    pieces = []
    for piece in nx.connected_components(graph.subgraph(reached)):
        nodes = np.fromiter(piece, np.int64)
        pieces.append((np.sort(nodes[nodes < n_top]), np.sort(nodes[nodes >= n_top]) - n_top))
    return pieces


def instances(scenario: pe.Scenario) -> dict[str, pe.Scenario]:
    cadres = scenario.tables["cadres"]
    division = cadres.loc[cadres["rank"] == "deputy_division", "cadre_id"].to_numpy(str)
    gone = set(division[::2])
    tables = {name: frame[~frame["cadre_id"].isin(gone)] if "cadre_id" in frame else frame for name, frame in scenario.tables.items()}
    halved = pe.scenario_from_tables(tables, scenario.policy, name="national-2011-halved")
    place_all = {"rules": {"place_every_cadre": True}}
    return {
        "place every cadre": scenario.with_policy(**place_all),
        "deputy-division cadres halved": halved,
        "both": halved.with_policy(**place_all),
    }


def summary(conflicts: list[dict]) -> str:
    """Per kind: how many conflicts and their total shortfall."""
    kinds = sorted({c["kind"] for c in conflicts})
    return "; ".join(f"{sum(c['kind'] == k for c in conflicts)} {k}, short {sum(c['shortfall'] for c in conflicts if c['kind'] == k)}" for k in kinds)


def _key(conflict: dict) -> str:
    return json.dumps(conflict, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        import networkx  # noqa: F401
    except ImportError:
        baseline = None
    else:
        baseline = networkx_hall_violators
    current = feasibility.hall_violators

    print("| instance | pairs | counting_conflicts s | networkx s | ratio | conflicts |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, scenario in instances(pe.load_scenario(ROOT / "scenarios" / "national-2011.yaml")).items():
        pairs = allowed_pairs(scenario.instance, scenario.policy)
        count = partial(feasibility.counting_conflicts, pairs, scenario.policy)
        seconds, conflicts = median_seconds(count, args.repeats)
        old = ratio = "-"
        if baseline is not None:
            feasibility.hall_violators = baseline
            try:
                old_seconds, old_conflicts = median_seconds(count, args.repeats)
            finally:
                feasibility.hall_violators = current
            # the same conflicts; ties in size may come in another order
            assert sorted(map(_key, old_conflicts)) == sorted(map(_key, conflicts)), f"{name}: the networkx version finds other conflicts"
            old, ratio = f"{old_seconds:.3f}", f"{old_seconds / seconds:.1f}x"
        print(f"| {name} | {len(pairs):,} | {seconds:.3f} | {old} | {ratio} | {summary(conflicts)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
