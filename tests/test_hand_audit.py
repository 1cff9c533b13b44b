"""Auditing an allocation made by hand: reading the file, rules broken, the gap to the optimum, the best moves."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.reports.hand_audit import audit_allocation_command, best_moves
from placement_engine.rules import allowed_pairs
from placement_engine.solve import build_terms
from tests.factories import Reference, best_assignment, make_scenario, scored
from tests.strategies import scenarios

REPO = Path(__file__).resolve().parents[1]


def three() -> pe.Scenario:
    return make_scenario(
        posts=("P370124", "P370303", "P370102"),
        cadres=({}, {}, {"university_id": "ouc"}),
        wishes={"c1": ["P370124"], "c2": ["P370303"], "c3": ["P370102"]},
        policy={"factors": {"preferences": {}}},
    )


def written(tmp_path: Path, rows: list[tuple[str, str]], name: str = "hand.csv", encoding: str = "utf-8", note: str = "") -> Path:
    frame = pd.DataFrame(rows, columns=["cadre_id", "post_id"]).assign(note=note)
    path = tmp_path / name
    if name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    else:
        path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


@pytest.mark.parametrize(("name", "encoding"), [("hand.csv", "utf-8"), ("hand.csv", "utf-8-sig"), ("hand.csv", "gbk"), ("hand.xlsx", "")])
def test_the_file_is_read_in_any_encoding_and_scored_against_the_optimum(tmp_path: Path, name: str, encoding: str) -> None:
    path = written(tmp_path, [("c1", "P370303"), ("c2", "P370124"), ("c3", "P370102")], name, encoding, note="去年的分配")
    report = pe.audit_allocation(three(), path)
    assert report.ok
    summary = report.summary()
    assert (summary["objective"], summary["optimum"], summary["gap_points"], summary["gap_percent"]) == (
        100.0,
        300.0,
        200.0,
        pytest.approx(66.6667, abs=1e-4),
    )
    assert report.factors.set_index("factor").loc["preferences"].tolist() == [100.0, 300.0, -200.0]
    # the exchange of c1 and c2 gains both first wishes
    assert report.moves[["kind", "cadre_a", "cadre_b", "gain"]].values.tolist() == [["exchange", "c1", "c2", 200.0]]
    assert report.moves["sentence"].iat[0] == "exchange c1 (P370303) and c2 (P370124): +200.000 points"


def test_a_dataframe_with_a_blank_post_leaves_the_cadre_unplaced_and_breaks_the_seat_rule(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cadre_id": ["c1", "c2", "c3"], "post_id": ["P370124", np.nan, "P370124"]})
    report = pe.audit_allocation(three(), frame)
    assert report.violations["seats"] == ["c2: not placed, but every cadre must be", "P370124: 2 cadres for capacity 1"]
    assert not report.ok
    assert report.summary()["rules_broken"] == {"seats": 2}
    # c2 takes a free seat at its wish; c3 moves off the over-full post
    moves = report.moves.set_index("cadre_a")
    assert moves.loc["c2", ["kind", "to_a", "gain"]].tolist() == ["move", "P370303", 100.0]
    assert moves.loc["c3", ["kind", "to_a", "gain"]].tolist() == ["move", "P370102", 100.0]


def test_the_command_exits_5_on_a_broken_rule_and_writes_one_run(tmp_path: Path, capsys) -> None:
    scenario_file = tmp_path / "unit"
    scenario_file.mkdir()
    scenario = three()
    for table, frame in scenario.tables.items():
        pe.io.write_csv(frame, scenario_file / f"{table}.csv")
    pe.io.write_yaml(
        {"name": "unit", "policy": scenario.policy.model_dump(mode="json"), "tables": {t: f"{t}.csv" for t in scenario.tables}},
        scenario_file / "scenario.yaml",
    )
    hand = written(tmp_path, [("c1", "P370124"), ("c2", "P370124")])
    out = tmp_path / "out"
    assert audit_allocation_command(scenario_file / "scenario.yaml", hand, out) == 5
    printed = capsys.readouterr().out
    assert "hard rules broken: 2" in printed and "[seats] P370124: 2 cadres for capacity 1" in printed
    assert sorted(p.name for p in out.iterdir()) == ["allocation.csv", "audit.csv", "audit.json", "factors.csv", "moves.csv", "run.json"]
    audit = pe.io.read_json(out / "audit.json")
    assert audit["rules_broken"] == {"seats": 2} and audit["cadres_not_listed"] == 1
    pe.io.verify_run(out)
    fixed = written(tmp_path, [("c1", "P370124"), ("c2", "P370303"), ("c3", "P370102")])
    assert audit_allocation_command(scenario_file / "scenario.yaml", fixed, out) == 0  # the folder is replaced whole


def test_mistakes_in_the_file_are_input_errors_with_rows(tmp_path: Path) -> None:
    rows = [("c1", "P370124"), ("c9", "P370303"), ("c1", "P370102"), ("c3", "P999")]
    with pytest.raises(pe.InputError) as error:
        pe.audit_allocation(three(), written(tmp_path, rows))
    assert [str(p) for p in error.value.problems] == [
        "hand.csv row 3, column cadre_id: expected a cadre_id of the scenario's cadres table; got 'c9'",
        "hand.csv row 5, column post_id: expected a post_id of the scenario's posts table, or blank for unplaced; got 'P999'",
        "hand.csv row 4, column cadre_id: expected each cadre once; got 'c1' again (first at row 2)",
    ]
    (tmp_path / "bad.csv").write_text("cadre,post\nc1,P370124\n")
    with pytest.raises(pe.InputError, match="bad.csv column cadre_id: expected a column named 'cadre_id'; got columns cadre, post"):
        pe.audit_allocation(three(), tmp_path / "bad.csv")
    with pytest.raises(pe.InputError, match="missing.csv: expected an existing CSV or XLSX file; got no such file"):
        pe.audit_allocation(three(), tmp_path / "missing.csv")


def test_the_greedy_baselines_gap_to_the_optimum_on_the_first_batch(tmp_path: Path) -> None:
    scenario = pe.load_scenario(REPO / "scenarios" / "shandong-2011.yaml")
    greedy = pe.greedy_allocation(scenario)
    path = tmp_path / "greedy.csv"
    greedy.table[["cadre_id", "post_id"]].to_csv(path, index=False)
    report = pe.audit_allocation(scenario, path)
    summary = report.summary()
    assert summary["objective"] == pytest.approx(greedy.objective)
    assert summary["optimum_status"] == "OPTIMAL"
    assert summary["gap_points"] == pytest.approx(report.optimum.objective - greedy.objective) and summary["gap_points"] > 0
    assert summary["optimum_bound"] >= summary["optimum"]
    found = [text for texts in report.violations.values() for text in texts]
    assert sorted(found) == sorted(greedy.check().violations)
    assert len(report.moves) == 10 and report.moves["gain"].is_monotonic_decreasing and (report.moves["gain"] > 0).all()


# ---- the best moves against enumeration ---------------------------------------------------------


def relay_count(ref: Reference, assignment: dict[str, str]) -> int:
    return sum(ref.is_relay(c, p) for c, p in assignment.items() if p)


def gains_by_enumeration(scenario: pe.Scenario, assignment: dict[str, str]) -> dict[tuple, float]:
    """Every single move and exchange that keeps the hard rules and relay as a rule, with its gain in points."""
    ref = Reference(scenario)
    relay_rule = ref.factors.get("relay") is not None and ref.factors["relay"].mode == "rule"
    base = float(scored(scenario, assignment)["score_total"].sum())
    changes = [((c, p), {**assignment, c: p}) for c in ref.cadre_ids for p in ref.post_ids if p != assignment[c]]
    changes += [
        ((a, b), {**assignment, a: assignment[b], b: assignment[a]})
        for a, b in itertools.combinations(ref.cadre_ids, 2)
        if assignment[a] and assignment[b] and assignment[a] != assignment[b]
    ]
    found = {}
    for key, after in changes:
        table = scored(scenario, after)
        if relay_rule and relay_count(ref, after) < relay_count(ref, assignment):
            continue
        if pe.check_allocation(scenario, table).ok:
            gain = float(table["score_total"].sum()) - base
            if gain > 1e-9:
                found[key] = round(gain, 6)
    return found


@settings(max_examples=40)
@given(scenarios(max_cadres=5, max_posts=4, budgets=False), st.integers(0, 2**32 - 1))
def test_the_best_moves_are_those_enumeration_finds(scenario: pe.Scenario, seed: int) -> None:
    ref = Reference(scenario)
    values = np.random.default_rng(seed).random((len(ref.cadre_ids), len(ref.post_ids)))
    found = best_assignment(ref, lambda c, p: values[ref.cadre_ids.index(c), ref.post_ids.index(p)])
    assume(found is not None)
    assignment = {c: found[1].get(c, "") for c in ref.cadre_ids}
    inst, policy = scenario.instance, scenario.policy
    post_of_cadre = inst.post_index([assignment[c] for c in inst.cadre_id])
    points = scored(scenario, assignment)["score_total"].to_numpy(float)
    moves = best_moves(build_terms(allowed_pairs(inst, policy), policy), policy, post_of_cadre, points, top=1000)
    expected = gains_by_enumeration(scenario, assignment)
    event(f"improving moves: {'some' if expected else 'none'}")
    keys = [(r.cadre_a, r.to_a) if r.kind == "move" else (r.cadre_a, r.cadre_b) for r in moves.itertuples()]
    assert dict(zip(keys, moves["gain"].round(6))) == expected
