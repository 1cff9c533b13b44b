"""Stated preferences (soft).

Each cadre lists ranked wishes; a wish names a post, a prefecture or a province.
For a pair (c, p) the wish that counts is the best-ranked one whose area contains
p: the lowest wish number among a wish for p itself, one for p's prefecture and
one for p's province. If it is wish number k, the score is ``points[k-1]``
(wishes past the end of the list score ``points[-1]``); a pair that meets no wish
scores 0.

    score(c, p) = points[k(c, p) - 1]      unit: wish points

So a wish inside an earlier wish's area (a prefecture after its own province, a
post after its prefecture) can never count; ``shadowed_wishes`` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from ..i18n import _
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
        """Wish number each pair meets (0 where none): the best-ranked wish whose area holds the post."""
        inst = pairs.instance
        wishes = _wish_keys(inst)
        n_regions = len(inst.regions)
        by_post = pair_lookup(pairs.keys(inst.n_posts, pairs.post), *wishes["post"], 0)
        by_prefecture = pair_lookup(pairs.keys(n_regions, inst.post_prefecture[pairs.post]), *wishes["prefecture"], 0)
        by_province = pair_lookup(pairs.keys(n_regions, inst.post_province[pairs.post]), *wishes["province"], 0)
        met = np.stack([by_post, by_prefecture, by_province])
        best = np.where(met > 0, met, np.iinfo(np.int64).max).min(0)
        return np.where((met > 0).any(0), best, 0)

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


@dataclass(frozen=True)
class ShadowedWish:
    """A wish that can never count: its area lies inside the area of an earlier wish of the same cadre."""

    file: str
    row: int  # as a spreadsheet shows it: the header is row 1
    cadre_id: str
    choice: int
    target: str
    shadowed_by_choice: int
    shadowed_by_target: str

    def __str__(self) -> str:
        return _(
            "{file} row {row}: wish {choice} of {cadre} ({target}) can never count: it lies inside wish "
            "{earlier} ({earlier_target}), which ranks before it"
        ).format(
            file=self.file,
            row=self.row,
            choice=self.choice,
            cadre=self.cadre_id,
            target=self.target,
            earlier=self.shadowed_by_choice,
            earlier_target=self.shadowed_by_target,
        )


def containing_areas(targets: np.ndarray, posts: pd.DataFrame) -> np.ndarray:
    """Per wish target, the areas that contain it, itself included: rows target, prefecture, province.

    A (3, n) object array; None where a level does not apply (a prefecture's
    prefecture, a province's prefecture and province).
    """
    post_ids = posts["post_id"].to_numpy(str)
    prefecture_of_post = pd.Series(posts["prefecture"].to_numpy(str), index=post_ids)
    province_of_post = pd.Series(posts["province"].to_numpy(str), index=post_ids)
    province_of_prefecture = province_of_post.groupby(prefecture_of_post.to_numpy()).first()
    province = province_of_post.reindex(targets).fillna(province_of_prefecture.reindex(targets))
    areas = np.array([targets, prefecture_of_post.reindex(targets).to_numpy(), province.to_numpy()], dtype=object)
    return np.where(pd.isna(areas), None, areas)


def shadowed_wishes(tables: dict[str, pd.DataFrame], file: str = "preferences") -> list[ShadowedWish]:
    """Every wish whose area an earlier wish of the same cadre already contains, with the earliest such wish.

    A prefecture after its own province, a post after its prefecture or province,
    and a target listed twice all qualify. ``file`` names the preferences table in
    the warnings; rows count as in a file without blank lines.
    """
    prefs = tables["preferences"].reset_index(drop=True)
    target = prefs["target"].to_numpy(str)
    rows = np.arange(len(prefs))
    cadre = prefs["cadre_id"].to_numpy(str)
    areas = pd.DataFrame(
        {"row": np.tile(rows, 3), "cadre_id": np.tile(cadre, 3), "target": containing_areas(target, tables["posts"]).ravel()}
    ).dropna()
    earlier = prefs[["cadre_id", "target", "choice"]].assign(earlier_row=rows)
    found = areas.merge(earlier, on=["cadre_id", "target"])
    choice = prefs["choice"].to_numpy(np.int64)[found["row"].to_numpy()]
    before = (found["choice"].to_numpy() < choice) | (
        (found["choice"].to_numpy() == choice) & (found["earlier_row"].to_numpy() < found["row"].to_numpy())
    )
    first = found[before].sort_values(["row", "choice", "earlier_row"]).drop_duplicates("row")
    return [
        ShadowedWish(
            file=file,
            row=int(row) + 2,
            cadre_id=str(cadre[row]),
            choice=int(choice_of_row),
            target=str(target[row]),
            shadowed_by_choice=int(by_choice),
            shadowed_by_target=str(by_target),
        )
        for row, choice_of_row, by_choice, by_target in zip(
            first["row"], prefs["choice"].to_numpy()[first["row"].to_numpy()], first["choice"], first["target"]
        )
    ]
