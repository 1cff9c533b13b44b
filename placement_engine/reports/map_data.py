"""What an allocation map shows, as plain NumPy arrays: where a scenario's posts and campuses are, and its postings.

Kept apart from the drawing (``maps``) and free of pandas and matplotlib at import: the command
line sends these to the process that draws map.png (``placement_engine.cli.map_worker``), which
loads matplotlib alone. ``Sites`` decides the map's layout, so the outlines can be drawn before
the scenario is solved; ``Placements`` are drawn over them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, Problem
from ..i18n import _, current_language

if TYPE_CHECKING:
    from ..data.boundaries import Layer

MAX_PANELS = 3  # more provinces than this make a country map


@dataclass(frozen=True)
class Sites:
    """A scenario's posts and campuses (rows of its posts and universities tables): province codes and (lon, lat)."""

    scenario: str
    post_province: np.ndarray
    post_xy: np.ndarray
    campus_province: np.ndarray
    campus_xy: np.ndarray

    @classmethod
    def of(cls, scenario) -> Sites:
        posts, universities = scenario.tables["posts"], scenario.tables["universities"]
        return cls(
            scenario=str(scenario.name),
            post_province=posts["province"].astype(str).to_numpy(str),
            post_xy=posts[["lon", "lat"]].to_numpy(float),
            campus_province=universities["province"].astype(str).to_numpy(str),
            campus_xy=universities[["lon", "lat"]].to_numpy(float),
        )

    @property
    def home(self) -> str:
        """The province most campuses are in (the lowest code of a tie)."""
        codes, counts = np.unique(self.campus_province, return_counts=True)
        return str(codes[np.argmax(counts)]) if len(codes) else ""

    def provinces(self) -> list[str]:
        """The home province, then the others holding posts or campuses, the most first (by code on a tie)."""
        every = np.concatenate([self.post_province, self.campus_province])
        codes, counts = np.unique(every[every != self.home], return_counts=True)
        return [self.home, *(str(code) for code in codes[np.argsort(-counts, kind="stable")])]


@dataclass(frozen=True)
class Placements:
    """One row per placed cadre: its post and campus (positions in the ``Sites``), the wish met (0: none), relay and partnership."""

    post: np.ndarray
    campus: np.ndarray
    wish: np.ndarray
    relay: np.ndarray
    partnership: np.ndarray

    @classmethod
    def of(cls, allocation) -> Placements:
        tables = allocation.scenario.tables
        placed = allocation.table[allocation.table["post_id"] != ""]
        return cls(
            post=_positions(tables["posts"]["post_id"], placed["post_id"]),
            campus=_positions(tables["universities"]["university_id"], placed["university_id"]),
            wish=placed["choice"].astype("Float64").fillna(0).to_numpy(int),
            relay=_flag(placed, "relay"),
            partnership=_flag(placed, "partnership"),
        )


def _positions(ids, wanted) -> np.ndarray:
    """Row of each wanted id among ``ids`` (all present: an allocation names only its scenario's posts and campuses)."""
    ids, wanted = np.asarray(ids, str), np.asarray(wanted, str)
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids[order], wanted)]


def _flag(table, column: str) -> np.ndarray:
    if column not in table:
        return np.zeros(len(table), bool)
    return table[column].astype("Float64").fillna(0).to_numpy(float) > 0


def panels(sites: Sites, provinces: Layer, province: str | None = None) -> list[str]:
    """The provinces drawn as panels, the first largest: ``province`` alone when asked for, else the home
    province and the others with posts or campuses; none (the country map) for more than ``MAX_PANELS``."""
    shown = [province_code(provinces, province)] if province is not None else sites.provinces()
    shown = [code for code in shown if (provinces.code == code).any()]  # codes without an outline are drawn on the country map
    return shown if len(shown) <= MAX_PANELS else []


def province_code(provinces: Layer, wanted: str) -> str:
    """A province's code from its code ('370000', '37'), Chinese name (山东省, 山东) or English name."""
    text = str(wanted).strip()
    code = text.ljust(6, "0") if text.isdigit() else ""
    names = provinces.name.astype(str)
    hit = (provinces.code == code) | (names == text) | (np.char.lower(provinces.name_en.astype(str)) == text.lower())
    hit |= np.char.startswith(names, text) if len(text) >= 2 else False
    if hit.any():
        return str(provinces.code[hit][0])
    raise InputError([Problem("--province", "province", _("a province code such as 370000, or a name such as 山东省 or Shandong"), text)])


def province_name(provinces: Layer, code: str) -> str:
    index = np.flatnonzero(provinces.code == code)
    if not len(index):
        return code
    return str(provinces.name[index[0]] if current_language() == "zh" else provinces.name_en[index[0]])
