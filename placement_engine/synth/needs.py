"""``post_needs``: seeded, synthetic needs for a posts table (the ``needs`` column)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..factors.local_needs import NAMES
from .pool import _race, _top

# A need's weight before the post's kind and region are taken into account.
BASE_WEIGHT: dict[str, float] = {
    "法律": 1.0, "农业": 1.0, "创业就业": 1.0, "教育": 1.0,
    "科技": 0.5, "医疗卫生": 0.5, "电子商务": 0.5, "文化": 0.5, "民族团结": 0.0,
}  # fmt: skip
# Factors by the kind of county-level unit: farming in counties, jobs and commerce in districts.
RURAL_KINDS = ("county", "autonomous_county", "banner", "autonomous_banner", "forestry_district")
KIND_FACTOR: dict[str, dict[str, float]] = {
    "rural": {"农业": 3.0},
    "district": {"农业": 0.2, "创业就业": 2.0, "电子商务": 2.0, "科技": 2.0},
    "city": {"创业就业": 1.5, "电子商务": 1.5},
}
# Ethnic unity is asked for in autonomous units and in the autonomous regions and
# multi-ethnic provinces of the west (Inner Mongolia, Guangxi, Guizhou, Yunnan,
# Tibet, Qinghai, Ningxia, Xinjiang).
ETHNIC_WEIGHT = 2.0
ETHNIC_PROVINCES = ("150000", "450000", "520000", "530000", "540000", "630000", "640000", "650000")


def _kinds(posts: pd.DataFrame) -> np.ndarray:
    if "kind" in posts.columns:
        return posts["kind"].astype(str).to_numpy()
    name = posts["name"].astype(str)
    return np.where(name.str.endswith("区"), "district", np.where(name.str.endswith("市"), "city", "county"))


def need_weights(posts: pd.DataFrame) -> np.ndarray:
    """(posts, vocabulary) draw weights: BASE_WEIGHT times the kind's factors, ethnic unity where it applies."""
    kind = _kinds(posts)
    group = np.where(np.isin(kind, RURAL_KINDS), "rural", kind)
    weight = np.tile(np.array([BASE_WEIGHT[name] for name in NAMES]), (len(posts), 1))
    for name_of_group, factors in KIND_FACTOR.items():
        for need, factor in factors.items():
            weight[group == name_of_group, NAMES.index(need)] *= factor
    ethnic = (
        np.char.find(posts["name"].to_numpy(str), "自治") >= 0
    ) | np.isin(kind, ("autonomous_county", "autonomous_banner")) | np.isin(posts["province"].to_numpy(str), ETHNIC_PROVINCES)
    weight[ethnic, NAMES.index("民族团结")] = ETHNIC_WEIGHT
    return weight


def post_needs(
    posts: pd.DataFrame, seed: int, needs_min: int = 1, needs_max: int = 3, high_priority_share: float = 0.3
) -> np.ndarray:
    """A ``needs`` cell per post, in table order: synthetic, for scenarios that have no real ones.

    Each post lists a number of needs uniform in [needs_min, needs_max], drawn
    without replacement with ``need_weights`` (exponential race), the first drawn
    first; with probability ``high_priority_share`` that first need has priority 2.
    The draws come from ``numpy.random.default_rng([seed, 1])``, a stream apart
    from the cadre pool drawn with the same seed.
    """
    if not 1 <= needs_min <= needs_max <= len(NAMES):
        raise ValueError(f"needs_min and needs_max must satisfy 1 <= needs_min <= needs_max <= {len(NAMES)}")
    rng = np.random.default_rng([seed, 1])
    weight = need_weights(posts)
    count = np.minimum(rng.integers(needs_min, needs_max + 1, size=len(posts)), (weight > 0).sum(1))
    drawn = _top(_race(rng, weight), needs_max)
    high = rng.random(len(posts)) < high_priority_share
    names = np.asarray(NAMES, dtype=object)[drawn]
    names[:, 0] = np.where(high, names[:, 0] + ":2", names[:, 0])
    return np.array([";".join(row[:k]) for row, k in zip(names.tolist(), count.tolist(), strict=True)], dtype=object)
