"""Rank matching (hard): a cadre's rank must reach the post's minimum rank.

    blocked(c, p) = level(rank_c) < level(min_rank_p)

Levels follow the ladder staff < deputy_section < section < deputy_division <
division. Posts in the sub-provincial cities (Jinan, Qingdao) set
deputy_division.
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_
from ..instance import PairTable
from .base import Rule, Switch


class Rank(Rule):
    name = "rank"
    summary = N_("a cadre's rank must reach the post's minimum rank")
    blocks = N_("the cadre's rank is below the post's minimum rank")
    switches = {"rank": Switch(True, N_("a cadre's rank must reach the post's min_rank"))}

    def blocked(self, pairs: PairTable, policy) -> np.ndarray:
        inst = pairs.instance
        return inst.cadre_rank[pairs.cadre] < inst.post_min_rank[pairs.post]
