"""Plain-text reports for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..allocation import Allocation
from ..scenario import Scenario


def describe_scenario(scenario: Scenario, conflicts: Sequence[dict] = ()) -> str:
    """What a scenario holds: table sizes, posts by province and rank rule, cadres by rank and university.

    ``conflicts``: the counting pre-check's, whose messages end the report (the sentences ``solve`` gives).
    """
    tables = scenario.tables
    posts, cadres = tables["posts"], tables["cadres"]
    verdict = "valid" if not conflicts else "valid input, but infeasible by counting"
    lines = [f"scenario {scenario.name}: {verdict}", f"policy {scenario.policy.name}", "", "tables:"]
    lines += [f"  {name:<13}{len(frame):>6} rows" for name, frame in tables.items()]
    by_province = posts.groupby(["province", "min_rank"])["capacity"].sum().unstack(fill_value=0)
    lines += ["", "post capacity by province and minimum rank:", _indent(by_province.to_string())]
    by_rank = cadres.groupby("rank").size().rename("cadres")
    lines += ["", "cadres by rank:", _indent(by_rank.to_string())]
    volunteers = int(cadres["cross_province_ok"].sum())
    cross = posts[posts["province"] != _home_province(scenario)]["capacity"].sum()
    lines += ["", f"cross-province volunteers: {volunteers} (cross-province post capacity {cross})"]
    per_uni = cadres.groupby("university_id").size().sort_values(ascending=False)
    lines += ["", f"cadres by university ({len(per_uni)} universities):", _indent(_columns(per_uni))]
    lines += ["", f"total capacity {posts['capacity'].sum()} for {len(cadres)} cadres"]
    if conflicts:
        lines += ["", "no allocation meets the hard rules:", *(f"  - {conflict['message']}" for conflict in conflicts)]
    return "\n".join(lines)


def _home_province(scenario: Scenario) -> str:
    provinces = scenario.tables["universities"]["province"]
    return provinces.mode().iat[0] if len(provinces) else ""


def _columns(counts: pd.Series, per_line: int = 6) -> str:
    cells = [f"{key}: {value}" for key, value in counts.items()]
    return "\n".join("  ".join(f"{cell:<16}" for cell in cells[i : i + per_line]).rstrip() for i in range(0, len(cells), per_line))


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def solve_table(allocation: Allocation) -> str:
    """The short result table printed after a solve."""
    s = allocation.summary
    m = s["metrics"]
    rows = [
        ("status", f"{s['status']} ({s['proof']})"),
        ("objective", f"{s['objective']:,.3f}"),
        ("best bound", f"{s['best_bound']:,.3f}"),
        ("gap", f"{s['gap']:.4%}"),
        ("assigned", f"{m['assigned']} of {m['assigned'] + m['unassigned']}"),
        ("first choice", _share(m.get("first_choice_share"))),
        ("top 3", _share(m.get("top3_share"))),
        ("mean distance", f"{m['mean_distance_km']:,.1f} km" if m.get("mean_distance_km") is not None else "-"),
        ("partnership", _share(m.get("partnership_share"))),
        ("relay kept", f"{_share(m.get('relay_share'))} ({m['relay_kept']} of {m['relay_targets']})"),
        ("total cost", f"{m['total_annual_cost_yuan']:,} yuan/year"),
        ("wall time", f"{s['wall_seconds']:.3f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
