"""Variants and chains in the scenario file: validated when the scenario loads, applied on request."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import placement_engine as pe
from placement_engine.cli import main
from placement_engine.schema import TABLES, Rules
from placement_engine.synth import SynthConfig

TINY = Path(__file__).parent / "fixtures" / "tiny"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# the lists that messages name, as the schema has them
FACTOR_NAMES = ", ".join(sorted(pe.FACTORS))
RULE_NAMES = ", ".join(sorted(Rules.model_fields))
TABLE_NAMES = ", ".join(TABLES)
POOL_KEYS = ", ".join(sorted(SynthConfig.model_fields))


def tiny_with(tmp_path: Path, **sections) -> Path:
    """The tiny fixture scenario copied to ``tmp_path``, with extra top-level sections."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    path = folder / "scenario.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**spec, **sections}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(pe.InputError) as caught:
        pe.load_scenario(path)
    return [str(problem) for problem in caught.value.problems]


# ---- validation -----------------------------------------------------------------------------


def test_unknown_factor_key_and_parameter_in_variants_are_reported_together(tmp_path):
    path = tiny_with(
        tmp_path,
        variants={
            "typo-factor": {"policy": {"factors": {"prefs": {"weight": 2}}}},
            "typo-key": {"polcy": {"factors": {"proximity": {"weight": 0.2}}}},
            "typo-parameter": {"policy": {"factors": {"proximity": {"max_kms": 100}}}},
            "typo-rule": {"policy": {"rules": {"ranks": False}}},
        },
    )
    assert problems_of(path) == [
        "scenario.yaml key variants.typo-key.polcy: expected a known key (one of description, pins, policy, tables); "
        "got unknown key 'polcy'",
    ]
    fixed = tiny_with(
        tmp_path / "second",
        variants={
            "typo-factor": {"policy": {"factors": {"prefs": {"weight": 2}}}},
            "typo-parameter": {"policy": {"factors": {"proximity": {"max_kms": 100}}}},
            "typo-rule": {"policy": {"rules": {"ranks": False}}},
        },
    )
    assert problems_of(fixed) == [
        f"scenario.yaml variants.typo-factor.policy key factors.prefs: expected a factor name (one of {FACTOR_NAMES}); "
        "got unknown key 'prefs'",
        "scenario.yaml variants.typo-parameter.policy key factors.proximity.max_kms: expected a known key "
        "(one of max_km, weight); got unknown key 'max_kms'",
        f"scenario.yaml variants.typo-rule.policy key rules.ranks: expected a known key (one of {RULE_NAMES}); "
        "got unknown key 'ranks'",
    ]


