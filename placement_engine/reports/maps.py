"""Maps of an allocation on China's official boundaries, labelled in the chosen language.

Three layouts, chosen from where the posts and campuses are:

- up to three provinces (Shandong and Qinghai, say): a panel per province, the home
  province largest, with prefecture and county borders and prefecture names; postings to
  another panel are drawn as lines across the panels;
- more provinces: one map of the country with province borders and names, and the South
  China Sea islands in an inset;
- ``province=`` (a code such as ``370000`` or a name such as 山东省 or Shandong): that
  province alone, with the postings to its posts.

Posts are coloured by the wish the posting meets, and shaped by its kind (relay, partnership,
outside the home province). Drawing uses only matplotlib collections on the shipped,
pre-simplified outlines (``placement_engine.data.boundaries``), so a map takes a fraction of
a second.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import ConnectionPatch
from matplotlib.patheffects import withStroke

from ..allocation import Allocation
from ..data.boundaries import Layer, layer
from ..errors import InputError, Problem
from ..i18n import N_, _, current_language, language, ngettext
from . import fonts

MIN_WISHES_SHOWN = 5
MAX_PANELS = 3  # more provinces than this make a country map
DPI = 120
HOME_FILL, AWAY_FILL, SEA = "#fbf8ef", "#ececec", "#f4f8fb"
UNPLACED_COLOUR = "#bbbbbb"
# (kind, marker, legend text), in the order a posting of several kinds is shown
KINDS = [
    ("relay", "s", N_("relay posting (the university's last post)")),
    ("partnership", "D", N_("posting under a partnership")),
    ("away", "*", N_("posting outside the home province")),
    ("plain", "o", N_("other posting")),
]
NATIONAL_EXTENT = (73.0, 135.5, 17.5, 54.0)
ISLANDS_EXTENT = (106.0, 123.0, 3.0, 24.5)  # the South China Sea inset


class Postings:
    """One row per placed cadre: where from, where to, its colour and kind (numpy arrays)."""

    def __init__(self, allocation: Allocation):
        tables = allocation.scenario.tables
        posts = tables["posts"].set_index("post_id")
        universities = tables["universities"].set_index("university_id")
        placed = allocation.table[allocation.table["post_id"] != ""]
        self.wish = placed["choice"].astype("Float64").fillna(0).to_numpy(int)
        self.n_wishes = max(MIN_WISHES_SHOWN, int(self.wish.max()) if len(self.wish) else 0)
        ramp = colormaps["RdYlGn_r"]  # green for a first wish, towards red for none
        self.palette = to_rgba_array([ramp(1.0), *(ramp(x) for x in np.linspace(0.0, 0.75, self.n_wishes))])
        self.colour = self.palette[self.wish]
        self.post_xy = posts.loc[placed["post_id"], ["lon", "lat"]].to_numpy(float)
        self.campus_xy = universities.loc[placed["university_id"], ["lon", "lat"]].to_numpy(float)
        self.post_province = posts.loc[placed["post_id"], "province"].astype(str).to_numpy()
        self.campus_province = universities.loc[placed["university_id"], "province"].astype(str).to_numpy()
        self.home = str(universities["province"].astype(str).mode().iat[0])
        flags = {
            "relay": _flag(placed, "relay"),
            "partnership": _flag(placed, "partnership"),
            "away": self.post_province != self.campus_province,
            "plain": np.ones(len(placed), bool),
        }
        self.kind = np.select([flags[name] for name, _, _ in KINDS], np.arange(len(KINDS)))
        self.posts, self.universities = posts, universities
        self.empty = ~posts.index.isin(placed["post_id"])


def _flag(table: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(table[column], errors="coerce").fillna(0).to_numpy() > 0 if column in table else np.zeros(len(table), bool)


def allocation_map(allocation: Allocation, title: str | None = None, *, province: str | None = None, lang: str | None = None) -> Figure:
    """The map of an allocation (see the module's description); ``lang`` 'zh' or 'en', else the current language."""
    with language(lang):
        fonts.install()
        postings = Postings(allocation)
        provinces = layer("province")
        if province is not None:
            shown = [province_code(provinces, province)]
        else:
            counts = pd.Series(np.concatenate([postings.post_province, postings.campus_province, postings.posts["province"].astype(str)]))
            others = counts[counts != postings.home].value_counts().index.tolist()
            shown = [postings.home, *others]
        shown = [code for code in shown if (provinces.code == code).any()]  # codes without an outline are drawn on the country map
        if len(shown) > MAX_PANELS or not shown:
            figure = _national(postings, provinces)
        else:
            figure = _regional(postings, provinces, shown, single=province is not None)
        # a province alone shows the postings to its posts; the other layouts show them all
        shown_rows = postings.post_province == shown[0] if province is not None else np.ones(len(postings.wish), bool)
        count = int(shown_rows.sum())
        default = ngettext("{scenario}: {count} posting, coloured by the wish met", "{scenario}: {count} postings, coloured by the wish met", count)
        figure.suptitle(title or default.format(scenario=allocation.scenario.name, count=count), fontsize=13)
        posts_shown = postings.posts["province"].astype(str).to_numpy() == shown[0] if province is not None else np.ones(len(postings.posts), bool)
        _legend(figure, postings, shown_rows, posts_shown)
        return figure


def write_allocation_map(allocation: Allocation, path: str | Path, *, province: str | None = None, lang: str | None = None) -> Path:
    """Draw the map of an allocation and write it as PNG at ``path`` (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The layout is sized exactly, so no second ("tight") rendering pass; fast zlib: PNG encoding is a third of the time.
    allocation_map(allocation, province=province, lang=lang).savefig(path, dpi=DPI, pil_kwargs={"compress_level": 1})
    return path


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


def aspect(extent) -> float:
    """Height per unit of longitude that keeps distances true at the middle latitude."""
    return 1 / math.cos(math.radians((extent[2] + extent[3]) / 2))


def _padded(extent, share: float = 0.04):
    x0, x1, y0, y1 = extent
    dx, dy = (x1 - x0) * share, (y1 - y0) * share
    return x0 - dx, x1 + dx, y0 - dy, y1 + dy


def _frame(axes, extent) -> None:
    axes.set_xlim(extent[0], extent[1])
    axes.set_ylim(extent[2], extent[3])
    axes.set_aspect(aspect(extent), adjustable="box")
    axes.set_facecolor(SEA)
    axes.set_xticks([])
    axes.set_yticks([])


def _areas(units: Layer) -> np.ndarray:
    """Area of each unit in square degrees (shoelace over its outer rings, vectorised)."""
    x, y = units.xy[:, 0], units.xy[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    starts = units.ring_start[:-1]
    ring_area = np.abs(np.add.reduceat(cross, starts)) / 2  # the wrap-around term of each ring is ~0: rings are closed
    ring_area[units.ring_hole] = 0
    return np.bincount(units.ring_owner, weights=ring_area, minlength=len(units.code))


def _province_panel(axes, provinces: Layer, code: str, extent) -> None:
    """Neighbours in grey, the province in cream with its county and prefecture borders."""
    own = provinces.code == code
    _frame(axes, extent)
    axes.add_collection(PolyCollection(provinces.rings(own, holes=False), facecolors=HOME_FILL, edgecolors="none"))
    axes.add_collection(PolyCollection(provinces.rings(~own, holes=False), facecolors=AWAY_FILL, edgecolors="none"))
    counties, prefectures = layer("county", code), layer("prefecture")
    axes.add_collection(LineCollection(counties.rings(), colors="#cfcfcf", linewidths=0.35))
    axes.add_collection(LineCollection(prefectures.rings(prefectures.province == code), colors="#8a8a8a", linewidths=0.75))
    axes.add_collection(LineCollection(provinces.rings(), colors="#555555", linewidths=1.1))


def _panel_rects(extents: list, width: float) -> tuple[list, float]:
    """Axes rectangles (figure fractions) and figure height: the first panel large on the left, the
    others stacked on the right, each exactly as tall as its map so no space is left empty."""
    ratios = [(e[3] - e[2]) * aspect(e) / (e[1] - e[0]) for e in extents]  # height per width
    top, bottom, margin, gap, title = 0.7, 0.8, 0.1, 0.35, 0.35  # inches
    usable = width - 2 * margin - (gap if len(extents) > 1 else 0)
    side = 0.0 if len(extents) == 1 else min(0.36 * usable, usable / (1 + ratios[0] / sum(ratios[1:])))
    main = usable - side
    heights = [main * ratios[0], *(side * r for r in ratios[1:])]
    stacked = sum(heights[1:]) + title * (len(extents) - 2)
    height = top + bottom + max(heights[0], stacked)
    rects = [(margin / width, bottom / height, main / width, heights[0] / height)]
    y = bottom + (max(heights[0], stacked) + stacked) / 2  # the side column centred against the main panel
    for h in heights[1:]:
        y -= h
        rects.append(((width - margin - side) / width, y / height, side / width, h / height))
        y -= title
    return rects, height


def _regional(postings: Postings, provinces: Layer, shown: list[str], single: bool) -> Figure:
    extents = [_padded(provinces.extent(provinces.code == code)) for code in shown]
    width = 10.5 if len(shown) == 1 else 13.0
    rects, height = _panel_rects(extents, width)
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)  # a renderer, to measure labels before they are kept
    axes_of, labels = {}, []
    for code, rect, extent in zip(shown, rects, extents):
        axes = figure.add_axes(rect)
        _province_panel(axes, provinces, code, extent)
        axes_of[code] = axes
        here = postings.post_province == code
        inside = here & (postings.campus_province == code) if not single else here
        _postings_on(axes, postings, here, inside, postings.posts["province"].astype(str).to_numpy() == code)
        campuses = postings.universities[postings.universities["province"].astype(str) == code]
        axes.scatter(campuses["lon"], campuses["lat"], s=26, marker="^", color="black", zorder=5)
        count = int(here.sum())
        axes.set_title(ngettext("{province}: {count} posting", "{province}: {count} postings", count).format(province=province_name(provinces, code), count=count), fontsize=11)
        prefectures = layer("prefecture")
        labels += _labels(axes, prefectures, prefectures.province == code, fontsize=9 if axes is axes_of[shown[0]] else 8)
    if not single:
        for row in np.flatnonzero(postings.post_province != postings.campus_province):
            axes_a, axes_b = axes_of.get(postings.campus_province[row]), axes_of.get(postings.post_province[row])
            if axes_a is not None and axes_b is not None:
                figure.add_artist(ConnectionPatch(postings.campus_xy[row], postings.post_xy[row], "data", "data", axesA=axes_a, axesB=axes_b,
                                                  color=postings.colour[row], linewidth=0.6, alpha=0.3, linestyle="--"))
    _keep_apart(figure, labels)
    return figure


def _national(postings: Postings, provinces: Layer) -> Figure:
    figure = Figure(figsize=(12, 9.4))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.02, 0.13, 0.96, 0.8))
    islands = axes.inset_axes((0.83, 0.0, 0.17, 0.32))
    for target, extent in ((axes, NATIONAL_EXTENT), (islands, ISLANDS_EXTENT)):
        _frame(target, extent)
        target.add_collection(PolyCollection(provinces.rings(holes=False), facecolors=HOME_FILL, edgecolors="none"))
        target.add_collection(LineCollection(provinces.rings(), colors="#8a8a8a", linewidths=0.5))
        target.add_collection(LineCollection(layer("coast").rings(), colors="#444444", linewidths=0.9))
        target.add_collection(LineCollection(layer("maritime").rings(), colors="#444444", linewidths=1.0))
    everywhere = np.ones(len(postings.wish), bool)
    _postings_on(axes, postings, everywhere, everywhere, np.ones(len(postings.posts), bool), size=9, line_alpha=0.18)
    islands.set_title(_("South China Sea islands"), fontsize=8, pad=2)
    for side in islands.spines.values():
        side.set_edgecolor("#444444")
    names = provinces.name if current_language() == "zh" else provinces.name_en
    _keep_apart(figure, _labels(axes, provinces, np.ones(len(provinces.code), bool), fontsize=9.5, names=names, colour="#222222"))
    return figure


def _postings_on(axes, postings: Postings, here: np.ndarray, inside: np.ndarray, posts_here: np.ndarray, size: float = 36, line_alpha: float = 0.45) -> None:
    """Lines from campus to post (``inside``: both ends on these axes), posts by kind, empty posts hollow."""
    segments = np.stack([postings.campus_xy[inside], postings.post_xy[inside]], axis=1)
    axes.add_collection(LineCollection(segments, colors=postings.colour[inside], linewidths=0.8, alpha=line_alpha, zorder=2))
    empty = postings.posts[postings.empty & posts_here]
    axes.scatter(empty["lon"], empty["lat"], s=size * 0.8, facecolors="none", edgecolors=UNPLACED_COLOUR, zorder=3)
    for index, (_kind, marker, _text) in enumerate(KINDS):
        rows = here & (postings.kind == index)
        scale = 2.2 if marker == "*" else 1.0
        axes.scatter(postings.post_xy[rows, 0], postings.post_xy[rows, 1], s=size * scale, c=postings.colour[rows], marker=marker,
                     edgecolors="black", linewidths=0.4, zorder=4)


def _labels(axes, units: Layer, chosen: np.ndarray, fontsize: float, names=None, colour: str = "#333333") -> list:
    """Names at the units' label points, largest unit first (the order in which they are kept)."""
    names = units.name if names is None else names
    order = [i for i in np.argsort(-_areas(units)) if chosen[i]]
    halo = [withStroke(linewidth=2.5, foreground="white", alpha=0.85)]
    return [
        axes.text(*units.label_xy[i], str(names[i]), fontsize=fontsize, color=colour, ha="center", va="center", zorder=6, path_effects=halo, clip_on=True)
        for i in order
    ]


def _keep_apart(figure: Figure, texts: list) -> None:
    """Hide every label that would overlap one kept before it, or fall outside its axes."""
    renderer = figure.canvas.get_renderer()
    for axes in figure.axes:
        axes.apply_aspect()
    kept = []
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.06, 1.15)
        frame = text.axes.get_window_extent(renderer)
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        if not inside or any(box.overlaps(other) for other in kept):
            text.set_visible(False)
        else:
            kept.append(box)


