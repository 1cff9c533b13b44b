"""The CP-SAT proto that ``cpsat.AssignmentModel`` writes by hand, against the high-level API."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

import placement_engine as pe
from placement_engine.factors import SideConstraints
from placement_engine.rules import allowed_pairs
from placement_engine.solve import build_terms
from placement_engine.solve.cpsat import AssignmentModel
from tests.factories import QINGHAI_POST, Reference, make_scenario
from tests.strategies import scenarios

ROOT = Path(__file__).resolve().parents[1]


KINDS = ("exactly_one", "at_most_one", "linear")


def kind_of(constraint) -> str:
    """The constraint's type; the placement model uses only these three, unconditionally."""
    kinds = [kind for kind in KINDS if getattr(constraint, f"has_{kind}")()]
    assert len(kinds) == 1 and not list(constraint.enforcement_literal), kinds
    return kinds[0]


def canonical_constraints(proto) -> Counter:
    """Each constraint as (terms, lo, hi) on its reachable range; rows that cannot bind are dropped."""
    rows: Counter = Counter()
    for constraint in proto.constraints:
        kind = kind_of(constraint)
        if kind in ("exactly_one", "at_most_one"):
            literals = list(getattr(constraint, kind).literals)
            assert all(lit >= 0 for lit in literals)
            terms = [(lit, 1) for lit in literals]
            lo, hi = (1 if kind == "exactly_one" else cp_model.INT_MIN), 1
        else:
            terms = list(zip(constraint.linear.vars, constraint.linear.coeffs))
            assert len(constraint.linear.domain) == 2
            lo, hi = constraint.linear.domain
        terms = [(v, c) for v, c in terms if c]
        low = sum(min(c, 0) for _, c in terms)
        high = sum(max(c, 0) for _, c in terms)
        if lo <= low and hi >= high:
            continue
        rows[tuple(sorted(terms)), max(lo, low), min(hi, high)] += 1
    return rows


def canonical_objective(proto) -> tuple:
    """The maximised expression as sorted (var, coef), whatever the sign convention."""
    sign = proto.objective.scaling_factor or 1.0
    terms = [(v, int(c * sign)) for v, c in zip(proto.objective.vars, proto.objective.coeffs) if c]
    return tuple(sorted(terms)), proto.objective.offset * sign


def feasible_set(proto) -> set[tuple[int, ...]]:
    """Every 0/1 assignment that meets every constraint of the proto, read literally."""
    n = len(proto.variables)
    found = set()
    for x in itertools.product((0, 1), repeat=n):
        ok = True
        for constraint in proto.constraints:
            kind = kind_of(constraint)
            if kind == "exactly_one":
                ok = sum(x[lit] for lit in constraint.exactly_one.literals) == 1
            elif kind == "at_most_one":
                ok = sum(x[lit] for lit in constraint.at_most_one.literals) <= 1
            else:
                lo, hi = constraint.linear.domain
                ok = lo <= sum(c * x[v] for v, c in zip(constraint.linear.vars, constraint.linear.coeffs)) <= hi
            if not ok:
                break
        if ok:
            found.add(x)
    return found


def high_level_model(scenario: pe.Scenario, terms) -> tuple[cp_model.CpModel, list]:
    """The same placement model written with the public cp_model API, pair by pair, and its variables."""
    ref = Reference(scenario)
    rules = scenario.policy.rules
    inst = scenario.instance
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(len(terms.pairs))]
    for i, cadre in enumerate(inst.cadre_id):
        mine = [x[a] for a in np.flatnonzero(terms.pairs.cadre == i)]
        if ref.must_place(cadre):
            model.add_exactly_one(mine)
        else:
            model.add_at_most_one(mine)
    for j in range(inst.n_posts):
        here = sum(x[a] for a in np.flatnonzero(terms.pairs.post == j))
        capacity = int(inst.post_capacity[j])
        model.add(here == capacity) if rules.fill_every_post else model.add(here <= capacity)
    for rows in terms.side.values():
        for r in range(len(rows.labels)):
            members = np.flatnonzero(rows.row == r)
            model.add(sum(int(rows.coef[m]) * x[rows.pair[m]] for m in members) <= int(rows.rhs[r]))
    model.maximize(sum(int(c) * x[a] for a, c in enumerate(terms.coef)))
    return model, x


def written_model(scenario: pe.Scenario):
    terms = build_terms(allowed_pairs(scenario.instance, scenario.policy), scenario.policy)
    builder = AssignmentModel(terms.pairs, scenario.policy.rules, list(terms.side.values()))
    builder.solve(terms.coef, wall_limit=10, work_limit=10, workers=1, seed=0)  # writes the objective
    return terms, builder


