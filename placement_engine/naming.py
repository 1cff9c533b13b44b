"""Words for posts, regions, ranks, factors, sets of ids and counts, shared by every sentence the engine writes.

Every word here is in the current language (``placement_engine.i18n``); machine
names (factor and rule names, rank codes) stay English in files and tables.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .i18n import N_, _, current_language, ngettext
from .instance import Instance

LISTED = 20  # ids named in a message; the rest are counted

# factor and rule names as a reader sees them (English keeps the machine name)
WORDS = {
    "preferences": N_("preferences"),
    "proximity": N_("proximity"),
    "rank_fit": N_("rank_fit"),
    "partnership": N_("partnership"),
    "relay": N_("relay"),
    "cost": N_("cost"),
    "pair_scores": N_("pair_scores"),
    "local_needs": N_("local_needs"),
    "rank": N_("rank"),
    "cross_province": N_("cross_province"),
    "pins": N_("pins"),
    "seats": N_("seats"),
    "forbid_improving_swaps": N_("forbid_improving_swaps"),
    "staff": N_("staff"),
    "deputy_section": N_("deputy_section"),
    "section": N_("section"),
    "deputy_division": N_("deputy_division"),
    "division": N_("division"),
    "prefecture": N_("prefecture"),
    "province": N_("province"),
    # units of side constraints, in diagnoses
    "yuan": N_("yuan"),
    "cadres": N_("cadres"),
    "postings": N_("postings"),
    "posts": N_("posts"),
    # the factors' units, on figure axes
    "need points": N_("need points"),
    "analyst points": N_("analyst points"),
    "agreements": N_("agreements"),
    "wish points": N_("wish points"),
    "km": N_("km"),
    "rank steps": N_("rank steps"),
    "relay postings": N_("relay postings"),
    # relay modes of a chain
    "off": N_("off"),
    "weight": N_("weight"),
    "rule": N_("rule"),
}


def word(name: str) -> str:
    """A factor's, rule's, rank's or region level's name in the current language (unknown names as they are)."""
    return _(WORDS[name]) if name in WORDS else name


def plural(n: int, noun: str) -> str:
    """'1 post', '3 posts' ('3个岗位'); nouns without a translation keep the English plural."""
    forms = {
        "post": lambda: ngettext("{count} post", "{count} posts", n),
        "cadre": lambda: ngettext("{count} cadre", "{count} cadres", n),
        "seat": lambda: ngettext("{count} seat", "{count} seats", n),
        "other cadre": lambda: ngettext("{count} other cadre", "{count} other cadres", n),
        "university": lambda: ngettext("{count} university", "{count} universities", n),
    }
    if noun in forms:
        return forms[noun]().format(count=n)
    return f"{n} {noun}{'' if n == 1 else 's'}"


@lru_cache(maxsize=1)
def _shipped_region_names() -> dict[str, str]:
    from .data import counties

    units = counties()
    names = dict(zip(units["prefecture_code"].astype(str), units["prefecture_name"].astype(str)))
    names.update(zip(units["province_code"].astype(str), units["province_name"].astype(str)))
    return names


def region_name(inst: Instance, code: str) -> str:
    """A prefecture's or province's name: the posts table's own, else the shipped geography's, else the code."""
    posts = inst.tables["posts"]
    for level in ("prefecture", "province"):
        if f"{level}_name" in posts:
            hit = posts.loc[posts[level].astype(str) == code, f"{level}_name"]
            if len(hit):
                return str(hit.iat[0])
    return _shipped_region_names().get(code, code)


def post_label(inst: Instance, post: int) -> str:
    return f"{inst.post_id[post]} {inst.tables['posts']['name'].iat[post]}"


def university_name(inst: Instance, university_id: str) -> str:
    """The universities table's name for an id (``name_en`` in English when it has one), else the id."""
    universities = inst.tables["universities"]
    row = universities.loc[universities["university_id"].astype(str) == university_id]
    columns = ["name_en", "name"] if current_language() == "en" else ["name", "name_en"]
    for column in columns:
        if column in row and len(row) and str(row[column].iat[0]).strip() not in ("", "nan"):
            return str(row[column].iat[0])
    return university_id


def where(inst: Instance, posts: np.ndarray) -> str:
    """'济南市 and 青岛市' for up to three prefectures, else the provinces."""
    prefectures = np.unique(inst.regions[inst.post_prefecture[posts]])
    codes = prefectures if len(prefectures) <= 3 else np.unique(inst.regions[inst.post_province[posts]])
    return and_list([region_name(inst, str(code)) for code in codes])


def post_listing(inst: Instance, posts: np.ndarray) -> str:
    if len(posts) > LISTED:
        return _("{posts} in {where}").format(posts=plural(len(posts), "post"), where=where(inst, posts))
    return and_list([post_label(inst, p) for p in posts])


def listing(ids) -> str:
    ids = [str(i) for i in ids]
    if len(ids) > LISTED:
        return separator().join(ids[:LISTED]) + _(" and {count} more").format(count=len(ids) - LISTED)
    return separator().join(ids)


def and_list(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return separator().join(words[:-1]) + _(" and ") + words[-1]


def separator() -> str:
    """Between the items of a list: ', ' in English, '、' in Chinese."""
    return "、" if current_language() == "zh" else ", "
