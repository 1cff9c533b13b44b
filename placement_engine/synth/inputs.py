"""The posts and universities tables, checked and turned into arrays for the draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..geo import prefecture_of, province_of
from ..ranks import RANK_LEVEL, RANKS

POST_COLUMNS = ["post_id", "adcode", "name", "prefecture", "province", "lon", "lat", "capacity", "min_rank"]
UNIVERSITY_COLUMNS = ["university_id", "name", "adcode", "lon", "lat", "size"]


@dataclass(frozen=True)
class _Posts:
    """Posts sorted by province then prefecture, so that each place is a contiguous block."""

    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    capacity: np.ndarray
    level: np.ndarray  # RANK_LEVEL of min_rank
    kind: np.ndarray
    province: np.ndarray  # province code of each post
    pref: np.ndarray  # index into pref_code
    pref_code: np.ndarray
    pref_start: np.ndarray
    prov_code: np.ndarray
    prov_start: np.ndarray


@dataclass(frozen=True)
class _Universities:
    id: np.ndarray
    size: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    prefecture: np.ndarray
    province: np.ndarray


def _missing(table: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")


def _blocks(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each run of equal codes, and each row's run number."""
    new = np.r_[True, codes[1:] != codes[:-1]]
    return np.flatnonzero(new), np.cumsum(new) - 1


def _read_posts(posts: pd.DataFrame) -> _Posts:
    _missing(posts, "posts", POST_COLUMNS)
    if len(posts) == 0:
        raise ValueError("posts: the table is empty")
    table = posts.assign(**{c: posts[c].astype(str) for c in ("post_id", "prefecture", "province", "min_rank")})
    table = table.sort_values(["province", "prefecture"], kind="stable")
    problems = []
    if table["post_id"].duplicated().any():
        problems.append(f"duplicate post_id {sorted(table.loc[table['post_id'].duplicated(), 'post_id'])[:5]}")
    bad_rank = sorted(set(table["min_rank"]) - set(RANKS))
    if bad_rank:
        problems.append(f"min_rank must be one of {list(RANKS)}; got {bad_rank}")
    capacity = pd.to_numeric(table["capacity"], errors="coerce")
    if capacity.isna().any() or (capacity < 1).any() or (capacity % 1 != 0).any():
        problems.append("capacity must be an integer >= 1")
    lonlat = table[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    if lonlat.isna().any().any():
        problems.append("lon and lat must be numbers")
    pref_code = table["prefecture"].to_numpy(str)
    prov = table["province"].to_numpy(str)
    pref_start, pref = _blocks(pref_code)
    prov_start, _ = _blocks(prov)
    if len(np.unique(pref_code[pref_start])) != len(pref_start):
        problems.append("each prefecture must lie in one province")
    if problems:
        raise ValueError("posts: " + "; ".join(problems))
    if "kind" in table.columns:
        kind = table["kind"].astype(str).to_numpy()
    else:
        name = table["name"].astype(str)
        kind = np.where(name.str.endswith("区"), "district", np.where(name.str.endswith("市"), "city", "county"))
    return _Posts(
        id=table["post_id"].to_numpy(str),
        lon=lonlat["lon"].to_numpy(float),
        lat=lonlat["lat"].to_numpy(float),
        capacity=capacity.to_numpy(np.int64),
        level=table["min_rank"].map(RANK_LEVEL).to_numpy(np.int64),
        kind=kind,
        province=prov,
        pref=pref,
        pref_code=pref_code[pref_start],
        pref_start=pref_start,
        prov_code=prov[prov_start],
        prov_start=prov_start,
    )


def _code_column(table: pd.DataFrame, column: str, derived: np.ndarray) -> np.ndarray:
    if column not in table.columns:
        return derived
    given = table[column]
    return np.where(given.notna().to_numpy(), given.astype(str).to_numpy(), derived)


def _read_universities(universities: pd.DataFrame, only: list[str] | None) -> _Universities:
    _missing(universities, "universities", UNIVERSITY_COLUMNS)
    table = universities.assign(university_id=universities["university_id"].astype(str))
    problems = []
    if table["university_id"].duplicated().any():
        problems.append("duplicate university_id")
    if only is not None:
        unknown = sorted(set(only) - set(table["university_id"]))
        if unknown:
            problems.append(f"config.universities names unknown ids {unknown}")
        table = table[table["university_id"].isin(only)]
    if len(table) == 0:
        problems.append("no university selected")
    size = pd.to_numeric(table["size"], errors="coerce")
    if size.isna().any() or (size <= 0).any():
        problems.append("size must be a positive number")
    lonlat = table[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    if lonlat.isna().any().any():
        problems.append("lon and lat must be numbers")
    if problems:
        raise ValueError("universities: " + "; ".join(problems))
    adcode = table["adcode"].astype(str).to_numpy()
    return _Universities(
        id=table["university_id"].to_numpy(str),
        size=size.to_numpy(float),
        lon=lonlat["lon"].to_numpy(float),
        lat=lonlat["lat"].to_numpy(float),
        prefecture=_code_column(table, "prefecture", prefecture_of(adcode)),
        province=_code_column(table, "province", province_of(adcode)),
    )
