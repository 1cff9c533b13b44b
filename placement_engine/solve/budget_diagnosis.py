"""Which budgets must give way, exactly: how many at least, which ones can, and each one's least shortfall.

Definitions (docs/objective.md, "Which budgets must give way"), with every other
hard rule kept and a relaxed budget unbounded:

- **k\\***, the least number of budgets that must give way: one CP-SAT search, a
  0/1 "relaxed" per budget, their count minimised, then the sum of their ranks in
  label order, so that the table's order does not choose the set. Proven when CP-SAT proves it.
- **a slot**: for one budget *s* of the smallest set *S* found, every budget *t*
  (``s`` included) such that relaxing ``S - s + t`` is feasible: the budgets
  that can take *s*'s place. With k* = 1 it is every budget that can give way alone.
- **least shortfall** of *t* in *s*'s slot: min(spending_t - limit_t) over the
  allocations that keep every budget outside ``S - s + t``, with ``S - s`` relaxed.
  It is above 0, or ``S`` would not be smallest.

Each search has a share of the work left and the wall clock; an unfinished one
is reported as "not proven", with the bounds it proved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..factors import SideConstraints
from ..i18n import _
from ..naming import word
from . import cpsat
from .deadline import Deadline
from .relaxation import terms_flow
from .solution import Settings
from .terms import Terms

BUDGETS = "cost"  # the side rows of the cost factor: one budget per university
MAX_SEARCHES = 120  # searches after the first (shortfalls, then replacements): a deterministic cap
FIRST_SHARE = 0.5  # of the work left, for k*
SEARCH_SHARE = 0.1  # of the work left, for each later search


@dataclass
class Candidate:
    """A budget that can give way in one slot, with what is proven about its least shortfall."""

    row: int
    short_at_least: int  # proven lower bound
    short_found: int  # achieved by an allocation
    alone_least: int | None = None  # its least spending with every other budget lifted (one flow)

    @property
    def exact(self) -> bool:
        return self.short_at_least == self.short_found


@dataclass
class Slot:
    member: int
    given_way: list[int]  # S - member: relaxed in every search of this slot
    candidates: list[Candidate] = field(default_factory=list)
    complete: bool = False  # proven: no other budget can take the member's place


class BudgetModel:
    """The assignment model with every budget relaxable: a 0/1 flag per budget lifts its limit."""

    def __init__(self, terms: Terms, policy, settings: Settings, deadline: Deadline):
        rows = terms.side[BUDGETS]
        order = sorted(range(len(rows.labels)), key=lambda r: rows.labels[r])  # label order: the table's order is irrelevant
        renumber = np.empty(len(order), np.int64)
        renumber[order] = np.arange(len(order))
        self.rows = SideConstraints([rows.labels[r] for r in order], rows.rhs[order], renumber[rows.row], rows.pair, rows.coef, rows.unit)
        self.terms, self.rules, self.settings, self.deadline = terms, policy.rules, settings, deadline
        self.base = cpsat.AssignmentModel(terms.pairs, policy.rules)
        slack = self.base.add_rows(self.rows, elastic=True)
        model = self.base.model
        self.flags = []
        for index in slack:
            flag = model.new_bool_var("")
            model.add(model.get_int_var_from_proto_index(index) == 0).only_enforce_if(~flag)
            self.flags.append(flag.index)
        self.searches = 0
        self.stopped = False  # a search was cut short, or the cap reached

    def search(self, weights: np.ndarray, relaxed=(), held=(), at_most: int | None = None, share: float = SEARCH_SHARE):
        """Minimise ``weights . flags`` with the flags of ``relaxed`` on, of ``held`` off, at most ``at_most`` on.

        None when the cap or the wall clock stops the diagnosis before the search."""
        return self._run(weights, relaxed, held, at_most, share, None)

    def least_spending(self, row: int, relaxed=(), held=()):
        """Minimise the spending of budget ``row`` under the same fixings."""
        return self._run(None, relaxed, held, None, SEARCH_SHARE, row)

    def _run(self, weights, relaxed, held, at_most, share, row):
        if self.deadline.expired("budget diagnosis") or self.searches > MAX_SEARCHES:
            self.stopped = True
            return None
        self.searches += 1
        sub = copy.copy(self.base)
        sub.model = self.base.model.clone()
        flag = sub.model.get_bool_var_from_proto_index
        for r in relaxed:
            sub.model.add(flag(self.flags[r]) == 1)
        for r in held:
            sub.model.add(flag(self.flags[r]) == 0)
        if at_most is not None:
            sub.model.add(sum(flag(f) for f in self.flags) <= at_most)
        coef = np.zeros(self.flags[-1] + 1, np.int64)
        if row is None:
            coef[self.flags] = -weights
        else:
            members = self.rows.row == row
            coef[self.rows.pair[members]] = -self.rows.coef[members]
        pairs = len(self.terms.pairs)
        result = sub.solve(
            coef, wall_limit=self.deadline.search_wall(), work_limit=self.deadline.search_work(share, pairs),
            workers=self.settings.workers, seed=self.settings.seed,
        )
        self.deadline.spend(result.work, pairs)
        if result.interrupted:
            raise KeyboardInterrupt
        if result.status not in ("OPTIMAL", "FEASIBLE", "INFEASIBLE"):
            self.stopped = True
        return result

    def relaxed_in(self, chosen: np.ndarray) -> list[int]:
        return np.flatnonzero(self.rows.lhs(chosen.astype(float)) > self.rows.rhs).tolist()

    def alone_least(self, row: int) -> int | None:
        """The row's least spending with every other budget lifted: one exact flow; None once the wall clock is out."""
        if self.deadline.expired("budget diagnosis"):
            self.stopped = True
            return None
        members = self.rows.row == row
        coef = np.zeros(len(self.terms.pairs), np.int64)
        coef[self.rows.pair[members]] = -self.rows.coef[members]
        flow = terms_flow(self.terms, coef, self.rules)
        self.deadline.charge_flows(len(self.terms.pairs))
        return -flow.objective if flow.feasible else None


