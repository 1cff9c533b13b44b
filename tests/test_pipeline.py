"""The one solve pipeline: every path keeps every rule, one deadline, and reproducible results."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from factories import Reference, make_scenario
from hypothesis import given, settings
from strategies import scenarios

import placement_engine as pe
from placement_engine.cli import main
from placement_engine.reports.check import check_allocation
from placement_engine.solve import cpsat
from placement_engine.solve.deadline import Deadline

REPO = Path(__file__).resolve().parents[1]
NATIONAL = REPO / "scenarios" / "national-2011.yaml"


def crossed(**rules) -> pe.Scenario:
    """Two cadres who each wish first for the other's post; pair scores pull them apart."""
    return make_scenario(
        posts=("P370124", "P370303"),
        cadres=({}, {"university_id": "ouc"}),
        wishes={"c1": ["P370303", "P370124"], "c2": ["P370124", "P370303"]},
        pair_scores=[("c1", "P370124", 1000), ("c2", "P370303", 1000)],
        policy={"rules": rules, "factors": {"preferences": {}, "pair_scores": {}, "proximity": {"weight": 0.01}}},
    )


def test_every_pareto_point_keeps_the_swap_rule() -> None:
    # Placing both cadres at their pair-scored posts is the improving swap the rule forbids.
    scenario = crossed(forbid_improving_swaps=True)
    assert pe.solve(scenario).factor_totals["pair_scores"] == 0
    for a, b in (("pair_scores", "preferences"), ("pair_scores", "proximity"), ("proximity", "pair_scores")):
        front = pe.pareto(scenario, a, b, points=4)
        assert (front["status"] == "OPTIMAL").all()
        assert (front["pair_scores"] == 0).all(), front


def brute_force_points(ref: Reference) -> float | None:
    """The most points any allocation reaches (real points, not rounded), by enumeration."""
    best = None
    options = [([p for p in ref.post_ids if ref.allowed(c, p)] if ref.must_place(c) else [None, *[p for p in ref.post_ids if ref.allowed(c, p)]]) for c in ref.cadre_ids]
    for choice in itertools.product(*options):
        load: dict[str, int] = {}
        for post in choice:
            if post is not None:
                load[post] = load.get(post, 0) + 1
        if any(load.get(p, 0) > ref.posts[p].capacity for p in ref.post_ids):
            continue
        if ref.policy.rules.fill_every_post and any(load.get(p, 0) < ref.posts[p].capacity for p in ref.post_ids):
            continue
        points = sum(ref.points(c, p) for c, p in zip(ref.cadre_ids, choice) if p is not None)
        best = points if best is None else max(best, points)
    return best


@settings(max_examples=25)
@given(scenarios(max_cadres=4, max_posts=4, budgets=False))
def test_the_best_bound_is_never_below_an_allocation_found_by_brute_force(scenario) -> None:
    scenario = scenario.with_policy(rules={"place_every_cadre": False, "fill_every_post": False})
    best = brute_force_points(Reference(scenario))
    if best is None:  # pins can leave a pinned cadre no seat
        with pytest.raises(pe.InfeasibleError):
            pe.solve(scenario)
        return
    allocation = pe.solve(scenario)
    assert allocation.bound >= best - 1e-9
    assert allocation.objective <= allocation.bound + 1e-9


def test_the_bound_allows_for_cadres_the_optimum_leaves_unplaced() -> None:
    # One cadre scores -0.0004 points (rounds to 0) at each of two posts: the optimum places nobody,
    # and a bound from the rounded objective alone would sit below the allocation that places one.
    scenario = make_scenario(
        posts=("P370124", "P370303"),
        cadres=({}, {}),
        pair_scores=[("c1", "P370124", -0.0004), ("c2", "P370303", 0.0004)],
        policy={"rules": {"place_every_cadre": False}, "factors": {"pair_scores": {}}},
    )
    allocation = pe.solve(scenario)
    assert allocation.bound >= 0.0004


