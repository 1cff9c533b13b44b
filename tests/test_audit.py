"""The fairness audit (improving swaps, blocking pairs, wish statistics) and the swap-free rule."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.reports.audit import audit_output_dir, audit_terms
from placement_engine.reports.check import check_allocation
from placement_engine.rules import allowed_pairs
from placement_engine.solve import build_terms
from tests.factories import Reference, best_assignment, make_scenario, placed, scored
from tests.strategies import scenarios

REPO = Path(__file__).resolve().parents[1]
SIDE_FACTORS = ("relay", "partnership", "rank_fit")


def crossed() -> pe.Scenario:
    """Two cadres who each wish first for the other's post; pair scores pull them the wrong way."""
    return make_scenario(
        posts=("P370124", "P370303"),
        cadres=({}, {"university_id": "ouc"}),
        wishes={"c1": ["P370303", "P370124"], "c2": ["P370124", "P370303"]},
        pair_scores=[("c1", "P370124", 500), ("c2", "P370303", 500)],
        policy={"factors": {"preferences": {}, "pair_scores": {}}},
    )


def test_an_improving_swap_is_reported_and_indifferent_posts_justify_no_envy() -> None:
    allocation = pe.solve(crossed())
    assert placed(allocation) == {"c1": "P370124", "c2": "P370303"}
    audit = allocation.audit
    assert audit.swaps[
        ["cadre_a", "post_a", "wish_a_now", "wish_a_after", "cadre_b", "post_b", "wish_b_now", "wish_b_after"]
    ].values.tolist() == [["c1", "P370124", 2, 1, "c2", "P370303", 2, 1]]
    assert audit.swaps["sentence"].iat[0] == (
        "c1 (P370124, wish 2) and c2 (P370303, wish 2) would both gain by exchanging posts: c1 would meet wish 1, c2 wish 1"
    )
    # no side factor is on, so each post ranks both cadres alike: a tie blocks nothing (weak stability)
    assert audit.blocking.empty
    summary = allocation.summary["audit"]
    assert (summary["improving_swaps"], summary["blocking_pairs"], summary["envious_cadres"]) == (1, 0, 0)
    assert summary["swaps"] == [{"cadre_a": "c1", "post_a": "P370124", "cadre_b": "c2", "post_b": "P370303"}]


def test_posts_that_rank_the_wishers_first_make_blocking_pairs_both_ways() -> None:
    tables = {name: frame.copy() for name, frame in crossed().tables.items()}
    tables["post_priorities"] = pd.DataFrame({"post_id": ["P370124", "P370303"], "cadre_id": ["c2", "c1"], "priority": [1, 1]})
    allocation = pe.solve(pe.scenario_from_tables(tables, crossed().policy))
    blocking = allocation.audit.blocking
    assert sorted(zip(blocking["cadre"], blocking["blocking_post"], blocking["displaced"])) == [
        ("c1", "P370303", "c2"),
        ("c2", "P370124", "c1"),
    ]
    summary = allocation.summary["audit"]
    assert (summary["blocking_pairs"], summary["justified_envy"], summary["through_empty_seats"], summary["envious_cadres"]) == (2, 2, 0, 2)
    assert "stability      2 blocking pairs, 0 of them through an empty seat" in allocation.audit.headline()


def test_wish_statistics_per_university() -> None:
    allocation = pe.solve(crossed())
    table = allocation.audit.universities.set_index("university_id")
    assert table.loc["sdu", ["cadres", "placed", "first_choice", "top3", "no_wish_met"]].tolist() == [1, 1, 0, 1, 0]
    assert table.loc["ouc", "mean_wish_points"] == 80.0
    spread = allocation.audit.spread
    assert spread["mean_wish_points"]["spread"] == 0.0 and spread["worse_off"] == []


def test_the_swap_free_rule_exchanges_them_and_reports_its_cost() -> None:
    allocation = pe.solve(crossed().with_policy(rules={"forbid_improving_swaps": True}))
    assert placed(allocation) == {"c1": "P370303", "c2": "P370124"}
    assert allocation.status == "OPTIMAL" and allocation.check().ok
    assert allocation.summary["swap_rule"] == {
        "rounds": 1,
        "rows": 1,
        "objective_without_rule": 1160.0,
        "status_without_rule": "OPTIMAL",
        "objective": 200.0,
        "cost": 960.0,
    }
    assert allocation.summary["audit"]["improving_swaps"] == 0