def budget_conflicts(terms: Terms, policy, settings: Settings, deadline: Deadline) -> tuple[list[dict], dict] | None:
    """The budgets that must give way, as conflicts with sentences, and how the searches ended.

    None unless the budgets are the only side rows (with others, the elastic model weighs which rule gives way).
    """
    if set(name for name, rows in terms.side.items() if len(rows.labels)) != {BUDGETS}:
        return None
    model = BudgetModel(terms, policy, settings, deadline)
    n = len(model.rows.labels)
    tie = n * (n + 1) // 2 + 1  # one budget fewer outweighs any choice among the labels
    first = model.search(tie + np.arange(1, n + 1), share=FIRST_SHARE)
    if first is None or first.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    members = model.relaxed_in(first.chosen)
    if not members:
        return None
    at_least = max(1, int(np.floor(-first.bound + 1e-9)) // tie)
    proven = first.status == "OPTIMAL" or at_least == len(members)
    slots = [_fill_slot(model, members, s, first.chosen) for s in members]  # shortfalls first: they matter most
    for slot in slots:
        _find_replacements(model, slot, len(members))
    info = {
        "found_by": "budget CP-SAT model",
        "budgets_to_give_way": len(members),
        "budgets_to_give_way_at_least": len(members) if proven else at_least,
        "smallest_set": [model.rows.labels[r] for r in members],
        "searches": model.searches,
        "complete": not model.stopped,
    }
    return [_conflict(model, slot, len(members), info["budgets_to_give_way_at_least"]) for slot in slots], info


def _fill_slot(model: BudgetModel, members: list[int], member: int, chosen: np.ndarray) -> Slot:
    given_way = [r for r in members if r != member]
    slot = Slot(member, given_way)
    slot.candidates.append(_least_shortfall(model, member, given_way, chosen))
    return slot


def _least_shortfall(model: BudgetModel, row: int, given_way: list[int], known: np.ndarray) -> Candidate:
    """``row``'s least shortfall with ``given_way`` relaxed and every budget outside ``given_way + row`` kept.

    ``known``: an allocation within those rules, whose shortfall bounds it from above.
    """
    limit = int(model.rows.rhs[row])
    found = int(model.rows.lhs(known.astype(float))[row]) - limit
    alone = model.alone_least(row)
    low = max(0, (alone or 0) - limit)
    if low < found:
        held = [r for r in range(len(model.rows.labels)) if r != row and r not in given_way]
        result = model.least_spending(row, relaxed=given_way, held=held)
        if result is not None and result.status in ("OPTIMAL", "FEASIBLE"):
            found = min(found, int(round(-result.objective)) - limit)
            low = max(low, int(np.ceil(-result.bound - 1e-9)) - limit)
    return Candidate(row, min(low, found), found, alone)


def _find_replacements(model: BudgetModel, slot: Slot, k: int) -> None:
    """Every budget that can give way instead of the slot's member, lowest label first, until none is left or the cap."""
    n = len(model.rows.labels)
    if slot.candidates[0].alone_least is not None and slot.candidates[0].alone_least > model.rows.rhs[slot.member]:
        slot.complete = True  # it cannot be met under any allocation: nothing can take its place
        return
    weights = np.arange(1, n + 1)
    while True:
        held = [c.row for c in slot.candidates]
        result = model.search(weights, relaxed=slot.given_way, held=held, at_most=k)
        if result is None or result.status not in ("OPTIMAL", "FEASIBLE", "INFEASIBLE"):
            return
        if result.status == "INFEASIBLE":
            slot.complete = True
            return
        [row] = [r for r in model.relaxed_in(result.chosen) if r not in slot.given_way] or [None]
        if row is None:
            return
        slot.candidates.append(_least_shortfall(model, row, slot.given_way, result.chosen))


def _owner(label: str) -> str:
    return label.removeprefix("budget of ")


def _amount(candidate: Candidate, unit: str) -> str:
    if candidate.exact:
        return _("{short:,} {unit}, the least possible").format(short=candidate.short_found, unit=unit)
    return _("between {low:,} and {high:,} {unit} (the least is not proven)").format(low=candidate.short_at_least, high=candidate.short_found, unit=unit)


def _conflict(model: BudgetModel, slot: Slot, k: int, at_least: int) -> dict:
    rows, unit = model.rows, word(model.rows.unit)
    candidates = sorted(slot.candidates, key=lambda c: (c.short_found, rows.labels[c.row]))
    names = [_owner(rows.labels[c.row]) for c in candidates]
    first = candidates[0]
    limit = int(rows.rhs[first.row])
    kept = _("with every other budget kept") if k == 1 else _("with the rest of the smallest set giving way and every other budget kept")
    if len(candidates) == 1:
        needs = _("it needs {needed:,} {unit}") if first.exact else _("the best allocation found needs {needed:,} {unit}")
        words = _("University {owner}'s budget is short by {amount}: {kept}, {needs} against a limit of {limit:,}").format(
            owner=names[0], amount=_amount(first, unit), kept=kept, needs=needs.format(needed=limit + first.short_found, unit=unit), limit=limit
        )
        if first.alone_least is not None and first.alone_least <= limit:
            words += _(", though on its own it could be met (it needs at least {alone:,}): it is short only together with the budgets kept").format(alone=first.alone_least)
    elif len({(c.short_at_least, c.short_found) for c in candidates}) == 1:
        words = _("{names} must give way: either is short by {amount}, {kept}").format(names=_(" or ").join(names), amount=_amount(first, unit), kept=kept)
    else:
        each = "; ".join(_("{owner} by {amount}").format(owner=name, amount=_amount(c, unit)) for name, c in zip(names, candidates))
        words = _("One of these budgets must give way, any one of them, each then short by the amount shown, {kept}: {each}").format(kept=kept, each=each)
    if k > 1:
        lead = _("{k} budgets must give way together") if at_least == k else _("at least {at_least} and at most {k} budgets must give way together (not proven)")
        words += _(" ({lead}; the set is listed under smallest_set)").format(lead=lead.format(k=k, at_least=at_least))
    if not slot.complete:
        words += _(". Other budgets may be able to give way in its place (the search was stopped before it proved otherwise)")
    return {
        "kind": "side_constraint",
        "factor": BUDGETS,
        "constraint": rows.labels[first.row],
        "limit": limit,
        "needed": float(limit + first.short_found),
        "short_by": float(first.short_found),
        "unit": rows.unit,
        "shortfall": float(first.short_found),
        "proven_least": first.exact,
        "least_needed": limit + first.short_at_least if first.exact else None,
        "least_short_by": first.short_at_least if first.exact else None,
        "gives_way_with": [rows.labels[r] for r in slot.given_way],
        "alternatives": [
            {
                "constraint": rows.labels[c.row],
                "limit": int(rows.rhs[c.row]),
                "least_short_by": c.short_at_least if c.exact else None,
                "short_by_at_least": c.short_at_least,
                "short_by_found": c.short_found,
                "least_needed_alone": c.alone_least,
            }
            for c in candidates
        ],
        "alternatives_complete": slot.complete,
        "message": words + ".",
    }
