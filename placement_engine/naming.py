"""Words for posts, regions, sets of ids and counts, shared by every sentence the engine writes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .instance import Instance

LISTED = 20  # ids named in a message; the rest are counted


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


def where(inst: Instance, posts: np.ndarray) -> str:
    """'济南市 and 青岛市' for up to three prefectures, else the provinces."""
    prefectures = np.unique(inst.regions[inst.post_prefecture[posts]])
    codes = prefectures if len(prefectures) <= 3 else np.unique(inst.regions[inst.post_province[posts]])
    return and_list([region_name(inst, str(code)) for code in codes])


def post_listing(inst: Instance, posts: np.ndarray) -> str:
    if len(posts) > LISTED:
        return f"{plural(len(posts), 'post')} in {where(inst, posts)}"
    return and_list([post_label(inst, p) for p in posts])


def listing(ids) -> str:
    ids = [str(i) for i in ids]
    if len(ids) > LISTED:
        return ", ".join(ids[:LISTED]) + f" and {len(ids) - LISTED} more"
    return ", ".join(ids)


def and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
