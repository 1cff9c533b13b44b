"""Shipped geography tables (see README.md in this package for sources and columns).

Each loader returns a fresh DataFrame. Codes (adcode, prefecture_code, ...) are strings,
so leading digits are kept as printed; empty cells are missing values.
"""

from __future__ import annotations

from collections import defaultdict
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads with the first table: a map reads only data.boundaries
    import pandas as pd

# Everything not listed here is text.
_NON_TEXT = {"lon": "float64", "lat": "float64", "size": "int64", "regular_undergrad_2011": "bool"}


def _read(filename: str) -> pd.DataFrame:
    import pandas as pd

    with resources.files(__name__).joinpath(filename).open("r", encoding="utf-8") as fh:
        return pd.read_csv(
            fh,
            dtype=defaultdict(lambda: "string", _NON_TEXT),
            keep_default_na=False,
            na_values=[""],
        )


def counties() -> pd.DataFrame:
    """All 2,845 county-level units of the cpca table (vintage about mid-2016)."""
    return _read("counties.csv")


def shandong_2011() -> pd.DataFrame:
    """The 140 county-level units of Shandong at end-2011."""
    return _read("shandong_2011.csv")


def qinghai_2011() -> pd.DataFrame:
    """The 43 county-level units of Qinghai at end-2011."""
    return _read("qinghai_2011.csv")


def shandong_universities() -> pd.DataFrame:
    """50 Shandong higher-education institutions placed on the 2011 map."""
    return _read("universities_shandong.csv")
