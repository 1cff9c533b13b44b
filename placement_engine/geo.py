"""Great-circle distances and administrative-code helpers (vectorised)."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

# A generous box around China's territory, South China Sea islands included.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km; arguments broadcast like numpy arrays."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def prefecture_of(adcode) -> np.ndarray:
    """The 6-digit prefecture code of 6-digit county codes ('370102' -> '370100')."""
    return np.char.add(np.asarray(adcode, dtype=str).astype("<U4"), "00")


def province_of(adcode) -> np.ndarray:
    """The 6-digit province code of 6-digit codes ('370102' -> '370000')."""
    return np.char.add(np.asarray(adcode, dtype=str).astype("<U2"), "0000")
