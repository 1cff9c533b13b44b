"""Mistakes made from Python are InputErrors that name the problem, as mistakes in files are."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import placement_engine as pe
from placement_engine.cli import main
from placement_engine.parallel import run_tasks

TINY = Path(__file__).parent / "fixtures" / "tiny"
TABLE_NAMES = ["posts", "cadres", "universities", "preferences", "partnerships", "history"]
INSTALL = "pip install 'placement_engine[dask]'"


@pytest.fixture(scope="module")
def scenario() -> pe.Scenario:
    return pe.load_scenario(TINY / "scenario.yaml")


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(TINY / f"{name}.csv", dtype=str, keep_default_na=False) for name in TABLE_NAMES}


def messages(error: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_with_policy_names_a_misspelt_factor(scenario):
    with pytest.raises(pe.InputError) as caught:
        scenario.with_policy(factors={"proximty": {"weight": 0.2}})
    [message] = messages(caught)
    assert message.startswith("with_policy key factors.proximty: expected a factor name (one of ")
    assert message.endswith("got unknown key 'proximty'")


def test_with_policy_names_a_bad_value(scenario):
    with pytest.raises(pe.InputError) as caught:
        scenario.with_policy(solver={"time_limit_s": -1})
    assert messages(caught) == ["with_policy key solver.time_limit_s: expected a number greater than 0; got -1"]


def test_with_policy_wants_a_policy_object(scenario):
    with pytest.raises(pe.InputError) as caught:
        scenario.with_policy({"factors": {}})
    assert messages(caught) == ["with_policy policy: expected a Policy (use keyword arguments for changes); got a dict"]


def test_with_policy_still_merges_valid_changes(scenario):
    closer = scenario.with_policy(factors={"proximity": {"weight": 0.2}})
    assert closer.policy.factors.proximity.weight == 0.2 and scenario.policy.factors.proximity.weight != 0.2


@pytest.mark.parametrize("as_path", [str, Path])
def test_scenario_from_tables_takes_a_policy_file(tables, as_path):
    scenario = pe.scenario_from_tables(tables, as_path(TINY / "policy.yaml"))
    assert scenario.policy == pe.load_policy(TINY / "policy.yaml")


def test_scenario_from_tables_takes_a_mapping_or_a_policy(tables):
    policy = pe.load_policy(TINY / "policy.yaml")
    assert pe.scenario_from_tables(tables, policy).policy == policy
    assert pe.scenario_from_tables(tables, policy.model_dump(mode="json")).policy == policy


def test_scenario_from_tables_reports_a_missing_policy_file(tables, tmp_path):
    with pytest.raises(pe.InputError) as caught:
        pe.scenario_from_tables(tables, tmp_path / "nowhere.yaml")
    assert messages(caught) == ["nowhere.yaml: expected an existing file; got no such file"]


def test_scenario_from_tables_refuses_anything_else_as_a_policy(tables):
    with pytest.raises(pe.InputError) as caught:
        pe.scenario_from_tables(tables, 42)
    assert messages(caught) == ["policy: expected a Policy, a mapping in the policy format, or the path of a policy file; got a value of type int: 42"]


def test_scenario_from_tables_refuses_a_table_that_is_no_data_frame(tables):
    tables["cadres"] = [["sdu-01", "sdu"]]
    with pytest.raises(pe.InputError) as caught:
        pe.scenario_from_tables(tables)
    assert messages(caught) == ["cadres: expected a pandas DataFrame; got a value of type list: [['sdu-01', 'sdu']]"]


def _square(value: int) -> int:
    return value * value


def test_a_missing_dask_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(pe.InputError) as caught:
        run_tasks(_square, [1, 2], backend="dask")
    [message] = messages(caught)
    assert INSTALL in message


def test_a_missing_dask_extra_exits_with_code_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code = main(["compare", str(TINY / "scenario.yaml"), "--backend", "dask", "--out", str(tmp_path / "out")])
    assert code == 2
    assert INSTALL in capsys.readouterr().err