def test_a_model_cp_sat_calls_invalid_is_an_internal_error(monkeypatch, capsys, tmp_path) -> None:
    real_init = cpsat.AssignmentModel.__init__

    def broken(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        variable = self.model.proto.variables.add()
        variable.domain.extend([3, 1])  # an empty domain

    monkeypatch.setattr(cpsat.AssignmentModel, "__init__", broken)
    scenario = crossed(forbid_improving_swaps=False).with_policy(solver={"method": "cpsat"})
    with pytest.raises(pe.SolverError, match="CP-SAT rejected the model"):
        pe.solve(scenario)
    budget = REPO / "scenarios" / "shandong-2011-budget.yaml"
    assert main(["solve", str(budget), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert "CP-SAT rejected the model" in capsys.readouterr().err


def test_the_national_budget_solve_ends_within_its_time_limit() -> None:
    scenario = pe.load_scenario(NATIONAL)
    units = scenario.tables["universities"].copy()
    # 90 % of a generous per-university figure: binding, so the search runs to the clock
    units["budget_yuan"] = 0.9 * 20_000 * scenario.tables["cadres"].groupby("university_id").size().reindex(units["university_id"]).fillna(0).to_numpy()
    tables = {**scenario.tables, "universities": units}
    tight = pe.scenario_from_tables(tables, scenario.policy.override({"factors": {"cost": {"budget": True}}}), name="national-budgets")
    tight.instance  # noqa: B018 - built before the clock starts, as a loaded scenario's is
    limit = 2.0
    started = time.perf_counter()
    try:
        allocation = pe.solve(tight, time_limit=limit)
        stopped = allocation.summary["stopped_by"]
    except pe.NoSolutionError as error:
        stopped = str(error)
    assert time.perf_counter() - started < limit + 1.0, stopped


def test_the_deadline_counts_work_and_remembers_what_the_clock_cut() -> None:
    deadline = Deadline(0.0, work=5.0)
    assert deadline.expired("lagrangian") and deadline.pre_phase_over("knapsack bound")
    assert deadline.clock_stopped == ["lagrangian", "knapsack bound"]
    deadline.spend(2.0)
    assert deadline.work_left == 3.0


def test_a_search_stopped_by_its_work_limit_is_reproducible(tmp_path) -> None:
    budget = pe.load_scenario(REPO / "scenarios" / "shandong-2011-budget.yaml")
    # far less work than the proof needs (about 20 units), and a wall clock that never binds
    policy = budget.policy.override({"solver": {"work_limit": 1.0, "time_limit_s": 600}})
    runs = [pe.solve(budget, policy) for _ in range(2)]
    for run in runs:
        assert run.summary["stopped_by"] == "work limit" and run.summary["reproducible"]
        assert check_allocation(budget.with_policy(policy), run.table).ok
    assert runs[0].table.equals(runs[1].table)


def test_cp_sat_gets_the_work_limit_and_the_wall_clock_only_as_a_cap(monkeypatch) -> None:
    seen = []
    real = cpsat.AssignmentModel.solve

    def spy(self, coef, **kwargs):
        seen.append((kwargs["wall_limit"], kwargs["work_limit"]))
        return real(self, coef, **kwargs)

    monkeypatch.setattr(cpsat.AssignmentModel, "solve", spy)
    scenario = crossed().with_policy(solver={"method": "cpsat", "time_limit_s": 30, "work_limit": 7})
    pe.solve(scenario)
    wall, work = seen[0]
    assert work == 7 and 25 < wall <= 30


def test_every_caller_goes_through_the_one_entry_point(monkeypatch) -> None:
    from placement_engine.solve import pipeline

    calls = []
    real = pipeline.solve_model

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    for module in ("placement_engine.allocation", "placement_engine.reports.explain", "placement_engine.runner.fronts"):
        monkeypatch.setattr(f"{module}.solve_model", counted)
    scenario = crossed(forbid_improving_swaps=True)
    allocation = pe.solve(scenario)
    assert len(calls) == 1
    pe.explain(allocation, "c1")
    pe.pareto(scenario, "pair_scores", "preferences", points=2)
    pe.sweep(scenario, {"proximity": [0, 0.1]}, backend="sequential")
    assert len(calls) >= 5


def test_the_plan_is_counted_from_sizes_and_caps_every_search() -> None:
    deadline = Deadline(60.0)
    assert deadline.plan_left() == pytest.approx(45.0)
    deadline.charge_flows(1_000_000, 10)  # ten flows of a million pairs: 3 reference seconds
    deadline.spend(2.0, model_pairs=1_000_000)  # 2 work units and a model to load: 2.9 + 3 seconds
    assert deadline.plan_left() == pytest.approx(45.0 - 3.0 - 2.9 - 3.0)
    assert deadline.search_work(0.5, 0) == pytest.approx(0.5 * (45.0 - 8.9) / 1.45)
    assert Deadline(60.0, work=1.0).search_work(1.0, 0) == 1.0  # an explicit work limit below the plan stands


def test_a_search_without_a_work_limit_gets_the_plan_not_the_clock(monkeypatch) -> None:
    seen = []
    real = cpsat.AssignmentModel.solve

    def spy(self, coef, **kwargs):
        seen.append(kwargs["work_limit"])
        return real(self, coef, **kwargs)

    monkeypatch.setattr(cpsat.AssignmentModel, "solve", spy)
    pe.solve(crossed().with_policy(solver={"method": "cpsat", "time_limit_s": 30}))
    # three quarters of the limit in reference seconds, at 1.45 s per unit, less the steps before it
    assert 0.7 * 30 / 1.45 < seen[0] <= 0.75 * 30 / 1.45
