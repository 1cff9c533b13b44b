"""The rank ladder of cadres and posts, lowest first.

Codes are English so that tables stay ASCII; the Chinese term is kept for
reports. A post's ``min_rank`` and a cadre's ``rank`` are compared by their
position on this ladder. Tables may also write a rank by its Chinese name
(科员, 副科, 正科, 副处, 正处, with or without 级): it is read as the code.
"""

from __future__ import annotations

import numpy as np

RANKS: tuple[str, ...] = ("staff", "deputy_section", "section", "deputy_division", "division")

RANK_NAMES_ZH: dict[str, str] = {
    "staff": "科员",
    "deputy_section": "副科",
    "section": "正科",
    "deputy_division": "副处",
    "division": "正处",
}

RANK_LEVEL: dict[str, int] = {rank: level for level, rank in enumerate(RANKS)}

# every spelling a table may use, to its code: the code as written, the Chinese name, and the
# Chinese name with 级 ("副处级", as notices write it)
RANK_SPELLINGS: dict[str, str] = {
    **{rank: rank for rank in RANKS},
    **{name: rank for rank, name in RANK_NAMES_ZH.items()},
    **{f"{name}级": rank for rank, name in RANK_NAMES_ZH.items()},
}


def parse_ranks(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank codes for stripped cells, and a mask of cells that name no rank (their code is '')."""
    cells = np.asarray(text, dtype=str)
    spellings = np.array(list(RANK_SPELLINGS))
    codes = np.array(list(RANK_SPELLINGS.values()))
    order = np.argsort(spellings)
    found = np.searchsorted(spellings[order], cells)
    found = np.minimum(found, len(spellings) - 1)
    known = spellings[order][found] == cells
    return np.where(known, codes[order][found], ""), ~known
