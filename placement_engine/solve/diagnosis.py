"""Why a scenario has no allocation, said in the scenario's own terms.

Two kinds of conflict are looked for, in this order:

- **Counting** (``feasibility.py``): sets of cadres with too few seats open to
  them, or of must-fill seats with too few cadres who may take them.
- **Side rows** (budgets, the improving-swap rule, ...), when the counting is
  fine. An elastic CP-SAT model gives every row a slack and minimises their sum,
  with every other rule hard; the rows left with slack must give way, by that much.

Relay as a rule never causes infeasibility: it keeps as many relay postings as
the other rules allow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InfeasibleError
from ..instance import Instance, PairTable
from ..rules.candidates import allowed_pairs
from ..schema import Policy
from .feasibility import counting_conflicts
from .model import Terms, build_terms


def diagnose(
    instance: Instance,
    policy: Policy,
    *,
    pairs: PairTable | None = None,
    terms: Terms | None = None,
    time_limit: float = 60.0,
    workers: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """A JSON-able diagnosis: every conflict found, each with a plain-language ``message``."""
    pairs = pairs if pairs is not None else allowed_pairs(instance, policy)
    conflicts = counting_conflicts(pairs, policy)
    extra: dict[str, Any] = {"found_by": "matching (Hall/König)"}
    if not conflicts:
        terms = terms if terms is not None else build_terms(pairs, policy)
        conflicts, extra = side_conflicts(terms, policy, time_limit=time_limit, workers=workers, seed=seed)
    messages = [c["message"] for c in conflicts] or [
        "the solver proved that no allocation meets the hard rules, but neither a counting conflict nor a "
        "side constraint that must give way was found"
    ]
    return {
        "status": "INFEASIBLE",
        **extra,
        "conflicts": conflicts,
        "message": "no allocation meets the hard rules:\n" + "\n".join(f"  - {m}" for m in messages),
    }


def infeasible(diagnosis: dict[str, Any]) -> InfeasibleError:
    return InfeasibleError(diagnosis["message"], diagnosis)



def side_conflicts(terms: Terms, policy: Policy, *, time_limit: float, workers: int, seed: int) -> tuple[list[dict], dict]:
    """Side rows that must give way, and by how much: slack on every row, total slack minimised.

    Also returns how the search ended: the least total overrun found and a proven lower bound on it.
    """
    from . import cpsat

    named = [(name, rows) for name, rows in terms.side.items() if len(rows.labels)]
    if not named:
        return [], {"found_by": "nothing: no counting conflict and no side constraints"}
    model = cpsat.AssignmentModel(terms.pairs, policy.rules)
    slack = np.concatenate([np.asarray(model.add_rows(rows, elastic=True), np.int64) for _, rows in named])
    coef = np.zeros(int(slack.max()) + 1, np.int64)
    coef[slack] = -1
    result = model.solve(coef, time_limit=time_limit, workers=workers, seed=seed)
    if result.interrupted:
        raise KeyboardInterrupt
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        return [], {"found_by": f"nothing: the elastic CP-SAT model ended {result.status}"}
    proven = result.status == "OPTIMAL"
    info = {
        "found_by": "elastic CP-SAT model" + ("" if proven else " (time limit: the overrun found is not proven the least)"),
        "total_overrun": -round(result.objective),
        "total_overrun_at_least": -int(np.floor(result.bound + 1e-9)),
    }
    chosen = result.chosen.astype(float)
    conflicts = []
    for name, rows in named:
        value = np.rint(rows.lhs(chosen))  # integer coefficients
        for row in np.flatnonzero(value > rows.rhs):
            excess = float(value[row] - rows.rhs[row])
            conflicts.append(
                {
                    "kind": "side_constraint",
                    "factor": name,
                    "constraint": rows.labels[row],
                    "limit": int(rows.rhs[row]),
                    "needed": float(value[row]),
                    "short_by": excess,
                    "unit": rows.unit,
                    "shortfall": excess,
                    "proven_least": proven,
                    "message": _side_message(name, rows.labels[row], rows.unit, int(rows.rhs[row]), float(value[row]), proven),
                }
            )
    return sorted(conflicts, key=lambda c: -c["short_by"]), info


def _side_message(factor: str, label: str, unit: str, limit: int, needed: float, proven: bool) -> str:
    from ..reports.audit import SWAP_RULE

    smallest = "the smallest" if proven else "the smallest found"
    if factor == SWAP_RULE:
        return (
            f"The rule against improving swaps must give way for {label.removeprefix('no improving swap ').replace('@', ' at ').replace(' / ', ' and ')}: "
            "they would both rather exchange posts, and no allocation that meets the other rules avoids this pair "
            f"({smallest} relaxation of the side constraints)."
        )
    name = f"University {label.removeprefix('budget of ')}'s budget" if factor == "cost" and label.startswith("budget of ") else label
    return (
        f"{name} is short by {needed - limit:,.0f} {unit}: with every other rule kept, {smallest} total overrun of "
        f"the side constraints needs {needed:,.0f} {unit} against a limit of {limit:,}."
    )


# ---- words for sets of posts and cadres -----------------------------------------------------
