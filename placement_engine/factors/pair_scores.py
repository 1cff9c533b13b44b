"""Analyst-supplied pair scores (soft).

The optional ``pair_scores`` table gives extra scores for chosen (cadre, post)
pairs, in whatever unit the analyst uses; pairs not listed score 0:

    score(c, p) = pair_scores[c, p], or 0      unit: analyst points
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem
from ..instance import PairTable, pair_lookup
from .base import Factor, FactorParams


class PairScoresParams(FactorParams):
    weight: float = 1.0


class PairScores(Factor):
    name = "pair_scores"
    unit = "analyst points"
    Params = PairScoresParams

    def check_inputs(self, tables: dict[str, pd.DataFrame], params: PairScoresParams) -> list[Problem]:
        if params.weight != 0 and "pair_scores" not in tables:
            return [Problem("policy", "factors.pair_scores", "a pair_scores table in the scenario", "none")]
        return []

    def scores(self, pairs: PairTable, params: PairScoresParams) -> np.ndarray:
        table = pairs.instance.tables.get("pair_scores")
        if table is None or len(table) == 0:
            return np.zeros(len(pairs))
        inst = pairs.instance
        keys = inst.cadre_index(table["cadre_id"].to_numpy(str)) * inst.n_posts + inst.post_index(
            table["post_id"].to_numpy(str)
        )
        return pair_lookup(pairs.keys(inst.n_posts, pairs.post), keys, table["score"].to_numpy(float), 0.0)