def test_variant_names_tables_and_pins_are_checked(tmp_path):
    path = tiny_with(
        tmp_path,
        variants={
            "baseline": {"description": "clashes with the runner's own name"},
            "two words": {},
            "bad-table": {"tables": {"cadre": "cadres.csv", "posts": "missing.csv"}},
            "bad-pins": {
                "pins": [
                    {"cadre_id": "nobody", "post_id": "P370102"},
                    {"cadre_id": "sdu-01", "post_id": "P999999", "kind": "forbid"},
                    {"cadre_id": "sdu-02", "post_id": "P370124"},
                    {"cadre_id": "sdu-02", "post_id": "P370124", "kind": "forbid"},
                ]
            },
            "bad-kind": {"pins": [{"cadre_id": "sdu-01", "post_id": "P370102", "kind": "must"}]},
        },
    )
    name_rule = "a name of letters, digits, '.', '_' or '-' other than 'baseline'"
    assert problems_of(path) == [
        "scenario.yaml key variants.bad-kind.pins.0.kind: expected 'pin' or 'forbid'; got 'must'",
    ]
    del_kind = yaml.safe_load(path.read_text(encoding="utf-8"))
    del del_kind["variants"]["bad-kind"]
    path.write_text(yaml.safe_dump(del_kind, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert problems_of(path) == [
        f"scenario.yaml key variants.baseline: expected {name_rule}; got 'baseline'",
        f"scenario.yaml key variants.two words: expected {name_rule}; got 'two words'",
        f"scenario.yaml key variants.bad-table.tables.cadre: expected a table name (one of {TABLE_NAMES}); got 'cadre'",
        "missing.csv: expected an existing file; got no such file",
        "scenario.yaml key variants.bad-pins.pins.0.cadre_id: expected a cadre_id from cadres.csv; "
        "got 'nobody'",
        "scenario.yaml key variants.bad-pins.pins.1.post_id: expected a post_id from posts.csv; "
        "got 'P999999'",
        "scenario.yaml key variants.bad-pins.pins.3: expected each (cadre_id, post_id) once; "
        "got ('sdu-02', 'P370124') again (first at pins.2)",
    ]


def test_a_replaced_table_is_checked_against_the_tables_it_keeps(tmp_path):
    path = tiny_with(tmp_path, variants={"other-pool": {"tables": {"cadres": "other-cadres.csv"}}})
    cadres = (TINY / "cadres.csv").read_text(encoding="utf-8").replace("sdu-01", "sdu-09").replace("ujn,staff", "ujn,boss")
    (path.parent / "other-cadres.csv").write_text(cadres, encoding="utf-8")
    assert problems_of(path) == [
        "other-cadres.csv (variant other-pool) row 7, column rank: expected one of staff, deputy_section, section, "
        "deputy_division, division; got 'boss'",
        "preferences.csv (variant other-pool) row 2, column cadre_id: expected a cadre_id from other-cadres.csv; "
        "got 'sdu-01'",
        "preferences.csv (variant other-pool) row 3, column cadre_id: expected a cadre_id from other-cadres.csv; "
        "got 'sdu-01'",
    ]


def test_a_variant_needing_a_column_the_tables_lack_is_an_input_error(tmp_path):
    path = tiny_with(tmp_path, variants={"budgets": {"policy": {"factors": {"cost": {"budget": True}}}}})
    assert problems_of(path) == [
        "universities (variant budgets) column budget_yuan: expected a budget_yuan column (cost.budget is on); got none"
    ]


@pytest.mark.parametrize("command", ["validate", "solve", "compare"])
def test_the_command_line_exits_2_on_a_bad_variant(tmp_path, capsys, command):
    path = tiny_with(tmp_path, variants={"closer": {"policy": {"factors": {"proximity": {"wieght": 0.2}}}}})
    assert main([command, str(path), *(["--out", str(tmp_path / "out")] if command != "validate" else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 problem in the input:\n")
    assert "scenario.yaml variants.closer.policy key factors.proximity.wieght: expected a known key" in err
    assert "Traceback" not in err


# ---- applying a variant ---------------------------------------------------------------------


def test_a_policy_variant_merges_into_the_policy_and_shares_the_data(tmp_path):
    path = tiny_with(
        tmp_path,
        policy_overrides={"factors": {"relay": {"weight": 60}}},
        variants={"closer": {"description": "proximity x4", "policy": {"factors": {"proximity": {"weight": 0.2}}}}},
    )
    scenario = pe.load_scenario(path)
    closer = scenario.variant("closer")
    assert closer.name == "tiny.closer" and closer.variants == {}
    assert closer.policy.factors.proximity.weight == 0.2
    assert closer.policy.factors.relay.weight == 60  # the scenario's overrides first, then the variant's
    assert scenario.policy.factors.proximity.weight == 0.05
    assert closer.instance is scenario.instance and closer.tables is not None
    assert scenario.variants["closer"].description == "proximity x4"
    with pytest.raises(pe.InputError) as caught:
        scenario.variant("farther")
    assert [str(p) for p in caught.value.problems] == ["variant: expected a variant of tiny (one of closer); got 'farther'"]


def test_variant_pins_add_to_the_pins_table_and_replace_a_row_for_the_same_pair(tmp_path):
    path = tiny_with(
        tmp_path,
        variants={
            "promise": {
                "pins": [
                    {"cadre_id": "ujn-01", "post_id": "P370126"},
                    {"cadre_id": "sdut-01", "post_id": "P370322", "kind": "forbid"},
                ]
            }
        },
    )
    scenario_file = yaml.safe_load(path.read_text(encoding="utf-8"))
    (path.parent / "pins.csv").write_text("cadre_id,post_id,kind\nujn-01,P370126,forbid\nsdu-02,P632524,FORBID\n", encoding="utf-8")
    scenario_file["tables"]["pins"] = "pins.csv"
    path.write_text(yaml.safe_dump(scenario_file, allow_unicode=True), encoding="utf-8")
    scenario = pe.load_scenario(path)
    promise = scenario.variant("promise")
    rows = set(promise.tables["pins"].itertuples(index=False, name=None))
    assert rows == {("ujn-01", "P370126", "pin"), ("sdu-02", "P632524", "forbid"), ("sdut-01", "P370322", "forbid")}
    assert promise.instance is not scenario.instance
    placed = pe.solve(promise).table.set_index("cadre_id")["post_id"]
    assert placed["ujn-01"] == "P370126" and placed["sdut-01"] != "P370322"


def test_a_table_variant_replaces_the_table_its_file_and_its_hash(tmp_path):
    path = tiny_with(tmp_path, variants={"no-wishes": {"tables": {"preferences": "no-wishes.csv"}}})
    (path.parent / "no-wishes.csv").write_text("cadre_id,choice,target\n", encoding="utf-8")
    scenario = pe.load_scenario(path)
    changed = scenario.variant("no-wishes")
    assert len(changed.tables["preferences"]) == 0 and len(scenario.tables["preferences"]) == 11
    assert changed.files["preferences"].endswith("no-wishes.csv")
    assert changed.hashes["preferences"] != scenario.hashes["preferences"]
    assert changed.hashes["posts"] == scenario.hashes["posts"]
    assert pe.solve(changed).factor_totals["preferences"] == 0


def test_the_default_scenario_ships_at_least_four_variants_that_solve_differently():
    scenario = pe.load_scenario(SCENARIOS / "shandong-2011.yaml")
    assert len(scenario.variants) >= 4
    assert all(variant.description for variant in scenario.variants.values())
    baseline = pe.solve(scenario).table["post_id"]
    for name in scenario.variants:
        assert (pe.solve(scenario.variant(name)).table["post_id"] != baseline).any(), name


# ---- the chain section ----------------------------------------------------------------------


def test_chain_sections_are_validated(tmp_path):
    path = tiny_with(
        tmp_path,
        chain={
            "years": [2, 1],
            "seeds": [5, 6],
            "pool": {"n_cadre": 6},
            "relay_modes": ["weight", "always"],
        },
    )
    assert problems_of(path) == [
        "scenario.yaml key chain.years: expected years in increasing order; got [2, 1]",
        f"scenario.yaml key chain.pool.n_cadre: expected a known key (one of {POOL_KEYS}); got unknown key 'n_cadre'",
        "scenario.yaml key chain.relay_modes.1: expected 'off', 'weight' or 'rule'; got 'always'",
    ]
    seeds = tiny_with(tmp_path / "seeds", chain={"years": [2, 3, 4], "seeds": [5]})
    assert problems_of(seeds) == [
        "scenario.yaml key chain.seeds: expected one seed per batch after the first (2 in all); got [5]"
    ]
    # the fixture's history has batch 1: a chain must start after it
    early = tiny_with(tmp_path / "early", chain={"years": [1, 2]})
    assert problems_of(early) == [
        "scenario.yaml key chain.years: expected a first year after the latest batch in the history table (1); got 1"
    ]


def test_an_unquoted_off_reads_as_the_relay_mode_off(tmp_path):
    path = tiny_with(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "chain:\n  years: [2, 3]\n  relay_modes: [off, rule]\n", encoding="utf-8")
    chain = pe.load_scenario(path).chain
    assert chain.relay_modes == ["off", "rule"] and chain.pool_seeds() == [3]
