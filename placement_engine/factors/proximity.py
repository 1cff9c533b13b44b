"""Proximity, "close and convenient" (soft, with an optional hard limit).

The great-circle distance d(c, p) from the campus of c's university to the seat
of p's county, on a sphere of radius 6,371.0088 km (haversine formula):

    score(c, p) = -d(c, p)      unit: km

``max_km`` forbids in-province pairs farther than that; cross-province postings
are volunteers' choices and are exempt.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..instance import PairTable
from .base import Factor, FactorParams


class ProximityParams(FactorParams):
    weight: float = 0.05
    max_km: float | None = Field(None, gt=0, description="hard limit for in-province postings")


class Proximity(Factor):
    name = "proximity"
    unit = "km"
    Params = ProximityParams

    def scores(self, pairs: PairTable, params: ProximityParams) -> np.ndarray:
        return -pairs.distance_km

    def forbidden(self, pairs: PairTable, params: ProximityParams) -> np.ndarray | None:
        if params.max_km is None:
            return None
        return (pairs.distance_km > params.max_km) & ~pairs.cross_province

    def columns(self, pairs: PairTable, params: ProximityParams) -> dict[str, np.ndarray]:
        return {"distance_km": pairs.distance_km}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        distance = columns["distance_km"][assigned]
        return {"mean_distance_km": float(distance.mean()) if len(distance) else None}
