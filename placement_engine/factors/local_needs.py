"""Serving local development (soft): a cadre whose skills cover what the county asked for.

A post may list needs in the ``needs`` column of ``posts`` (semicolon-separated,
from ``VOCABULARY``), each with an optional priority written ``法律:2`` (default 1).
A cadre has skills in the ``skills`` column of ``cadres``, from the same
vocabulary. A pair scores the summed priority of the post's needs that the
cadre's skills cover:

    score(c, p) = sum of priority(p, n) over the needs n of p in skills(c)      unit: need points

Cells accept the Chinese names and their English aliases (``law;agriculture``),
and are stored in the canonical Chinese form (``法律:2;农业``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..instance import Instance, PairTable
from ..naming import and_list
from .base import Factor, FactorParams

# canonical name -> English alias; the order is the generator's draw order (synth.SKILLS)
VOCABULARY: dict[str, str] = {
    "法律": "law",
    "农业": "agriculture",
    "创业就业": "jobs",
    "教育": "education",
    "科技": "technology",
    "医疗卫生": "health",
    "电子商务": "ecommerce",
    "文化": "culture",
    "民族团结": "ethnic_unity",
}
NAMES: tuple[str, ...] = tuple(VOCABULARY)
# what a need is about, for sentences; the catalogue gives the Chinese
LABELS: dict[str, str] = {
    "法律": N_("law"),
    "农业": N_("agriculture"),
    "创业就业": N_("entrepreneurship and jobs"),
    "教育": N_("education"),
    "科技": N_("technology"),
    "医疗卫生": N_("health care"),
    "电子商务": N_("e-commerce"),
    "文化": N_("culture"),
    "民族团结": N_("ethnic unity"),
}


def _folded(word: str) -> str:
    """Case, spaces, hyphens and underscores do not matter in an English alias."""
    return re.sub(r"[\s_-]+", "", word).lower()


_CANONICAL = {**{name: name for name in NAMES}, **{_folded(alias): name for name, alias in VOCABULARY.items()}}
_ITEM_SEPARATOR = re.compile(r"[;；]")
_PRIORITY_SEPARATOR = re.compile(r"[:：]")


def _vocabulary_text() -> str:
    return ", ".join(f"{name} ({alias})" for name, alias in VOCABULARY.items())


def _parse_cell(cell: str, with_priority: bool) -> str | None:
    """The canonical form of one cell, or None when it is not valid."""
    seen: list[str] = []
    out: list[str] = []
    for item in filter(None, (part.strip() for part in _ITEM_SEPARATOR.split(cell))):
        word, *priority = (part.strip() for part in _PRIORITY_SEPARATOR.split(item))
        name = _CANONICAL.get(word) or _CANONICAL.get(_folded(word))
        if name is None or name in seen or len(priority) > (1 if with_priority else 0):
            return None
        seen.append(name)
        if priority:
            try:
                value = float(priority[0])
            except ValueError:
                return None
            if not np.isfinite(value) or value <= 0:
                return None
            out.append(name if value == 1 else f"{name}:{value:g}")
        else:
            out.append(name)
    return ";".join(out)


def _parse_column(text: np.ndarray, with_priority: bool) -> tuple[np.ndarray, np.ndarray]:
    """Canonical cells and a mask of bad ones; each distinct cell is parsed once."""
    distinct, inverse = np.unique(np.asarray(text, dtype=str), return_inverse=True)
    parsed = [_parse_cell(cell, with_priority) for cell in distinct.tolist()]
    bad = np.array([value is None for value in parsed], bool)
    canonical = np.array(["" if value is None else value for value in parsed], dtype=object)
    return canonical[inverse.ravel()], bad[inverse.ravel()]


def parse_needs(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``needs`` column: canonical cells, bad cells, and what a cell should be."""
    values, bad = _parse_column(text, with_priority=True)
    expected = _(
        "needs from the vocabulary {names}, separated by ';', each at most once, with an optional priority > 0 "
        "after ':' (法律:2;农业)"
    ).format(names=_vocabulary_text())
    return values, bad, expected


