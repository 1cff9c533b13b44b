"""Rank fit (soft): do not spend senior cadres on posts that need less.

With ranks as positions on the ladder staff < deputy_section < section <
deputy_division < division, a cadre placed above the rank a post needs costs one
unit per step:

    score(c, p) = -max(0, rank(c) - min_rank(p))      unit: rank steps
"""

from __future__ import annotations

import numpy as np

from ..instance import PairTable
from .base import Factor, FactorParams


class RankFitParams(FactorParams):
    weight: float = 30.0


class RankFit(Factor):
    name = "rank_fit"
    unit = "rank steps"
    Params = RankFitParams

    def excess(self, pairs: PairTable) -> np.ndarray:
        inst = pairs.instance
        gap = inst.cadre_rank[pairs.cadre].astype(np.int64) - inst.post_min_rank[pairs.post]
        return np.maximum(gap, 0)

    def scores(self, pairs: PairTable, params: RankFitParams) -> np.ndarray:
        return -self.excess(pairs).astype(float)

    def columns(self, pairs: PairTable, params: RankFitParams) -> dict[str, np.ndarray]:
        return {"rank_excess": self.excess(pairs)}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        return {"over_ranked": int(np.sum(columns["rank_excess"][assigned] > 0))}
