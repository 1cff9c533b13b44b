"""Numeric view of a validated scenario: index arrays that factors and the model share.

Every table is turned into numpy arrays once. A ``PairTable`` holds a set of
(cadre, post) pairs as two index arrays; factors compute their scores on it, so
the same code scores the allowed pairs for the model and the assigned pairs of a
finished allocation (the solver-free check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .geo import haversine_km
from .ranks import RANK_LEVEL


@dataclass
class Instance:
    """Arrays for cadres, posts and universities, in table order."""

    tables: dict[str, pd.DataFrame]
    cadre_id: np.ndarray
    cadre_university: np.ndarray  # index into universities
    cadre_rank: np.ndarray  # level on the rank ladder
    cadre_volunteer: np.ndarray  # bool
    post_id: np.ndarray
    post_prefecture: np.ndarray  # index into ``regions``
    post_province: np.ndarray  # index into ``regions``
    post_lon: np.ndarray
    post_lat: np.ndarray
    post_capacity: np.ndarray
    post_min_rank: np.ndarray
    university_id: np.ndarray
    university_lon: np.ndarray
    university_lat: np.ndarray
    university_prefecture: np.ndarray  # index into ``regions``
    university_province: np.ndarray  # index into ``regions``
    regions: np.ndarray  # sorted 6-digit prefecture and province codes
    _post_index: dict[str, int] = field(default_factory=dict, repr=False)
    _cadre_index: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame]) -> Instance:
        posts, cadres, unis = tables["posts"], tables["cadres"], tables["universities"]
        regions = np.unique(
            np.concatenate(
                [
                    posts["prefecture"].to_numpy(str),
                    posts["province"].to_numpy(str),
                    unis["prefecture"].to_numpy(str),
                    unis["province"].to_numpy(str),
                ]
            )
        )
        university_id = unis["university_id"].to_numpy(str)
        uni_order = np.argsort(university_id, kind="stable")
        uni_pos = uni_order[np.searchsorted(university_id, cadres["university_id"].to_numpy(str), sorter=uni_order)]
        rank_level = np.vectorize(RANK_LEVEL.__getitem__, otypes=[np.int8])
        return cls(
            tables=tables,
            cadre_id=cadres["cadre_id"].to_numpy(str),
            cadre_university=uni_pos.astype(np.int32),
            cadre_rank=rank_level(cadres["rank"].to_numpy(str)) if len(cadres) else np.zeros(0, np.int8),
            cadre_volunteer=cadres["cross_province_ok"].to_numpy(bool),
            post_id=posts["post_id"].to_numpy(str),
            post_prefecture=np.searchsorted(regions, posts["prefecture"].to_numpy(str)).astype(np.int32),
            post_province=np.searchsorted(regions, posts["province"].to_numpy(str)).astype(np.int32),
            post_lon=posts["lon"].to_numpy(float),
            post_lat=posts["lat"].to_numpy(float),
            post_capacity=posts["capacity"].to_numpy(np.int64),
            post_min_rank=rank_level(posts["min_rank"].to_numpy(str)) if len(posts) else np.zeros(0, np.int8),
            university_id=university_id,
            university_lon=unis["lon"].to_numpy(float),
            university_lat=unis["lat"].to_numpy(float),
            university_prefecture=np.searchsorted(regions, unis["prefecture"].to_numpy(str)).astype(np.int32),
            university_province=np.searchsorted(regions, unis["province"].to_numpy(str)).astype(np.int32),
            regions=regions,
        )

    @property
    def n_cadres(self) -> int:
        return len(self.cadre_id)

    @property
    def n_posts(self) -> int:
        return len(self.post_id)

    def post_index(self, ids) -> np.ndarray:
        """Row numbers of post ids (-1 where unknown)."""
        return _lookup(self.post_id, ids)

    def cadre_index(self, ids) -> np.ndarray:
        """Row numbers of cadre ids (-1 where unknown)."""
        return _lookup(self.cadre_id, ids)

    def university_index(self, ids) -> np.ndarray:
        """Row numbers of university ids (-1 where unknown)."""
        return _lookup(self.university_id, ids)

    def region_index(self, codes) -> np.ndarray:
        """Index of 6-digit region codes in ``regions`` (-1 where unknown)."""
        return _lookup(self.regions, codes)

    def province_pairings(self) -> tuple[np.ndarray, np.ndarray]:
        """(from, to) region indices of the provinces whose volunteers may cross to each other.

        Without a pairings table every province is paired with every other one.
        """
        table = self.tables.get("pairings")
        if table is None:
            provinces = np.unique(np.concatenate([self.post_province, self.university_province]))
            return np.repeat(provinces, len(provinces)), np.tile(provinces, len(provinces))
        return (
            self.region_index(table["from_province"].to_numpy(str)),
            self.region_index(table["to_province"].to_numpy(str)),
        )

    @cached_property
    def pins(self) -> Pins:
        """The pins table as index arrays (empty without one); the one place it is parsed."""
        table = self.tables.get("pins")
        if table is None or not len(table):
            empty = np.zeros(0, np.int64)
            return Pins(empty, empty, np.zeros(0, bool))
        return Pins(
            self.cadre_index(table["cadre_id"].to_numpy(str)),
            self.post_index(table["post_id"].to_numpy(str)),
            table["kind"].to_numpy(str) == "pin",
        )

    def pairs(self, cadre, post) -> PairTable:
        return PairTable(self, np.asarray(cadre, dtype=np.int32), np.asarray(post, dtype=np.int32))


@dataclass(frozen=True)
class Pins:
    """Rows of the pins table: cadre and post indices, and whether each is a pin (else a forbid)."""

    cadre: np.ndarray
    post: np.ndarray
    is_pin: np.ndarray


def _lookup(sorted_or_not: np.ndarray, ids) -> np.ndarray:
    ids = np.asarray(ids, dtype=str)
    if len(sorted_or_not) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(sorted_or_not, kind="stable")
    pos = np.searchsorted(sorted_or_not, ids, sorter=order)
    pos = np.minimum(pos, len(order) - 1)
    found = order[pos]
    return np.where(sorted_or_not[found] == ids, found, -1).astype(np.int64)


@dataclass
class PairTable:
    """A set of (cadre, post) pairs as parallel index arrays, with derived columns."""

    instance: Instance
    cadre: np.ndarray
    post: np.ndarray

    def __len__(self) -> int:
        return len(self.cadre)

    @cached_property
    def university(self) -> np.ndarray:
        return self.instance.cadre_university[self.cadre]

    @cached_property
    def distance_km(self) -> np.ndarray:
        inst = self.instance
        return haversine_km(
            inst.university_lon[self.university],
            inst.university_lat[self.university],
            inst.post_lon[self.post],
            inst.post_lat[self.post],
        )

    @cached_property
    def cross_province(self) -> np.ndarray:
        inst = self.instance
        return inst.university_province[self.university] != inst.post_province[self.post]

    @cached_property
    def same_prefecture(self) -> np.ndarray:
        inst = self.instance
        return inst.university_prefecture[self.university] == inst.post_prefecture[self.post]

    def keys(self, n_columns: int, column: np.ndarray) -> np.ndarray:
        """Row-major keys ``cadre * n_columns + column`` for set lookups."""
        return self.cadre.astype(np.int64) * n_columns + column

    def subset(self, mask: np.ndarray) -> PairTable:
        return PairTable(self.instance, self.cadre[mask], self.post[mask])


def pair_lookup(pair_keys: np.ndarray, table_keys: np.ndarray, table_values: np.ndarray, default) -> np.ndarray:
    """Value of each pair key in a (key -> value) table, ``default`` where absent.

    Where a key repeats in the table, the first occurrence after a stable sort wins,
    so callers sort by priority first.
    """
    out = np.full(len(pair_keys), default, dtype=np.result_type(table_values, np.asarray(default)))
    if len(table_keys) == 0 or len(pair_keys) == 0:
        return out
    order = np.argsort(table_keys, kind="stable")
    sorted_keys = table_keys[order]
    pos = np.minimum(np.searchsorted(sorted_keys, pair_keys), len(sorted_keys) - 1)
    hit = sorted_keys[pos] == pair_keys
    out[hit] = table_values[order[pos[hit]]]
    return out


def expand_matches(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query, every value whose key equals it: (query index, value) arrays, vectorised."""
    first = np.searchsorted(sorted_keys, queries, side="left")
    count = np.searchsorted(sorted_keys, queries, side="right") - first
    which = np.repeat(np.arange(len(queries)), count)
    within = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    return which, values[np.repeat(first, count) + within]