def test_check_reports_an_improving_swap_only_under_the_swap_free_rule() -> None:
    allocation = pe.solve(crossed())

    strict = check_allocation(crossed().with_policy(rules={"forbid_improving_swaps": True}), allocation.table)

    assert not strict.ok
    assert [v for v in strict.violations if v.startswith("improving swap")] == [
        "improving swap, which the swap-free rule forbids: " + allocation.audit.swaps["sentence"].iloc[0]
    ]
    assert check_allocation(crossed(), allocation.table).ok


def test_a_swap_the_budget_blocks_is_not_reported() -> None:
    scenario = pe.load_scenario(REPO / "scenarios" / "infeasible" / "swap-rule-budget.yaml")
    allocation = pe.solve(scenario.with_policy(rules={"forbid_improving_swaps": False}))
    # both would rather exchange, but sdu cannot afford Jimo
    assert len(allocation.audit.swaps) == 0


def test_swap_free_cost_on_the_default_scenario_as_documented() -> None:
    """docs/explanations.md reports these figures."""
    scenario = pe.load_scenario(REPO / "scenarios" / "shandong-2011.yaml")
    free = pe.solve(scenario.with_policy(rules={"forbid_improving_swaps": True}))
    assert free.summary["swap_rule"]["rounds"] == 0 and free.summary["swap_rule"]["cost"] == 0.0
    partners = scenario.with_policy(factors={"partnership": {"weight": 100}})
    assert pe.solve(partners).summary["audit"]["improving_swaps"] == 1
    free = pe.solve(partners.with_policy(rules={"forbid_improving_swaps": True}))
    rule = free.summary["swap_rule"]
    assert (rule["rounds"], rule["rows"], round(rule["cost"], 2)) == (2, 2, 4.28)
    assert free.status == "OPTIMAL" and free.summary["audit"]["improving_swaps"] == 0 and free.check().ok


# ---- hypothesis: reported swaps and envy against brute force ---------------------------------


def better(ref: Reference, cadre: str, new: str, old: str) -> bool:
    after, before = ref.wish_number(cadre, new), ref.wish_number(cadre, old)
    return after > 0 and (before == 0 or after < before)


def relay_count(ref: Reference, assignment: dict[str, str]) -> int:
    return sum(ref.is_relay(c, p) for c, p in assignment.items() if p)


def priority(ref: Reference, cadre: str, post: str) -> float:
    """The post's priority for the cadre by the documented rule: side points, a pinned cadre above all."""
    if ref.policy.rules.pins and ref.pins.get((cadre, post)) == "pin":
        return np.inf
    raw = ref.raw_scores(cadre, post)
    return sum(ref.factors[name].weight * raw[name] for name in SIDE_FACTORS if name in raw and name in ref.factors)


def blocking_pairs(ref: Reference, assignment: dict[str, str]) -> set[tuple[str, str]]:
    found = set()
    for cadre, post in itertools.product(ref.cadre_ids, ref.post_ids):
        own = assignment[cadre]
        if post == own or not ref.allowed(cadre, post) or not ref.wish_number(cadre, post):
            continue
        if own and not better(ref, cadre, post, own):
            continue
        holders = [d for d, p in assignment.items() if p == post]
        if len(holders) < ref.posts[post].capacity or any(priority(ref, cadre, post) > priority(ref, d, post) + 1e-9 for d in holders):
            found.add((cadre, post))
    return found


