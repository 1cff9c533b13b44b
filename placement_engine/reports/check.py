"""The solver-free audit of an allocation.

It re-verifies every active hard rule of the registry (``rules/``: pair rules,
seats, budgets, the swap-free rule when the policy sets it) and recomputes every
factor score and the objective from the input tables alone. ``check_output_dir`` does it from a ``solve`` output folder,
whose ``inputs/`` holds everything needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..evaluate import allocation_table, factor_params
from ..factors import FACTORS
from ..i18n import _, ngettext
from ..naming import word
from ..rules import Allocated, allowed_pairs
from ..rules import violations as rule_violations
from ..scenario import Scenario
from ..schema import TABLES
from ..solve import build_terms

TOLERANCE = 1e-6


@dataclass
class CheckReport:
    ok: bool
    violations: list[str] = field(default_factory=list)
    objective: float = 0.0
    reported_objective: float | None = None
    checks: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        count = len(self.violations)
        head = _("OK") if self.ok else ngettext("FAILED ({count} violation)", "FAILED ({count} violations)", count).format(count=count)
        lines = [_("check: {result}").format(result=head), "  " + _("recomputed objective {points:,.3f}").format(points=self.objective)]
        if self.reported_objective is not None:
            lines.append("  " + _("reported objective   {points:,.3f}").format(points=self.reported_objective))
        lines += ["  " + _("{what}: {count} checked").format(what=_check_words(name), count=count) for name, count in self.checks.items()]
        lines += [f"  - {v}" for v in self.violations]
        return "\n".join(lines)


def _check_words(name: str) -> str:
    """'rule rank' -> the rule's name in words; 'factor scores' translated."""
    if name.startswith("rule "):
        return _("rule {rule}").format(rule=word(name.removeprefix("rule ")))
    return _("factor scores") if name == "factor scores" else name


def check_allocation(scenario: Scenario, table: pd.DataFrame, summary: dict[str, Any] | None = None) -> CheckReport:
    inst = scenario.instance
    policy = scenario.policy
    violations: list[str] = []
    checks: dict[str, int] = {}

    cadre_ids = table["cadre_id"].astype(str).to_numpy()
    if sorted(cadre_ids) != sorted(inst.cadre_id) or len(set(cadre_ids)) != len(cadre_ids):
        violations.append(_("the allocation must list every cadre of the scenario exactly once"))
        return CheckReport(False, violations)
    order = inst.cadre_index(cadre_ids)
    post_ids = np.full(inst.n_cadres, "", dtype=object)
    post_ids[order] = table["post_id"].fillna("").astype(str).to_numpy()
    post_of_cadre = inst.post_index(post_ids.astype(str))
    unknown = (post_ids != "") & (post_of_cadre < 0)
    violations += [_("{cadre}: unknown post {post!r}").format(cadre=inst.cadre_id[i], post=post_ids[i]) for i in np.flatnonzero(unknown)]
    post_of_cadre[unknown] = -1

    allocated = Allocated(inst, policy, post_of_cadre, lambda: build_terms(allowed_pairs(inst, policy), policy))
    pairs = allocated.pairs
    for name, found in rule_violations(allocated).items():
        checks[f"rule {name}"] = len(pairs)
        violations += found

    recomputed = allocation_table(inst, policy, post_of_cadre)
    given = table.set_index("cadre_id").loc[recomputed["cadre_id"]]
    score_columns = [c for c in recomputed.columns if c.startswith("score_")]
    for column in score_columns:
        if column not in given:
            violations.append(_("allocation has no {column} column").format(column=column))
            continue
        diff = np.abs(pd.to_numeric(given[column]).to_numpy(float) - recomputed[column].to_numpy(float))
        for i in np.flatnonzero(diff > TOLERANCE * np.maximum(1, np.abs(recomputed[column].to_numpy(float)))):
            words = _("{cadre}: {column} is {given} but recomputes to {recomputed:.6g}")
            violations.append(words.format(cadre=recomputed["cadre_id"].iat[i], column=column, given=given[column].iat[i], recomputed=recomputed[column].iat[i]))
    checks["factor scores"] = len(score_columns) * inst.n_cadres

    objective = float(recomputed["score_total"].sum())
    reported = None
    if summary is not None:
        reported = float(summary["objective"])
        if abs(reported - objective) > TOLERANCE * max(1.0, abs(objective)):
            violations.append(_("summary objective {reported:,.6f} differs from the recomputed {objective:,.6f}").format(reported=reported, objective=objective))
        scaled = summary.get("objective_scaled")
        if scaled is not None:
            drift = abs(objective - scaled / summary["objective_scale"])
            if drift > summary["rounding_error_bound"] + TOLERANCE:
                words = _("integer objective {scaled} / {scale} is {drift:.6f} from the recomputed objective, more than the rounding bound {bound:.6f}")
                violations.append(words.format(scaled=scaled, scale=summary["objective_scale"], drift=drift, bound=summary["rounding_error_bound"]))
        kept = summary.get("lexicographic", {}).get("relay postings kept")
        if kept is not None:
            relay = FACTORS["relay"].indicator(pairs, factor_params(policy)["relay"]).sum()
            if relay < kept:
                violations.append(_("summary says {kept} relay postings are kept; the allocation keeps {relay}").format(kept=kept, relay=relay))
    return CheckReport(not violations, violations, objective, reported, checks)


def check_output_dir(out_dir: str | Path) -> CheckReport:
    """Check a solve output folder using only the files inside it.

    A folder whose files are not all those of one run (see ``io.verify_run``), or that
    holds no allocation (an infeasible run), is refused with an ``InputError``.
    """
    out = io.verified_solve_folder(out_dir)
    inputs = out / "inputs"
    tables = {name: io.read_csv(inputs / f"{name}.csv") for name in TABLES if (inputs / f"{name}.csv").is_file()}
    policy = io.load_policy(inputs / "policy.yaml")
    scenario = io.scenario_from_tables(tables, policy, name=out.name)
    return check_allocation(scenario, io.read_csv(out / "allocation.csv"), io.read_json(out / "summary.json"))


