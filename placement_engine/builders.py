"""Posts and universities tables built from the shipped geography.

These turn the reference tables of ``placement_engine.data`` into the input
tables of a scenario, so scenarios on real geography take a few lines.
"""

from __future__ import annotations

import pandas as pd


def posts_from_units(units: pd.DataFrame, min_rank: str = "deputy_section", capacity: int = 1) -> pd.DataFrame:
    """One post per county-level unit; ``post_id`` is ``P`` + the 6-digit adcode."""
    return pd.DataFrame(
        {
            "post_id": "P" + units["adcode"].astype(str),
            "adcode": units["adcode"].astype(str),
            "name": units["name"].astype(str),
            "kind": units["kind"].astype(str),
            "prefecture": units["prefecture_code"].astype(str),
            "prefecture_name": units["prefecture_name"].astype(str),
            "province": units["province_code"].astype(str),
            "province_name": units["province_name"].astype(str),
            "lon": units["lon"].astype(float),
            "lat": units["lat"].astype(float),
            "capacity": capacity,
            "min_rank": min_rank,
        }
    ).reset_index(drop=True)


def universities_from_reference(universities: pd.DataFrame) -> pd.DataFrame:
    """The universities input table from ``data.shandong_universities()``-shaped reference rows."""
    columns = ["university_id", "name", "name_en", "adcode", "lon", "lat", "size", "confidence"]
    return universities[columns].astype({"size": int}).reset_index(drop=True)
