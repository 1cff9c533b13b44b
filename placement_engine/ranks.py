"""The rank ladder of cadres and posts, lowest first.

Codes are English so that tables stay ASCII; the Chinese term is kept for
reports. A post's ``min_rank`` and a cadre's ``rank`` are compared by their
position on this ladder.
"""

RANKS: tuple[str, ...] = ("staff", "deputy_section", "section", "deputy_division", "division")

RANK_NAMES_ZH: dict[str, str] = {
    "staff": "科员",
    "deputy_section": "副科",
    "section": "正科",
    "deputy_division": "副处",
    "division": "正处",
}

RANK_LEVEL: dict[str, int] = {rank: level for level, rank in enumerate(RANKS)}
