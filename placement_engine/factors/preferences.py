"""Stated preferences (soft).

Each cadre lists ranked wishes; a wish names a post, a prefecture or a province.
For a pair (c, p) the wish that counts is the most specific one that contains p:
a wish for p itself, else one for p's prefecture, else one for p's province. If
it is wish number k, the score is ``points[k-1]`` (wishes past the end of the
list score ``points[-1]``); a pair that meets no wish scores 0.

    score(c, p) = points[k(c, p) - 1]      unit: wish points
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from ..instance import Instance, PairTable, pair_lookup
from .base import Factor, FactorParams


class PreferencesParams(FactorParams):
    weight: float = 1.0
    points: list[float] = Field(
        default_factory=lambda: [100.0, 80.0, 60.0, 40.0, 20.0],
        description="wish points for the 1st, 2nd, ... wish met",
    )

    @field_validator("points")
    @classmethod
    def _non_empty(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("at least one value")
        return value


class Preferences(Factor):
    name = "preferences"
    unit = "wish points"
    Params = PreferencesParams

    def matched_choice(self, pairs: PairTable) -> np.ndarray:
        """Wish number each pair meets (0 where none), most specific target first."""
        inst = pairs.instance
        wishes = _wish_keys(inst)
        n_regions = len(inst.regions)
        by_post = pair_lookup(pairs.keys(inst.n_posts, pairs.post), *wishes["post"], 0)
        by_prefecture = pair_lookup(pairs.keys(n_regions, inst.post_prefecture[pairs.post]), *wishes["prefecture"], 0)
        by_province = pair_lookup(pairs.keys(n_regions, inst.post_province[pairs.post]), *wishes["province"], 0)
        return np.where(by_post > 0, by_post, np.where(by_prefecture > 0, by_prefecture, by_province))

    def scores(self, pairs: PairTable, params: PreferencesParams) -> np.ndarray:
        choice = self.matched_choice(pairs)
        points = np.asarray([0.0, *params.points])
        return points[np.minimum(choice, len(params.points))]

    def columns(self, pairs: PairTable, params: PreferencesParams) -> dict[str, np.ndarray]:
        return {"choice": self.matched_choice(pairs)}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        choice = columns["choice"][assigned]
        n = len(choice)
        return {
            "first_choice_share": float(np.mean(choice == 1)) if n else None,
            "top3_share": float(np.mean((choice >= 1) & (choice <= 3))) if n else None,
            "no_wish_met": int(np.sum(choice == 0)),
        }


def _wish_keys(inst: Instance) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(key, choice) arrays of the wishes at each level, keyed like PairTable.keys."""
    cached = inst.__dict__.get("_wish_keys")
    if cached is not None:
        return cached
    prefs = inst.tables["preferences"].sort_values("choice", kind="stable")
    cadre = inst.cadre_index(prefs["cadre_id"].to_numpy(str))
    target = prefs["target"].to_numpy(str)
    choice = prefs["choice"].to_numpy(np.int64)
    post = inst.post_index(target)
    region = inst.region_index(target)
    is_province = np.char.endswith(target, "0000")
    n_regions = len(inst.regions)
    levels = {
        "post": post >= 0,
        "prefecture": (post < 0) & (region >= 0) & ~is_province,
        "province": (post < 0) & (region >= 0) & is_province,
    }
    keys = {
        "post": cadre * inst.n_posts + post,
        "prefecture": cadre * n_regions + region,
        "province": cadre * n_regions + region,
    }
    result = {level: (keys[level][mask], choice[mask]) for level, mask in levels.items()}
    inst.__dict__["_wish_keys"] = result
    return result
