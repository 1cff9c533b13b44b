"""Checks on the shipped geography tables in placement_engine.data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from placement_engine import data

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "placement_engine" / "data"
BUILD_SCRIPT = ROOT / "tools" / "build_geography.py"
GENERATED = [
    "counties.csv", "shandong_2011.csv", "qinghai_2011.csv",
    "universities_shandong.csv", "LICENSE-cpca.txt",
]
KINDS = {
    "district", "county", "city", "autonomous_county", "banner", "autonomous_banner",
    "forestry_district", "special_district", "island_area",
}
LOADERS = [data.counties, data.shandong_2011, data.qinghai_2011, data.shandong_universities]


def kind_counts(df: pd.DataFrame) -> dict[str, int]:
    return df["kind"].value_counts().to_dict()


def test_nationwide_count():
    df = data.counties()
    assert len(df) == 2845
    assert set(df["kind"]) == KINDS


def test_shandong_in_cpca_vintage():
    df = data.counties()
    assert (df["province_code"] == "370000").sum() == 137


def test_shandong_2011_counts():
    df = data.shandong_2011()
    assert len(df) == 140
    assert kind_counts(df) == {"district": 49, "city": 31, "county": 60}
    assert set(df["province_code"]) == {"370000"}


def test_qinghai_2011_counts():
    df = data.qinghai_2011()
    assert len(df) == 43
    assert kind_counts(df) == {"district": 4, "city": 2, "county": 30, "autonomous_county": 7}


@pytest.mark.parametrize("adcode, name", [("632524", "兴海县"), ("632128", "循化撒拉族自治县")])
def test_qinghai_2011_postings_present(adcode, name):
    df = data.qinghai_2011()
    assert df.loc[df["adcode"] == adcode, "name"].tolist() == [name]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_codes_are_unique_six_digit_strings(loader):
    df = loader()
    # Several universities share a county; the geography tables have one row per unit.
    key = "university_id" if loader is data.shandong_universities else "adcode"
    assert df[key].is_unique
    for column in [c for c in df.columns if c.endswith("_code") or c.endswith("adcode")]:
        assert pd.api.types.is_string_dtype(df[column]), column
        assert df[column].dropna().str.fullmatch(r"\d{6}").all(), column


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_coordinates_inside_china(loader):
    df = loader()
    assert df["lon"].between(73, 136).all()
    assert df["lat"].between(3, 54).all()


def test_universities_sit_on_the_2011_map():
    unis = data.shandong_universities()
    units = data.shandong_2011().set_index("adcode")
    assert len(unis) == 50 and unis["university_id"].is_unique
    assert unis["adcode"].isin(units.index).all()
    seat = units.loc[unis["adcode"], ["lon", "lat"]].to_numpy()
    assert (unis[["lon", "lat"]].to_numpy() == seat).all()
    assert unis["regular_undergrad_2011"].sum() == 47


def test_2011_units_map_to_cpca_vintage():
    current = set(data.counties()["adcode"])
    for df in (data.shandong_2011(), data.qinghai_2011()):
        heirs = df["successor_adcode"].fillna(df["adcode"])
        assert heirs.isin(current).all()


def test_jinan_and_qingdao_in_2011():
    df = data.shandong_2011()
    both = df[df["prefecture_code"].isin(["370100", "370200"])]
    assert len(both) == 22
    assert (both["kind"] == "district").sum() == 13


def test_loaders_return_fresh_frames():
    first = data.counties()
    first.loc[0, "name"] = "changed"
    assert data.counties().loc[0, "name"] != "changed"


def test_rebuild_reproduces_shipped_files(tmp_path):
    wheel = os.environ.get("CPCA_WHEEL")
    if not wheel:
        pytest.skip("set CPCA_WHEEL to a cpca-0.5.5 wheel to check the rebuild")
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--wheel", wheel, "--out", str(tmp_path)],
        check=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
