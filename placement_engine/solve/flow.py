"""Exact transportation solver with an independently checkable optimality certificate.

Without side constraints the placement problem is a transportation problem:
cadres supply one unit each, posts take up to (or exactly) their capacity, and
each allowed pair is an arc. OR-Tools' ``SimpleMinCostFlow`` solves it exactly
on the integer objective. We then compute node potentials from shortest paths in
the residual graph; they give a feasible solution of the dual LP, whose value is
an upper bound on *every* allocation's objective. When that bound equals the
objective of the flow, the allocation is certified optimal, whatever the flow
code did. The bound is valid for any potentials, so a wrong certificate can only
show up as a gap, never as a false claim of optimality.

Network: node i < C is cadre i, node C + j is post j, node C + P is the sink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

INT64_SAFE = 2**62


@dataclass
class FlowResult:
    feasible: bool
    chosen: np.ndarray  # 0/1 per pair
    objective: int  # sum of coef over chosen pairs
    bound: int  # dual bound on the maximum of sum(coef * x)
    status: str  # the flow solver's own status name
    real_bound: float | None = None  # dual bound on the maximum of sum(real_coef * x), if asked
    reduced: np.ndarray | None = None  # per pair: how much forcing it in lowers real_bound at least
    potential: np.ndarray | None = None  # node potentials behind ``bound`` (cadres, posts, then the sink)


def solve_transportation(
    cadre: np.ndarray,
    post: np.ndarray,
    coef: np.ndarray,
    n_cadres: int,
    capacity: np.ndarray,
    place_every_cadre: bool | np.ndarray,
    fill_every_post: bool,
    real_coef: np.ndarray | None = None,
) -> FlowResult:
    """Maximise ``sum(coef[a] * x[a])`` over 0/1 pair variables with the assignment rows.

    ``place_every_cadre`` is one flag for all cadres, or one per cadre (pinned cadres must be placed).
    ``real_coef``: real-valued coefficients that ``coef`` rounds. The same potentials then
    also certify a bound for them (valid whatever the rounding), and give each pair's
    reduced cost: forcing pair ``a`` in lowers that bound by at least ``reduced[a]``.
    """
    n_posts = len(capacity)
    sink = n_cadres + n_posts
    tails = [cadre.astype(np.int64)]
    heads = [n_cadres + post.astype(np.int64)]
    caps = [np.ones(len(cadre), np.int64)]
    costs = [-coef.astype(np.int64)]
    must_place = np.broadcast_to(np.asarray(place_every_cadre, bool), (n_cadres,))
    optional = np.flatnonzero(~must_place).astype(np.int64)
    if len(optional):
        tails.append(optional)
        heads.append(np.full(len(optional), sink, np.int64))
        caps.append(np.ones(len(optional), np.int64))
        costs.append(np.zeros(len(optional), np.int64))
    if not fill_every_post:
        tails.append(n_cadres + np.arange(n_posts, dtype=np.int64))
        heads.append(np.full(n_posts, sink, np.int64))
        caps.append(capacity.astype(np.int64))
        costs.append(np.zeros(n_posts, np.int64))
    tail, head, cap, cost = (np.concatenate(part) for part in (tails, heads, caps, costs))
    supply = np.zeros(sink + 1, np.int64)
    supply[:n_cadres] = 1
    if fill_every_post:
        supply[n_cadres:sink] = -capacity
    supply[sink] = -int(supply[:sink].sum())

    n_pairs = len(cadre)
    if supply[sink] > 0 or (supply[sink] < 0 and must_place.all() and fill_every_post):
        return FlowResult(False, np.zeros(n_pairs, np.int64), 0, 0, "UNBALANCED")
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    solver.set_nodes_supplies(np.arange(sink + 1), supply)
    status = solver.solve()
    name = {getattr(solver, s): s for s in ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNBALANCED", "BAD_RESULT", "BAD_COST_RANGE", "BAD_CAPACITY_RANGE", "NOT_SOLVED")}.get(status, str(status))
    if status != solver.OPTIMAL:
        return FlowResult(False, np.zeros(n_pairs, np.int64), 0, 0, name)
    flow = solver.flows(arcs).astype(np.int64)
    chosen = flow[:n_pairs]
    objective = int(coef[chosen > 0].sum())
    potential = residual_potentials(tail, head, cap, cost, flow, sink + 1)
    bound = -dual_value(tail, head, cap, cost, supply, potential)
    result = FlowResult(True, chosen, objective, bound, name, potential=potential)
    if real_coef is not None:
        real_cost = cost.astype(float)
        real_cost[:n_pairs] = -real_coef
        result.real_bound = -dual_value(tail, head, cap, real_cost, supply, potential)
        result.reduced = (real_cost + potential[tail] - potential[head])[:n_pairs]
    return result


def residual_potentials(tail, head, cap, cost, flow, n_nodes: int, max_rounds: int | None = None) -> np.ndarray:
    """Shortest-path distances in the residual graph from a virtual root (Bellman-Ford, vectorised).

    At a min-cost flow the residual graph has no negative cycle, so the distances
    are finite and every residual arc has a non-negative reduced cost.
    """
    forward = flow < cap
    backward = flow > 0
    r_tail = np.concatenate([tail[forward], head[backward]])
    r_head = np.concatenate([head[forward], tail[backward]])
    r_cost = np.concatenate([cost[forward], -cost[backward]])
    order = np.argsort(r_head, kind="stable")
    r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
    heads, starts = np.unique(r_head, return_index=True)
    dist = np.zeros(n_nodes, np.int64)
    for _ in range(max_rounds or n_nodes + 1):
        best = np.minimum.reduceat(dist[r_tail] + r_cost, starts) if len(starts) else np.zeros(0, np.int64)
        improved = best < dist[heads]
        if not improved.any():
            return dist
        dist[heads[improved]] = best[improved]
    return dist  # still changing: the bound this gives is valid but loose


def dual_value(tail, head, cap, cost, supply, potential):
    """Value of the dual LP solution given by node potentials: a lower bound on the min cost.

    Dual: max sum_v b_v y_v - sum_a u_a w_a  s.t.  y_tail - y_head - w_a <= c_a, w >= 0.
    With y = -potential and w_a = max(0, -(c_a + potential_tail - potential_head)) it is feasible.
    """
    reduced = cost + potential[tail] - potential[head]
    value = -(supply * potential).sum() - (cap * np.maximum(0, -reduced)).sum()
    return int(value) if np.issubdtype(np.asarray(cost).dtype, np.integer) else float(value)
