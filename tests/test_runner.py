"""The runner: compare (files, tables, figures), weight sweeps with reuse, chained relay batches."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import placement_engine as pe
from placement_engine import io
from placement_engine.cli import main
from placement_engine.factors import FACTORS
from placement_engine.runner import Workbench, allocation_row, sweep
from tests.test_variants import tiny_with

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT = SCENARIOS / "shandong-2011.yaml"
SOLVE_FOLDER = ["allocation.csv", "summary.json", "inputs/policy.yaml", "inputs/posts.csv", "map.png"]


def assert_figure(path: Path, min_pixels: int = 300) -> None:
    """A PNG that was written, is not empty and decodes to a sizeable picture."""
    assert path.is_file() and path.stat().st_size > 10_000, path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    height, width = imread(path).shape[:2]
    assert min(height, width) >= min_pixels, (path, height, width)


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[pe.Comparison, Path]:
    out = tmp_path_factory.mktemp("compare")
    return pe.compare(DEFAULT, out_dir=out), out


# ---- compare --------------------------------------------------------------------------------


def test_compare_writes_every_file_of_the_default_scenario(compared):
    comparison, out = compared
    names = ["baseline", *pe.load_scenario(DEFAULT).variants]
    assert len(names) >= 5
    for name in ("comparison.csv", "changes.csv"):
        assert (out / name).is_file()
    for name in ("metrics.png", "wishes.png"):
        assert_figure(out / name)
    for name in names:
        for part in SOLVE_FOLDER:
            assert (out / name / part).is_file(), (name, part)
        assert_figure(out / name / "map.png")
    assert [path.name for path in comparison.files] == ["comparison.csv", "changes.csv", "metrics.png", "wishes.png", "comparison.xlsx"]
    assert "comparison.xlsx" in io.read_json(out / "run.json")["files"]
    # each variant's folder is a complete solve folder: check re-verifies it from its files alone
    for name in ("baseline", "promise", "rank-rule-off"):
        assert pe.check_output_dir(out / name).ok, name


def test_comparison_has_a_row_per_variant_with_status_gap_metrics_and_factor_totals(compared):
    comparison, out = compared
    table = io.read_csv(out / "comparison.csv")
    scenario = pe.load_scenario(DEFAULT)
    assert table["variant"].tolist() == ["baseline", *scenario.variants]
    baseline = comparison.allocations["baseline"]
    expected = {"variant", "description", "status", "gap", "changed_cadres", *baseline.metrics}
    expected |= {f"points_{name}" for name in FACTORS} | {f"raw_{name}" for name in FACTORS}
    assert expected <= set(table.columns)
    assert (table["status"] == "OPTIMAL").all()
    for name, allocation in comparison.allocations.items():
        row = table.set_index("variant").loc[name]
        assert float(row["objective"]) == pytest.approx(allocation.objective)
        assert float(row["mean_distance_km"]) == pytest.approx(allocation.metrics["mean_distance_km"])
        for factor, points in allocation.factor_totals.items():
            assert float(row[f"points_{factor}"]) == pytest.approx(points)
    # proximity weighs more in "closer": its total distance (minus raw_proximity) is shorter
    assert table.set_index("variant")["raw_proximity"].astype(float).idxmax() == "closer"


def test_changes_flag_exactly_the_cadres_whose_post_differs(compared):
    comparison, out = compared
    changes = io.read_csv(out / "changes.csv")
    baseline = io.read_csv(out / "baseline" / "allocation.csv").set_index("cadre_id")["post_id"]
    for name in ("closer", "within-250km", "promise"):
        posts = io.read_csv(out / name / "allocation.csv").set_index("cadre_id")["post_id"]
        rows = changes.set_index("cadre_id")
        assert rows[name].to_dict() == posts.to_dict()
        moved = (posts != baseline.reindex(posts.index)).map(str)
        assert rows[f"{name}_changed"].to_dict() == moved.to_dict()
        assert int(comparison.table.set_index("variant").loc[name, "changed_cadres"]) == int((posts != baseline).sum())
    # the pinned cadre now has their first wish, and ouc-02 moved
    assert changes.set_index("cadre_id").loc["ouc-02", "promise"] == "P370785"
    assert changes.set_index("cadre_id").loc["ouc-02", "promise_changed"] == "True"
    # another pool: cadre ids name other people; a cadre missing from one side shows as moved
    assert int(changes["variants_changed"].max()) <= len(comparison.allocations) - 1
    # names beside the codes: the university's, and each variant's county
    universities = comparison.allocations["baseline"].scenario.tables["universities"].set_index("university_id")["name"]
    assert changes["university_name"].tolist() == universities.reindex(changes["university_id"]).tolist()
    posts = comparison.allocations["baseline"].scenario.tables["posts"].set_index("post_id")["name"]
    row = changes.set_index("cadre_id").loc["ouc-02"]
    assert row["promise_post_name"] == posts["P370785"] and row["baseline_post_name"] == posts[row["baseline"]]


def test_the_comparison_workbook_has_the_comparison_and_the_changes(compared):
    from openpyxl import load_workbook

    comparison, out = compared
    book = load_workbook(out / "comparison.xlsx", read_only=True)
    assert book.sheetnames == ["Comparison", "Changes"]
    header = [cell.value for cell in next(book["Changes"].iter_rows(max_row=1))]
    assert header[:6] == ["Cadre", "University", "University name", "baseline: post", "baseline: county", "closer: post"]
    rows = list(book["Comparison"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == comparison.table["variant"].tolist()


def test_a_comparison_shows_briefly_in_a_notebook(compared):
    comparison, _out = compared
    text = repr(comparison)
    assert text.startswith("<Comparison: ") and len(text) < 200
    page = comparison._repr_html_()
    assert page.count("<tr>") == len(comparison.table) + 1 and "ouc-02" not in page


def test_compare_reuses_pairs_and_scores_across_policy_variants():
    scenario = pe.load_scenario(DEFAULT)
    workbench = Workbench()
    results = [pe.solve_variant(scenario, name, workbench=workbench) for name in ("baseline", "closer", "partnership-first")]
    # one set of allowed pairs serves the three (their rules and max_km are the same)
    assert workbench.pair_builds == 1 and workbench.score_hits > 0
    for result in results:
        cold = pe.solve(scenario if result["variant"] == "baseline" else scenario.variant(result["variant"]))
        assert result["allocation"].summary["objective_scaled"] == cold.summary["objective_scaled"]
        assert result["allocation"].table.equals(cold.table)


def test_a_variant_without_an_allocation_gets_a_row_and_a_diagnosis(tmp_path):
    path = tiny_with(
        tmp_path,
        variants={
            "near": {"description": "no post farther than 10 km", "policy": {"factors": {"proximity": {"max_km": 10}}}},
            "by-cp-sat": {"policy": {"solver": {"method": "cpsat"}}},
        },
    )
    comparison = pe.compare(path, out_dir=tmp_path / "out")
    table = comparison.table.set_index("variant")
    assert table.loc["near", "status"] == "INFEASIBLE" and "no allocation meets the hard rules" in table.loc["near", "message"]
    assert pd.isna(table.loc["near", "objective"]) and pd.isna(table.loc["near", "changed_cadres"])
    # the same optimum, proved by CP-SAT instead of the flow
    assert table.loc["by-cp-sat", ["status", "proof", "gap"]].tolist() == ["OPTIMAL", "cp-sat", 0]
    assert table.loc["baseline", "proof"] == "flow duality"
    assert table.loc["by-cp-sat", "objective"] == pytest.approx(table.loc["baseline", "objective"])
    assert (tmp_path / "out" / "near" / "diagnosis.json").is_file()
    assert comparison.changes["near"].eq("").all() and comparison.changes["near_changed"].isna().all()
    assert_figure(tmp_path / "out" / "metrics.png")


def test_solve_variant_is_a_function_of_picklable_inputs_and_outputs(tmp_path):
    path = tiny_with(tmp_path, variants={"closer": {"policy": {"factors": {"proximity": {"weight": 0.5}}}}})
    arguments = (str(path), "closer", {"time_limit": 10.0, "workers": 1})
    result = pe.solve_variant(*pickle.loads(pickle.dumps(arguments)), out_dir=tmp_path / "closer")
    again = pickle.loads(pickle.dumps(result))
    assert again["row"]["status"] == "OPTIMAL" and again["allocation"].table.equals(result["allocation"].table)
    assert again["description"] == ""
    assert result["allocation"].summary["manifest"]["time_limit_s"] == 10.0


# ---- weight sweeps --------------------------------------------------------------------------


def test_a_sweep_computes_pairs_and_scores_once_and_equals_cold_solves(monkeypatch):
    scenario = pe.load_scenario(DEFAULT)
    n_pairs = pe.solve(scenario).summary["allowed_pairs"]
    computed: dict[str, int] = {}
    for factor in FACTORS.values():
        original = type(factor).scores

        def counting(self, pairs, params, original=original):
            if len(pairs) == n_pairs:  # the allowed pairs, not a finished allocation's
                computed[self.name] = computed.get(self.name, 0) + 1
            return original(self, pairs, params)

        monkeypatch.setattr(type(factor), "scores", counting)
    workbench = Workbench()
    weights = [0.0, 0.05, 0.1, 0.2, 0.4]
    table = sweep(scenario, {"proximity": weights}, workbench=workbench, backend="sequential")
    assert workbench.pair_builds == 1
    weighted = {name for name, params in scenario.policy.active_factors().items() if params.weight}
    assert computed == dict.fromkeys(weighted, 1)
    assert table["weight_proximity"].tolist() == weights
    for weight, (_, row) in zip(weights, table.iterrows()):
        cold = allocation_row(pe.solve(scenario.with_policy(factors={"proximity": {"weight": weight}})))
        for column, value in cold.items():
            if column != "wall_seconds":
                assert row[column] == value or (pd.isna(row[column]) and pd.isna(value)), (weight, column)
    # more weight on distance never lengthens the total distance
    assert np.all(np.diff(table["raw_proximity"]) >= -1e-6)


def test_a_two_factor_sweep_covers_the_grid():
    scenario = pe.load_scenario(DEFAULT)
    table = sweep(scenario, {"partnership": [0, 60], "rank_fit": [0, 30, 90]})
    assert list(zip(table["weight_partnership"], table["weight_rank_fit"])) == [
        (0, 0), (0, 30), (0, 90), (60, 0), (60, 30), (60, 90)
    ]  # fmt: skip
    assert (table["status"] == "OPTIMAL").all()
    assert table.loc[table["weight_partnership"] == 60, "partnership_share"].min() > table.loc[
        table["weight_partnership"] == 0, "partnership_share"
    ].max()


@pytest.mark.parametrize(
    "weights, expected",
    [
        ({"prox": [1]}, "sweep factor prox: expected a factor name"),
        ({"proximity": [1], "cost": [1], "relay": [1]}, "sweep factors: expected one or two factors; got 3"),
        ({"proximity": []}, "sweep factor proximity: expected at least one weight; got none"),
    ],
)
def test_a_bad_sweep_is_an_input_error(weights, expected):
    with pytest.raises(pe.InputError, match=expected):
        sweep(pe.load_scenario(DEFAULT), weights)


# ---- the command line -----------------------------------------------------------------------


def test_cli_compare_with_a_sweep_and_a_front(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["compare", str(DEFAULT), "--out", str(out), "--variants", "closer,no-rank-fit"]
    argv += ["--sweep", "proximity=0,0.1", "--sweep", "partnership=25,50", "--pareto", "preferences,cost", "--points", "2"]
    assert main(argv) == 0
    stdout, stderr = capsys.readouterr()
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["variant", "status", "objective"]
    assert [line.split()[0] for line in lines[1:4]] == ["baseline", "closer", "no-rank-fit"]
    # variants also run side by side, so they may finish in any order
    assert re.search(r"\[[1-3]/3\] no-rank-fit: OPTIMAL", stderr) and "[4/4] " in stderr
    # the sweep's chunks run side by side, so its last point need not be reported last
    assert re.search(r"\[[1-4]/4\] proximity 0.1, partnership 50: OPTIMAL", stderr)
    assert "[2/2] most cost: OPTIMAL" in stderr
    for name in ("comparison.csv", "changes.csv", "sweep.csv", "pareto.csv"):
        assert (out / name).is_file(), name
    for name in ("metrics.png", "wishes.png", "sweep.png", "pareto.png"):
        assert_figure(out / name)
    assert len(io.read_csv(out / "sweep.csv")) == 4
    front = io.read_csv(out / "pareto.csv")
    assert front["maximised"].tolist() == ["preferences", "cost"] and (front["status"] == "OPTIMAL").all()
    assert not (out / "partnership-first").exists()


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--variants", "closer,farther"], "compare variants: expected a variant of shandong-2011"),
        (["--sweep", "proximity"], "command line --sweep: expected FACTOR=W1,W2,... with numbers as weights; got 'proximity'"),
        (["--sweep", "proximity=a,b"], "got 'proximity=a,b'"),
        (["--sweep", "nearness=0,1"], "sweep factor nearness: expected a factor name"),
        (["--pareto", "preferences"], "command line --pareto: expected two factors, A,B; got 'preferences'"),
        (["--pareto", "preferences,distance"], "pareto objectives: expected a factor name"),
        (["--pareto", "preferences,cost", "--points", "1"], "pareto points: expected at least 2; got 1"),
    ],
)
def test_cli_compare_exits_2_on_bad_options(tmp_path, capsys, extra, expected):
    assert main(["compare", str(DEFAULT), "--out", str(tmp_path / "out"), "--quiet", *extra]) == 2
    assert expected in capsys.readouterr().err


# ---- chained batches ------------------------------------------------------------------------


def test_chain_reports_year_by_year_and_its_second_rule_batch_is_the_shipped_2012_scenario(tmp_path, capsys):
    out = tmp_path / "chain"
    assert main(["chain", str(SCENARIOS / "shandong-relay-chain.yaml"), "--batches", "2", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[0].split()[:3] == ["year", "relay", "status"]
    table = io.read_csv(out / "chain.csv")
    assert list(zip(table["mode"], table["year"])) == [
        (mode, year) for mode in ("off", "weight", "rule") for year in ("2011", "2012")
    ]
    assert_figure(out / "chain.png")
    for mode in ("off", "weight", "rule"):
        for year in ("2011", "2012"):
            assert (out / mode / year / "allocation.csv").is_file()
    rows = table.set_index(["mode", "year"])
    numbers = rows[["relay_targets", "relay_kept", "objective"]].astype(float)
    # the first batch has no history, so relay changes nothing there
    assert (numbers.xs("2011", level="year")["relay_targets"] == 0).all()
    assert numbers.xs("2011", level="year")["objective"].nunique() == 1
    # the same second batch in every mode: a rule keeps most, a weight more than nothing
    kept = numbers.xs("2012", level="year")["relay_kept"]
    assert kept["rule"] > kept["weight"] > kept["off"]
    assert (numbers.xs("2012", level="year")["relay_targets"] == 156).all()
    shipped = pe.solve(SCENARIOS / "shandong-2012-relay.yaml")
    assert numbers.loc[("rule", "2012"), "objective"] == pytest.approx(shipped.objective)
    assert numbers.loc[("rule", "2012"), "relay_kept"] == shipped.metrics["relay_kept"]
    # the rule mode's history for 2012 is its own 2011 allocation
    history = io.read_csv(out / "rule" / "2012" / "inputs" / "history.csv")
    first = io.read_csv(out / "rule" / "2011" / "allocation.csv")
    assert sorted(zip(history["university_id"], history["post_id"])) == sorted(zip(first["university_id"], first["post_id"]))
    assert set(history["batch"]) == {"2011"}


def test_chain_needs_a_chain_section_and_known_modes(capsys):
    assert main(["chain", str(DEFAULT), "--quiet"]) == 2
    assert "shandong-2011 key chain: expected a chain section" in capsys.readouterr().err
    with pytest.raises(pe.InputError, match="chain modes: expected one of off, weight, rule; got 'always'"):
        pe.chain(SCENARIOS / "shandong-relay-chain.yaml", modes=["always"])
