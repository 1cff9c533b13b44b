"""Neighbourhood search: improve an allocation within every row by CP-SAT searches of small sub-models.

At scale the full model is too large for CP-SAT to improve in a minute, but
most of an allocation is already right. Each round frees about sixty cadres
and keeps every other cadre on its post; the sub-model places the freed cadres
on the seats the others leave, with every hard rule and every side row (its
limit less what the kept cadres spend), so each of its allocations is one of
the whole model. The current allocation is among them and is the hint, so a
round never makes things worse; an improving one is kept.

Which cadres are freed (deterministic for a seed):

- **wishes**: a few cadres who would gain most from another post, the holders of
  the posts they would gain from, and so on for a second ring;
- **budgets**: the same from every cadre of a few universities whose budget is
  nearly spent, where a budget's limit is what holds its cadres back.

Every cadre of a university with a budget row is freed with the rest of it, so
that the budget can be planned again as a whole. Each round spends a fixed
amount of CP-SAT's deterministic work and charges it, with its sub-model's
loading, to the solve's plan (``deadline.py``); the rounds end when either would
run out, so where the search stops depends on the inputs and the seed only; the
wall clock only cuts it short.
"""

from __future__ import annotations

import numpy as np

from ..factors import SideConstraints
from ..instance import PairTable
from ..rules import must_place
from . import cpsat
from .deadline import SEARCH_SECONDS_PER_WORK, SUB_MODEL_SECONDS_PER_PAIR, Deadline
from .knapsack import GroupRows
from .solution import Settings
from .terms import restrict_rows

# Below this many cadres the full search, hinted with the ascent's allocation, proves the optimum itself
# (the default budget scenario's 156 cadres in about 25 s): the rounds would only take its work.
MIN_CADRES = 400
# Cadres freed per round, and CP-SAT's deterministic work per round. From the master's rounding, in 60 s:
# 60 and 0.3 reached 55,191.5 points at 982 cadres and 179,972.9 nationally; 100 and 0.5 55,102.8 and
# 179,866.6; 60 and 0.2 55,201.5 and 179,762.6; 150 and 0.75, 55,004.4 at 982. At national scale,
# 250-500 gave sub-models CP-SAT did not improve within a round's work.
NEIGHBOURHOOD_CADRES = 60
ROUND_WORK = 0.3
MAX_ROUNDS = 200
SHARE = 0.5  # of the work the maximisation has left; the rest goes to the full search
SEEDS_PER_BATCH = 2
RINGS = 2


def worth_searching(pairs: PairTable) -> bool:
    return pairs.instance.n_cadres >= MIN_CADRES


def improve(
    pairs: PairTable, rules, coef: np.ndarray, side: list[SideConstraints], start: np.ndarray, settings: Settings, deadline: Deadline,
    work: float, plan: float,
) -> tuple[np.ndarray, int, dict]:
    """The best allocation the rounds find from ``start`` (within every row), its objective, and counts for the stats.

    The rounds spend at most ``work`` of CP-SAT's deterministic time and ``plan`` reference seconds.

    Ctrl-C during a round ends the rounds (``neighbourhood_interrupted``); the best allocation so far stands.
    """
    best, best_objective = start.copy(), int(coef[start > 0].sum())
    groups = GroupRows.of(pairs, side)
    must = must_place(pairs.instance, rules)
    rng = np.random.default_rng(settings.seed)
    spent, rounds, improved, ended_by = 0.0, 0, 0, ""
    loading = SUB_MODEL_SECONDS_PER_PAIR * len(pairs)
    planned_end = deadline.charged + plan
    for rounds in range(1, MAX_ROUNDS + 1):
        over_plan = deadline.charged + SEARCH_SECONDS_PER_WORK * ROUND_WORK + loading > planned_end
        if spent + ROUND_WORK > work or over_plan or deadline.expired("neighbourhood search"):
            rounds -= 1
            break
        free = _neighbourhood(pairs, coef, best, groups, rng, "budgets" if groups is not None and rounds % 2 == 0 else "wishes")
        chosen, used, ended_by = _solve_sub(pairs, rules, coef, side, best, free, must, settings, deadline, ROUND_WORK, rounds)
        spent += used
        deadline.spend(used)
        deadline.charge(loading)
        objective = int(coef[chosen > 0].sum())
        if objective > best_objective:
            best, best_objective, improved = chosen, objective, improved + 1
        if ended_by == "wall clock":
            deadline.cut("neighbourhood search")
        if ended_by in ("wall clock", "interrupted"):
            break
    stats = {"neighbourhood_rounds": rounds, "neighbourhood_improvements": improved, "neighbourhood_work": spent}
    return best, best_objective, stats | {"neighbourhood_interrupted": ended_by == "interrupted"}


