"""Cross-province postings for volunteers (hard).

    blocked(c, p) = province(p) != province(university_c)
                    and not (volunteer_c and paired(province(university_c), province(p)))

Without a pairings table every province is paired with every other one, so any
volunteer may cross (the Qinghai postings of the first batch).
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_
from ..instance import PairTable
from .base import Rule, Switch


class CrossProvince(Rule):
    name = "cross_province"
    summary = N_("a post in another province goes only to a volunteer whose province is paired with it")
    blocks = N_("the post is in another province and the cadre did not volunteer (or the pairings table does not pair the provinces)")
    switches = {"cross_province_volunteers_only": Switch(True, N_("cross-province posts go to volunteers only"))}

    def blocked(self, pairs: PairTable, policy) -> np.ndarray:
        inst = pairs.instance
        from_province, to_province = inst.province_pairings()
        n_regions = len(inst.regions)
        paired = np.isin(
            inst.university_province[pairs.university].astype(np.int64) * n_regions + inst.post_province[pairs.post],
            from_province.astype(np.int64) * n_regions + to_province,
        )
        return pairs.cross_province & ~(inst.cadre_volunteer[pairs.cadre] & paired)
