"""The min-cost-flow layer: its dual bound and certificate, checked against scipy's LP solver.

Networks follow ``flow.py``: ``supply[v]`` is out-flow minus in-flow at node ``v``.
A network LP has integral vertices, so HiGHS' dual simplex gives the integer optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from placement_engine.solve.flow import dual_value, residual_potentials, solve_transportation


@st.composite
def networks(draw):
    """(tail, head, cap, cost, supply) of a random network; the supplies are those of some feasible flow."""
    n = draw(st.integers(2, 7))
    arcs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, n - 1), st.integers(0, 3), st.integers(-10, 10)),
            min_size=1,
            max_size=14,
        )
    )
    tail, step, cap, cost = (np.array(column, np.int64) for column in zip(*arcs))
    head = (tail + step) % n  # never a loop
    flow = np.array([draw(st.integers(0, int(c))) for c in cap], np.int64)
    supply = np.bincount(tail, weights=flow, minlength=n) - np.bincount(head, weights=flow, minlength=n)
    return tail, head, cap, cost, supply.astype(np.int64)


def min_cost_flow_lp(tail, head, cap, cost, supply):
    """(minimum cost, an optimal integral flow) of a feasible network."""
    n = len(supply)
    incidence = np.zeros((n, len(tail)))
    incidence[tail, np.arange(len(tail))] += 1
    incidence[head, np.arange(len(tail))] -= 1
    result = linprog(cost, A_eq=incidence, b_eq=supply, bounds=list(zip([0] * len(cap), cap)), method="highs-ds")
    assert result.status == 0
    flow = np.rint(result.x).astype(np.int64)
    assert np.array_equal(incidence @ flow, supply)
    return int(cost @ flow), flow


@settings(max_examples=60)
@given(networks(), st.data())
def test_dual_value_of_any_potentials_is_a_lower_bound(network, data):
    optimum = min_cost_flow_lp(*network)
    potentials = np.array(data.draw(st.lists(st.integers(-30, 30), min_size=len(network[4]), max_size=len(network[4]))))
    assert dual_value(*network, potentials) <= optimum[0]


@settings(max_examples=60)
@given(networks())
def test_residual_potentials_of_an_optimal_flow_certify_it(network):
    optimum = min_cost_flow_lp(*network)
    tail, head, cap, cost, supply = network
    potentials = residual_potentials(tail, head, cap, cost, optimum[1], len(supply))
    assert dual_value(tail, head, cap, cost, supply, potentials) == optimum[0]


@st.composite
def transportation(draw):
    n_cadres = draw(st.integers(1, 6))
    n_posts = draw(st.integers(1, 5))
    capacity = np.array(draw(st.lists(st.integers(1, 3), min_size=n_posts, max_size=n_posts)), np.int64)
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n_cadres - 1), st.integers(0, n_posts - 1)), min_size=1, unique=True)
    )
    cadre, post = (np.array(column, np.int64) for column in zip(*sorted(pairs)))
    coef = np.array(draw(st.lists(st.integers(-50, 50), min_size=len(pairs), max_size=len(pairs))), np.int64)
    place = draw(st.one_of(st.booleans(), st.lists(st.booleans(), min_size=n_cadres, max_size=n_cadres)))
    return cadre, post, coef, n_cadres, capacity, place, draw(st.booleans())


def stack(blocks):
    """(A, b) of the non-empty row blocks, or (None, None)."""
    blocks = [(a, b) for a, b in blocks if len(b)]
    if not blocks:
        return None, None
    return np.vstack([a for a, _ in blocks]), np.concatenate([b for _, b in blocks])


def transportation_lp(cadre, post, coef, n_cadres, capacity, place, fill):
    """Maximum of coef.x under the assignment rows, or None when infeasible."""
    must = np.broadcast_to(np.asarray(place, bool), (n_cadres,))
    rows = np.zeros((n_cadres, len(cadre)))
    rows[cadre, np.arange(len(cadre))] = 1
    cols = np.zeros((len(capacity), len(cadre)))
    cols[post, np.arange(len(cadre))] = 1
    seats = (cols, capacity)
    eq = [(rows[must], np.ones(must.sum())), *([seats] if fill else [])]
    ub = [(rows[~must], np.ones((~must).sum())), *([] if fill else [seats])]
    result = linprog(-coef, *stack(ub), *stack(eq), bounds=(0, 1), method="highs-ds")
    if result.status == 2:
        return None
    assert result.status == 0
    return int(round(-result.fun))


@settings(max_examples=80)
@given(transportation())
def test_transportation_certificate_matches_the_lp_optimum(instance):
    cadre, post, coef, n_cadres, capacity, place, fill = instance
    optimum = transportation_lp(*instance)
    result = solve_transportation(*instance)
    assert result.feasible == (optimum is not None)
    if optimum is None:
        return
    assert result.objective == result.bound == optimum
    chosen = result.chosen
    assert set(np.unique(chosen)) <= {0, 1}
    per_cadre = np.bincount(cadre, weights=chosen, minlength=n_cadres)
    per_post = np.bincount(post, weights=chosen, minlength=len(capacity))
    assert (per_cadre <= 1).all() and (per_cadre[np.broadcast_to(np.asarray(place, bool), (n_cadres,))] == 1).all()
    assert (per_post == capacity).all() if fill else (per_post <= capacity).all()


def test_transportation_certificate_on_the_forced_example():
    # Cadre 0 prefers post 0 (10 vs 1), but only it can take post 1, which must be filled.
    result = solve_transportation(
        np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([10, 1, 5]), 2, np.array([1, 1]), True, True
    )
    assert result.feasible and result.objective == result.bound == 6
    assert result.chosen.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "n_cadres, capacity, place, fill, status",
    [
        (3, [1, 1], True, True, "UNBALANCED"),  # more cadres than seats, and every seat and cadre must match
        (1, [1, 1], True, True, "UNBALANCED"),  # fewer cadres than seats to fill
        (1, [1, 1], False, True, "UNBALANCED"),
        (3, [1, 1], True, False, "INFEASIBLE"),  # balance is fine on paper (a sink), but there is no room
        (3, [1, 1], [True, True, True], False, "INFEASIBLE"),
    ],
)
def test_infeasible_balance_is_detected(n_cadres, capacity, place, fill, status):
    cadre = np.repeat(np.arange(n_cadres), 2)
    post = np.tile([0, 1], n_cadres)
    result = solve_transportation(cadre, post, np.ones(len(cadre), np.int64), n_cadres, np.array(capacity), place, fill)
    assert not result.feasible
    assert result.status == status
    assert not result.chosen.any()


@pytest.mark.parametrize("place, feasible", [([False, True], False), ([True, False], True), (False, True)])
def test_a_cadre_without_any_pair_can_only_be_left_out(place, feasible):
    # Two cadres, one pair (cadre 0 -> post 0): cadre 1 must not be one that has to be placed.
    result = solve_transportation(np.array([0]), np.array([0]), np.array([1]), 2, np.array([2]), place, False)
    assert result.feasible == feasible