@settings(max_examples=40)
@given(scenarios(max_cadres=7, max_posts=6, place_fill=False), st.integers(0, 2**32 - 1))
def test_reported_swaps_are_exactly_the_improving_ones(scenario: pe.Scenario, seed: int) -> None:
    """Any allocation that meets the pair and place/fill rules: here the best one for random pair values."""
    ref = Reference(scenario)
    values = np.random.default_rng(seed).random((len(ref.cadre_ids), len(ref.post_ids)))
    index = {p: k for k, p in enumerate(ref.post_ids)}
    found = best_assignment(ref, lambda c, p: values[ref.cadre_ids.index(c), index[p]])
    assume(found is not None)
    assignment = {c: found[1].get(c, "") for c in ref.cadre_ids}
    inst = scenario.instance
    audit = audit_terms(
        build_terms(allowed_pairs(inst, scenario.policy), scenario.policy),
        scenario.policy,
        inst.post_index([assignment[c] for c in inst.cadre_id]),
    )
    relay_rule = scenario.policy.factors.relay is not None and scenario.policy.factors.relay.mode == "rule"
    expected = set()
    for c1, c2 in itertools.combinations(ref.cadre_ids, 2):
        p1, p2 = assignment[c1], assignment[c2]
        if not p1 or not p2 or p1 == p2 or not (better(ref, c1, p2, p1) and better(ref, c2, p1, p2)):
            continue
        swapped = {**assignment, c1: p2, c2: p1}
        keeps_relay = not relay_rule or relay_count(ref, swapped) >= relay_count(ref, assignment)
        if keeps_relay and check_allocation(scenario, scored(scenario, swapped)).ok:
            expected.add((c1, c2))
    event(f"improving swaps: {'some' if expected else 'none'}")
    assert set(zip(audit.swaps["cadre_a"], audit.swaps["cadre_b"])) == expected
    assert set(zip(audit.blocking["cadre"], audit.blocking["blocking_post"])) == blocking_pairs(ref, assignment)
    for row in audit.blocking.itertuples():
        assert ref.wish_number(row.cadre, row.blocking_post) == row.wish_there > 0
        assert row.empty_seat or assignment[row.displaced] == row.blocking_post


def swap_free_optimum(ref: Reference) -> int | None:
    """The best integer objective over allocations with no pair both cadres would exchange (enumeration)."""
    options = [[p for p in ref.post_ids if ref.allowed(c, p)] + ([] if ref.must_place(c) else [""]) for c in ref.cadre_ids]
    best = None
    for choice in itertools.product(*options):
        load = pd.Series([p for p in choice if p]).value_counts()
        if any(
            load.get(p, 0) > r.capacity or (ref.policy.rules.fill_every_post and load.get(p, 0) < r.capacity) for p, r in ref.posts.items()
        ):
            continue
        held = dict(zip(ref.cadre_ids, choice))
        if any(
            held[a]
            and held[b]
            and held[a] != held[b]
            and ref.allowed(a, held[b])
            and ref.allowed(b, held[a])
            and better(ref, a, held[b], held[a])
            and better(ref, b, held[a], held[b])
            for a, b in itertools.combinations(ref.cadre_ids, 2)
        ):
            continue
        value = sum(ref.coef(c, p) for c, p in held.items() if p)
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=25)
@given(scenarios(max_cadres=5, max_posts=5, budgets=False, relay_rule=False, place_fill=False), st.sampled_from([-1.0, 1.0]))
def test_the_swap_free_rule_is_exact(scenario: pe.Scenario, wish_weight: float) -> None:
    # a negative wish weight makes optima that avoid wishes, so the rule often binds
    scenario = scenario.with_policy(rules={"forbid_improving_swaps": True}, factors={"preferences": {"weight": wish_weight}})
    best = swap_free_optimum(Reference(scenario))
    if best is None:
        try:
            pe.solve(scenario)
        except pe.InfeasibleError:
            return
        raise AssertionError("solved a scenario with no swap-free allocation")
    allocation = pe.solve(scenario)
    event(f"swap rows added: {'some' if allocation.summary['swap_rule']['rows'] else 'none'}")
    assert allocation.status == "OPTIMAL"
    assert allocation.summary["objective_scaled"] == best
    assert allocation.summary["audit"]["improving_swaps"] == 0


def test_audit_files_and_the_audit_command(tmp_path: Path, capsys) -> None:
    allocation = pe.solve(crossed())
    allocation.write(tmp_path)
    written = pe.io.read_json(tmp_path / "audit.json")
    assert written["improving_swaps"] == 1 and written["blocking"] == []
    assert pd.read_csv(tmp_path / "audit.csv")["university_id"].tolist() == ["ouc", "sdu"]
    assert pe.io.read_json(tmp_path / "summary.json")["audit"]["improving_swaps"] == 1
    again = audit_output_dir(tmp_path)
    assert again.swaps.drop(columns="sentence").equals(allocation.audit.swaps.drop(columns="sentence"))
    assert np.allclose(again.universities["mean_wish_points"], allocation.audit.universities["mean_wish_points"])
