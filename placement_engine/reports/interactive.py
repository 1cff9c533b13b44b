"""An interactive map of an allocation for notebooks: zoom, pan, and hover a post to see who goes
there from where, by which wish, how far, and under which rule.

Plotly draws it from the shipped outlines on plain axes (no map tiles, no web requests), so it
works offline; plotly is an optional extra: ``pip install "placement_engine[interactive]"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..allocation import Allocation
from ..data.boundaries import Layer, layer
from ..i18n import _, language
from .maps import KINDS, Postings, aspect, province_code

PLOTLY_MARKERS = {"s": "square", "D": "diamond", "*": "star", "o": "circle"}


def _polyline(rings: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rings as one line with gaps (NaN) between them: one trace draws them all."""
    if not rings:
        return np.array([]), np.array([])
    gap = np.full((1, 2), np.nan)
    joined = np.concatenate([part for ring in rings for part in (ring, gap)])
    return joined[:, 0], joined[:, 1]


def _outline_traces(go, provinces: Layer, detailed: list[str], counties: bool) -> list:
    """Province borders everywhere; prefecture (and, for one province, county) borders in the ``detailed`` provinces."""
    prefectures = layer("prefecture")
    levels = [
        ([ring for code in detailed for ring in layer("county", code).rings()] if counties else [], "#d5d5d5", 0.5),
        (prefectures.rings(np.isin(prefectures.province, detailed)), "#999999", 0.9),
        (provinces.rings(), "#555555", 1.3),
    ]
    traces = []
    for rings, colour, width in levels:
        x, y = _polyline(rings)
        traces.append(go.Scatter(x=x, y=y, mode="lines", line={"color": colour, "width": width}, hoverinfo="skip", showlegend=False))
    return traces


def _hover(allocation: Allocation, postings: Postings) -> list[str]:
    placed = allocation.table[allocation.table["post_id"] != ""]
    names = postings.universities["name"] if "name" in postings.universities else postings.universities.index.to_series()
    wish = np.where(postings.wish > 0, [_("wish {number}").format(number=k) for k in postings.wish], _("no wish met"))
    distance = pd.to_numeric(placed["distance_km"], errors="coerce").to_numpy() if "distance_km" in placed else np.full(len(placed), np.nan)
    kind = [_(KINDS[k][2]) for k in postings.kind]
    post_names = placed["post_name"] if "post_name" in placed else placed["post_id"]
    return [
        f"<b>{post}</b> ({post_id})<br>{cadre}, {university}<br>{wished} · {km:,.0f} km<br>{what}"
        for post, post_id, cadre, university, wished, km, what in zip(
            post_names, placed["post_id"], placed.get("cadre_id", placed["post_id"]),
            names.reindex(placed["university_id"]).fillna("").to_numpy(), wish, np.nan_to_num(distance), kind,
        )
    ]


def interactive_map(allocation: Allocation, *, province: str | None = None, lang: str | None = None):
    """A plotly figure of the allocation (a province alone if ``province`` is given)."""
    try:
        import plotly.graph_objects as go
    except ImportError as missing:  # an optional extra, not a user mistake in the inputs
        raise ImportError('the interactive map needs plotly: pip install "placement_engine[interactive]"') from missing
    with language(lang):
        postings = Postings(allocation)
        provinces = layer("province")
        shown = [province_code(provinces, province)] if province is not None else sorted(set(postings.post_province))
        rows = np.isin(postings.post_province, shown)
        detailed = shown if len(shown) <= 3 else []
        traces = _outline_traces(go, provinces, detailed, counties=province is not None)
        lines = np.stack([postings.campus_xy[rows], postings.post_xy[rows], np.full((rows.sum(), 2), np.nan)], axis=1).reshape(-1, 2)
        traces.append(go.Scatter(x=lines[:, 0], y=lines[:, 1], mode="lines", line={"color": "rgba(60,90,130,0.35)", "width": 0.8},
                                 hoverinfo="skip", name=_("campus to post")))
        hover = np.array(_hover(allocation, postings), dtype=object)
        colours = [f"rgb({r * 255:.0f},{g * 255:.0f},{b * 255:.0f})" for r, g, b, _alpha in postings.colour]
        for index, (_kind, marker, text) in enumerate(KINDS):
            chosen = rows & (postings.kind == index)
            if chosen.any():
                traces.append(go.Scatter(
                    x=postings.post_xy[chosen, 0], y=postings.post_xy[chosen, 1], mode="markers", name=_(text),
                    marker={"symbol": PLOTLY_MARKERS[marker], "size": 9, "color": np.array(colours)[chosen], "line": {"color": "black", "width": 0.5}},
                    hovertext=hover[chosen], hoverinfo="text",
                ))
        campuses = postings.universities
        traces.append(go.Scatter(x=campuses["lon"], y=campuses["lat"], mode="markers", name=_("university campus"),
                                 marker={"symbol": "triangle-up", "size": 9, "color": "black"},
                                 hovertext=campuses["name"] if "name" in campuses else campuses.index, hoverinfo="text"))
        x0, x1, y0, y1 = _extent(postings, rows, provinces, shown)
        figure = go.Figure(traces)
        figure.update_layout(
            title=_("{scenario}: hover a post for its posting").format(scenario=allocation.scenario.name),
            xaxis={"range": [x0, x1], "visible": False}, yaxis={"range": [y0, y1], "visible": False, "scaleanchor": "x", "scaleratio": aspect((x0, x1, y0, y1))},
            plot_bgcolor="#f4f8fb", height=650, margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.02},
        )
        return figure


def _extent(postings: Postings, rows: np.ndarray, provinces: Layer, shown: list[str]) -> tuple[float, float, float, float]:
    """The shown provinces' outline, widened to the campuses of their postings."""
    x0, x1, y0, y1 = provinces.extent(np.isin(provinces.code, shown))
    points = postings.campus_xy[rows]
    if len(points):
        x0, x1 = min(x0, points[:, 0].min()), max(x1, points[:, 0].max())
        y0, y1 = min(y0, points[:, 1].min()), max(y1, points[:, 1].max())
    return x0 - 0.3, x1 + 0.3, y0 - 0.3, y1 + 0.3