def parse_skills(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The ``skills`` column: canonical cells, bad cells, and what a cell should be."""
    values, bad = _parse_column(text, with_priority=False)
    expected = _("skills from the vocabulary {names}, separated by ';', each at most once").format(
        names=_vocabulary_text()
    )
    return values, bad, expected


def _items(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, vocabulary index, priority) of every item in canonical cells."""
    items = pd.Series(cells, dtype=object).str.split(";").explode()
    items = items[items.fillna("") != ""]
    if items.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    parts = items.str.partition(":")
    name = pd.Series(range(len(NAMES)), index=NAMES).reindex(parts[0]).to_numpy(np.int64)
    priority = pd.to_numeric(parts[2].where(parts[2] != "", "1")).to_numpy(float)
    return items.index.to_numpy(np.int64), name, priority


class LocalNeedsParams(FactorParams):
    weight: float = 10.0


class LocalNeeds(Factor):
    name = "local_needs"
    unit = "need points"
    Params = LocalNeedsParams

    def matrices(self, inst: Instance) -> tuple[np.ndarray, np.ndarray]:
        """Need priority per (post, vocabulary entry), and skill flags per (cadre, vocabulary entry)."""
        cached = inst.__dict__.get("_local_needs")
        if cached is not None:
            return cached
        priority = np.zeros((inst.n_posts, len(NAMES)))
        skills = np.zeros((inst.n_cadres, len(NAMES)), bool)
        posts, cadres = inst.tables["posts"], inst.tables["cadres"]
        if "needs" in posts:
            row, name, value = _items(posts["needs"].to_numpy(str))
            priority[row, name] = value
        if "skills" in cadres:
            row, name, _value = _items(cadres["skills"].to_numpy(str))
            skills[row, name] = True
        inst.__dict__["_local_needs"] = (priority, skills)
        return priority, skills

    def _by_skill_set(self, inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each cadre's skill set as a bit mask, and per (post, skill set) the need points and needs met.

        With 9 words there are 512 skill sets, so a pair's score is one lookup, whatever its skills.
        """
        cached = inst.__dict__.get("_local_needs_by_skill_set")
        if cached is not None:
            return cached
        priority, skills = self.matrices(inst)
        bits = (np.arange(2 ** len(NAMES))[:, None] >> np.arange(len(NAMES))) & 1
        mask = skills.astype(np.int64) @ (1 << np.arange(len(NAMES)))
        result = (mask, priority @ bits.T, ((priority > 0).astype(np.int64) @ bits.T))
        inst.__dict__["_local_needs_by_skill_set"] = result
        return result

    def scores(self, pairs: PairTable, params: LocalNeedsParams) -> np.ndarray:
        mask, points, _met = self._by_skill_set(pairs.instance)
        return points[pairs.post, mask[pairs.cadre]]

    def columns(self, pairs: PairTable, params: LocalNeedsParams) -> dict[str, np.ndarray]:
        priority, _skills = self.matrices(pairs.instance)
        mask, _points, met = self._by_skill_set(pairs.instance)
        return {
            "needs_listed": (priority > 0).sum(1)[pairs.post].astype(np.int64),
            "needs_met": met[pairs.post, mask[pairs.cadre]],
        }

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        asked = assigned & (columns["needs_listed"] > 0)
        met = columns["needs_met"][asked] > 0
        return {"needs_met_share": float(met.mean()) if asked.any() else None}

    def describe_pair(self, instance: Instance, cadre_index: int, post_index: int) -> str | None:
        """One sentence on what the post asked for and what of it the cadre brings; None if it asked nothing."""
        priority, skills = self.matrices(instance)
        asked = np.flatnonzero(priority[post_index] > 0)
        if not len(asked):
            return None
        asked = asked[np.argsort(-priority[post_index, asked], kind="stable")]  # the county's first concern first
        needs = and_list([_(LABELS[NAMES[k]]) for k in asked])
        met = [k for k in asked if skills[cadre_index, k]]
        if met:
            matched = and_list([_(LABELS[NAMES[k]]) for k in met])
            return _("The county asked for {needs}; your background in {skills} matches.").format(
                needs=needs, skills=matched
            )
        own = np.flatnonzero(skills[cadre_index])
        if not len(own):
            return _("The county asked for {needs}; no skills are recorded for you.").format(needs=needs)
        background = and_list([_(LABELS[NAMES[k]]) for k in own])
        return _("The county asked for {needs}; your background in {skills} does not match it.").format(
            needs=needs, skills=background
        )
