"""Why a scenario has no allocation, said in the scenario's own terms.

Two kinds of conflict are looked for, in this order:

- **Counting** (``feasibility.py``): sets of cadres with too few seats open to
  them, or of must-fill seats with too few cadres who may take them.
- **Side rows**, when the counting is fine. When the budgets are the only side
  rows, ``budget_diagnosis.py`` names the fewest budgets that must give way,
  every budget that can take each one's place, and each one's least shortfall,
  all exact unless a search is stopped (then the sentence says so). With other
  side rows (the improving-swap rule, ...), an elastic CP-SAT model gives every
  row a slack and minimises their sum, with every other rule hard; the rows
  left with slack must give way, by that much.

Relay as a rule never causes infeasibility: it keeps as many relay postings as
the other rules allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InfeasibleError
from ..rules import rule_for_rows
from .budget_diagnosis import budget_conflicts
from .deadline import Deadline
from .feasibility import counting_conflicts
from .solution import Settings
from .terms import Terms


def diagnose_conflicts(
    terms: Terms, policy, elastic: Callable[[], tuple[list, Any]], settings: Settings, deadline: Deadline
) -> dict[str, Any]:
    """A JSON-able diagnosis: every conflict found, each with a plain-language ``message``.

    ``elastic()`` solves the elastic model (``pipeline.py``) and returns the named
    side rows with the search's result; it runs only when the counting is fine
    and the budgets alone do not explain the conflict.
    """
    conflicts = counting_conflicts(terms.pairs, policy)
    extra: dict[str, Any] = {"found_by": "matching (Hall/König)"}
    if not conflicts:
        found = budget_conflicts(terms, policy, settings, deadline)
        conflicts, extra = found if found is not None else side_conflicts(terms, elastic)
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


def side_conflicts(terms: Terms, elastic: Callable[[], tuple[list, Any]]) -> tuple[list[dict], dict]:
    """Side rows that must give way, and by how much: slack on every row, total slack minimised.

    Also returns how the search ended: the least total overrun found and a proven lower bound on it.
    """
    if not any(len(rows.labels) for rows in terms.side.values()):
        return [], {"found_by": "nothing: no counting conflict and no side constraints"}
    named, result = elastic()
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
        rule = rule_for_rows(name)
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
                    "message": rule.conflict(rows.labels[row], rows.unit, int(rows.rhs[row]), float(value[row]), proven),
                }
            )
    return sorted(conflicts, key=lambda c: -c["short_by"]), info

