"""University–locality partnership agreements (soft).

An agreement names a post (its county) or a prefecture. A pair scores 1 when the
cadre's university has an agreement with the post's county, ``prefecture_share``
when it has one with the post's prefecture only, and 0 otherwise:

    score(c, p) = 1 if (u(c), p) agreed, else prefecture_share if (u(c), pref(p)) agreed, else 0
    unit: agreements
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..instance import PairTable, pair_lookup
from .base import Factor, FactorParams


class PartnershipParams(FactorParams):
    weight: float = 25.0
    prefecture_share: float = Field(0.5, ge=0, le=1, description="credit for a prefecture-wide agreement")


class Partnership(Factor):
    name = "partnership"
    unit = "agreements"
    Params = PartnershipParams

    def _levels(self, pairs: PairTable) -> tuple[np.ndarray, np.ndarray]:
        inst = pairs.instance
        table = inst.tables["partnerships"]
        uni = inst.university_index(table["university_id"].to_numpy(str))
        target = table["target"].to_numpy(str)
        post = inst.post_index(target)
        region = inst.region_index(target)
        n_regions = len(inst.regions)
        county_keys = (uni * inst.n_posts + post)[post >= 0]
        prefecture_keys = (uni * n_regions + region)[(post < 0) & (region >= 0)]
        pair_county = pairs.university.astype(np.int64) * inst.n_posts + pairs.post
        pair_prefecture = pairs.university.astype(np.int64) * n_regions + inst.post_prefecture[pairs.post]
        return (
            pair_lookup(pair_county, county_keys, np.ones(len(county_keys), bool), False),
            pair_lookup(pair_prefecture, prefecture_keys, np.ones(len(prefecture_keys), bool), False),
        )

    def scores(self, pairs: PairTable, params: PartnershipParams) -> np.ndarray:
        county, prefecture = self._levels(pairs)
        return np.where(county, 1.0, np.where(prefecture, params.prefecture_share, 0.0))

    def columns(self, pairs: PairTable, params: PartnershipParams) -> dict[str, np.ndarray]:
        county, prefecture = self._levels(pairs)
        return {"partnership": (county | prefecture).astype(np.int8)}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        flag = columns["partnership"][assigned]
        return {"partnership_share": float(flag.mean()) if len(flag) else None}
