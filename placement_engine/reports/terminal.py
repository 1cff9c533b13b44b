"""Plain-text reports for the terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import pandas as pd

from ..allocation import Allocation
from ..i18n import N_, _
from ..naming import plural, word
from ..scenario import Scenario

STATUS_WORDS = {"OPTIMAL": N_("OPTIMAL"), "FEASIBLE": N_("FEASIBLE"), "INFEASIBLE": N_("INFEASIBLE"), "UNKNOWN": N_("UNKNOWN")}
PROOF_WORDS = {
    "flow duality": N_("proven by flow duality"),
    "cp-sat": N_("proven by CP-SAT"),
    "lagrangian duality": N_("proven by Lagrangian duality"),
    "none": N_("not proven optimal"),
}


def describe_scenario(scenario: Scenario, conflicts: Sequence[dict] = ()) -> str:
    """What a scenario holds: table sizes, posts by province and rank rule, cadres by rank and university.

    ``conflicts``: the counting pre-check's, whose messages end the report (the sentences ``solve`` gives).
    """
    tables = scenario.tables
    posts, cadres = tables["posts"], tables["cadres"]
    verdict = _("valid") if not conflicts else _("valid input, but infeasible by counting")
    lines = [_("scenario {name}: {verdict}").format(name=scenario.name, verdict=verdict), _("policy {name}").format(name=scenario.policy.name)]
    lines += ["", _("tables:")]
    lines += ["  " + _("{table:<13}{rows:>6} rows").format(table=name, rows=len(frame)) for name, frame in tables.items()]
    by_province = posts.groupby(["province", "min_rank"])["capacity"].sum().unstack(fill_value=0)
    by_province.columns = [word(str(rank)) for rank in by_province.columns]
    lines += ["", _("post capacity by province and minimum rank:"), _indent(by_province.to_string())]
    by_rank = cadres.groupby("rank").size().rename(_("cadres"))
    by_rank.index = [word(str(rank)) for rank in by_rank.index]
    lines += ["", _("cadres by rank:"), _indent(by_rank.to_string())]
    volunteers = int(cadres["cross_province_ok"].sum())
    cross = posts[posts["province"] != _home_province(scenario)]["capacity"].sum()
    lines += ["", _("cross-province volunteers: {volunteers} (cross-province post capacity {capacity})").format(volunteers=volunteers, capacity=cross)]
    per_uni = cadres.groupby("university_id").size().sort_values(ascending=False)
    lines += ["", _("cadres by university ({universities}):").format(universities=plural(len(per_uni), "university")), _indent(_columns(per_uni))]
    total = _("total capacity {capacity} for {cadres}").format(capacity=posts["capacity"].sum(), cadres=plural(len(cadres), "cadre"))
    lines += ["", total]
    if conflicts:
        lines += ["", _("no allocation meets the hard rules:"), *(f"  - {conflict['message']}" for conflict in conflicts)]
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
        (_("status"), status_words(s["status"], s["proof"])),
        (_("objective"), _("{points:,.3f} points").format(points=s["objective"])),
        (_("best bound"), f"{s['best_bound']:,.3f}"),
        (_("gap"), f"{s['gap']:.4%}"),
        (_("assigned"), _("{assigned} of {cadres}").format(assigned=m["assigned"], cadres=m["assigned"] + m["unassigned"])),
        (_("first choice"), _share(m.get("first_choice_share"))),
        (_("top 3"), _share(m.get("top3_share"))),
        (_("mean distance"), f"{m['mean_distance_km']:,.1f} km" if m.get("mean_distance_km") is not None else "-"),
        (_("partnership"), _share(m.get("partnership_share"))),
        (_("relay kept"), _("{share} ({kept} of {targets})").format(share=_share(m.get("relay_share")), kept=m["relay_kept"], targets=m["relay_targets"])),
        (_("total cost"), _("{yuan:,} yuan/year").format(yuan=m["total_annual_cost_yuan"])),
        (_("wall time"), f"{s['wall_seconds']:.3f} s"),
    ]
    width = max(_width(label) for label, _value in rows)
    return "\n".join(f"{label}{' ' * (width - _width(label))}  {value}" for label, value in rows)


def status_words(status: str, proof: str) -> str:
    """'OPTIMAL (proven by flow duality)', 'FEASIBLE (not proven optimal)'."""
    shown = _(STATUS_WORDS[status]) if status in STATUS_WORDS else status
    return _("{status} ({proof})").format(status=shown, proof=_(PROOF_WORDS[proof]) if proof in PROOF_WORDS else proof)


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: two for each CJK character."""
    return sum(2 if ord(char) >= 0x1100 and unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