def _legend(figure: Figure, postings: Postings, rows: np.ndarray, posts: np.ndarray) -> None:
    """Wish colours, posting kinds and empty posts, each with its count among the ``rows`` and ``posts`` shown."""
    counts = np.bincount(postings.wish[rows], minlength=postings.n_wishes + 1)
    def dot(colour, label, marker="o", size=7):
        return Line2D([], [], marker=marker, linestyle="", markersize=size, color=colour, markeredgecolor="black", markeredgewidth=0.4, label=label)
    handles = [dot(postings.palette[k], _("wish {number} ({count})").format(number=k, count=counts[k])) for k in range(1, postings.n_wishes + 1)]
    handles.append(dot(postings.palette[0], _("no wish met ({count})").format(count=counts[0])))
    kinds = np.bincount(postings.kind[rows], minlength=len(KINDS))
    for index, (_kind, marker, text) in enumerate(KINDS):
        if kinds[index]:
            handles.append(dot("white", _("{kind} ({count})").format(kind=_(text), count=kinds[index]), marker, 11 if marker == "*" else 7))
    handles.append(dot("black", _("university campus"), "^"))
    empty = int((postings.empty & posts).sum())
    if empty:
        handles.append(Line2D([], [], marker="o", linestyle="", color="none", markeredgecolor=UNPLACED_COLOUR, label=_("post left empty ({count})").format(count=empty)))
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.0))