def tiny(**rules) -> pe.Scenario:
    # Four cadres for four seats (Zibo has two), a budget for sdu that rules out Qinghai, a pin and a forbid.
    return make_scenario(
        ("P370124", {"post_id": "P370303", "capacity": 2}, QINGHAI_POST),
        [
            {"cross_province_ok": True},
            {},
            {"university_id": "sdut", "cross_province_ok": True},
            {"university_id": "ouc"},
        ],
        budgets={"sdu": 12_000},
        wishes={"c1": [QINGHAI_POST], "c2": ["P370303"], "c3": ["370100"], "c4": ["P370124"]},
        pins=[("c3", "P370124", "forbid"), ("c2", "P370303", "pin")],
        policy={
            "rules": rules,
            "factors": {
                "preferences": {"weight": 1},
                "proximity": {"weight": 0.05},
                "cost": {"weight": 0.001, "budget": True},
            },
        },
    )


RULE_CASES = [
    {},
    {"place_every_cadre": False},
    {"place_every_cadre": False, "fill_every_post": True},
    {"fill_every_post": True, "pins": False},
]


@pytest.mark.parametrize("rules", RULE_CASES)
def test_written_proto_equals_the_high_level_model(rules):
    scenario = tiny(**rules)
    terms, builder = written_model(scenario)
    reference, _ = high_level_model(scenario, terms)
    written = builder.model.proto
    assert [list(v.domain) for v in written.variables] == [list(v.domain) for v in reference.proto.variables]
    assert canonical_constraints(written) == canonical_constraints(reference.proto)
    assert canonical_objective(written) == canonical_objective(reference.proto)
    assert feasible_set(written) == feasible_set(reference.proto)
    assert terms.has_side_constraints


@pytest.mark.parametrize("rules", RULE_CASES)
def test_written_proto_has_the_high_level_optimum(rules):
    scenario = tiny(**rules)
    terms, builder = written_model(scenario)
    ours = builder.solve(terms.coef, wall_limit=10, work_limit=10, workers=1, seed=0)
    solver = cp_model.CpSolver()
    status = solver.solve(high_level_model(scenario, terms)[0])
    assert status == cp_model.OPTIMAL and ours.status == "OPTIMAL"
    assert ours.objective == solver.objective_value
    assert int(terms.coef @ ours.chosen) == solver.objective_value


def test_extra_rows_equal_the_high_level_ones():
    scenario = tiny(place_every_cadre=False)
    terms, builder = written_model(scenario)
    indicator = (np.arange(len(terms.pairs)) % 2).astype(np.int64)
    chosen = np.flatnonzero(indicator)
    at_least_two = SideConstraints(["at least two"], np.array([-2]), np.zeros(len(chosen), np.int64), chosen, -indicator[chosen])
    builder.add_rows(at_least_two)
    builder.bound_objective(terms.coef, 150_000)
    reference, x = high_level_model(scenario, terms)
    reference.add(sum(-int(c) * x[a] for a, c in enumerate(indicator) if c) <= -2)
    reference.add(sum(int(c) * x[a] for a, c in enumerate(terms.coef) if c) <= 150_000)
    assert canonical_constraints(builder.model.proto) == canonical_constraints(reference.proto)


# ---- method: cpsat against the flow path -----------------------------------------------------


@settings(max_examples=25)
@given(scenarios(budgets=False), st.booleans())
def test_cpsat_method_finds_the_flow_optimum(scenario, use_relaxation):
    flow = scenario.with_policy(solver={"method": "auto"})
    cpsat = scenario.with_policy(solver={"method": "cpsat", "use_relaxation": use_relaxation})
    try:
        expected = pe.solve(flow)
    except pe.InfeasibleError:
        with pytest.raises(pe.InfeasibleError):
            pe.solve(cpsat)
        return
    got = pe.solve(cpsat)
    assert expected.summary["solver"]["method"] == "min-cost flow"
    assert got.summary["solver"]["method"] == "cp-sat"
    assert got.status == expected.status == "OPTIMAL"
    assert got.summary["objective_scaled"] == expected.summary["objective_scaled"]
    assert got.summary["lexicographic"] == expected.summary["lexicographic"]
    assert got.check().ok


@pytest.mark.parametrize("path", ["tests/fixtures/tiny/scenario.yaml", "scenarios/shandong-2011.yaml"])
def test_cpsat_method_on_shipped_scenarios(path):
    scenario = pe.load_scenario(ROOT / path)
    expected = pe.solve(scenario)
    got = pe.solve(scenario.with_policy(solver={"method": "cpsat"}))
    assert got.summary["solver"]["method"] == "cp-sat"
    assert got.status == expected.status == "OPTIMAL"
    assert got.summary["objective_scaled"] == expected.summary["objective_scaled"]