def _neighbourhood(pairs: PairTable, coef, chosen, groups: GroupRows | None, rng, kind: str) -> np.ndarray:
    """The cadres to free, as a mask, grown from random seeds until it holds NEIGHBOURHOOD_CADRES."""
    n_cadres = pairs.instance.n_cadres
    now = np.zeros(n_cadres)
    now[pairs.cadre[chosen > 0]] = coef[chosen > 0]
    placed = np.zeros(n_cadres, bool)
    placed[pairs.cadre[chosen > 0]] = True
    best_possible = np.full(n_cadres, -np.inf)
    np.maximum.at(best_possible, pairs.cadre, coef.astype(float))
    regret = np.where(placed, best_possible - now, np.maximum(best_possible, 0.0))
    holder = np.full(pairs.instance.n_posts, -1)
    holder[pairs.post[chosen > 0]] = pairs.cadre[chosen > 0]  # one of them, when a post has several seats
    gains = coef > now[pairs.cadre]
    if kind == "budgets":
        slack = groups.rhs - groups.spend(pairs, chosen)
        tight = np.flatnonzero(slack <= np.quantile(slack, 0.25))
        rows = rng.choice(tight, size=min(len(tight), 64), replace=False)
        candidates = np.flatnonzero(np.isin(groups.row_of_cadre, rows))
    else:
        candidates = np.flatnonzero(regret > 0)
    if not len(candidates):
        candidates = np.arange(n_cadres)
    # the seeds: candidates in a random order weighted by regret, so that the cadres most held back come first
    weight = regret[candidates] / max(float(regret[candidates].mean()), 1.0) + 0.1
    order = candidates[np.argsort(-rng.random(len(candidates)) ** (1.0 / weight), kind="stable")]
    free = np.zeros(n_cadres, bool)
    for first in range(0, len(order), SEEDS_PER_BATCH):
        ring = np.zeros(n_cadres, bool)
        ring[order[first : first + SEEDS_PER_BATCH]] = True
        batch = np.zeros(n_cadres, bool)
        for _ in range(RINGS):
            grown = batch | _with_universities(ring, groups)
            if batch.any() and (free | grown).sum() > 2 * NEIGHBOURHOOD_CADRES:
                break  # the next ring reaches into too many universities for a sub-model CP-SAT solves quickly
            batch = grown
            wanted = np.unique(pairs.post[ring[pairs.cadre] & gains])
            ring = np.zeros(n_cadres, bool)
            ring[holder[wanted][holder[wanted] >= 0]] = True
            ring &= ~batch & ~free
        else:
            grown = batch | _with_universities(ring, groups)
            batch = grown if (free | grown).sum() <= 2 * NEIGHBOURHOOD_CADRES else batch
        if free.any() and (free | batch).sum() > 2 * NEIGHBOURHOOD_CADRES:
            break
        free |= batch
        if free.sum() >= NEIGHBOURHOOD_CADRES:
            break
    return free


def _with_universities(cadres: np.ndarray, groups: GroupRows | None) -> np.ndarray:
    """``cadres`` and every other cadre of their rows."""
    if groups is None:
        return cadres
    rows = np.unique(groups.row_of_cadre[cadres])
    return cadres | np.isin(groups.row_of_cadre, rows[rows >= 0])


def _solve_sub(pairs: PairTable, rules, coef, side, chosen, free, must, settings: Settings, deadline: Deadline, work: float, round_number: int):
    """The best allocation that keeps every cadre outside ``free`` on its post in ``chosen``, with the work spent
    and what stopped the search (``CpResult.stopped_by``). ``chosen`` itself when the search finds nothing better."""
    inst = pairs.instance
    kept = (chosen > 0) & ~free[pairs.cadre]
    seats = inst.post_capacity - np.bincount(pairs.post[kept], minlength=inst.n_posts)
    movable = free[pairs.cadre] & (seats[pairs.post] > 0)
    rows = []
    for row_set in side:
        spent = np.bincount(row_set.row, weights=row_set.coef * kept[row_set.pair], minlength=len(row_set.labels))
        sub = restrict_rows(row_set, movable)
        rows.append(SideConstraints(sub.labels, (row_set.rhs - np.rint(spent)).astype(np.int64), sub.row, sub.pair, sub.coef, sub.unit))
    model = cpsat.AssignmentModel(pairs.subset(movable), rules, rows, capacity=seats, must=must & free)
    result = model.solve(
        coef[movable], wall_limit=deadline.search_wall(), work_limit=work, workers=settings.workers,
        seed=settings.seed + round_number, hint=chosen[movable],
    )
    if result.status not in ("OPTIMAL", "FEASIBLE"):
        return chosen, result.work, result.stopped_by
    found = kept.astype(np.int64)
    found[np.flatnonzero(movable)] = result.chosen
    return found, result.work, result.stopped_by
