"""Maps of an allocation on China's official boundaries, labelled in the chosen language.

Three layouts, chosen from where the scenario's posts and campuses are (``map_data.panels``):

- up to three provinces (Shandong and Qinghai, say): a panel per province, the home
  province largest, with prefecture and county borders and prefecture names; postings to
  another panel are drawn as lines across the panels;
- more provinces: one map of the country with province borders and names, and the South
  China Sea islands in an inset;
- ``province=`` (a code such as ``370000`` or a name such as 山东省 or Shandong): that
  province alone, with the postings to its posts.

Posts are coloured by the wish the posting meets, and shaped by its kind (relay, partnership,
outside the home province). Drawing uses only matplotlib collections on the shipped,
pre-simplified outlines (``placement_engine.data.boundaries``).

A ``Basemap`` is the part the scenario alone decides (panels, outlines, place names). Its
``render()`` draws it before the allocation exists; ``png(placements)`` then draws only the
postings, the names over them, the titles and the legend onto that picture. The command line
renders the outlines in a second process while the scenario is solved (``cli.map_worker``);
the PNG is the same, byte for byte, when everything is drawn in one go.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import ConnectionPatch
from matplotlib.patheffects import withStroke

from ..data.boundaries import Layer, layer
from ..i18n import N_, _, current_language, language, ngettext
from . import fonts
from .map_data import MAX_PANELS, Placements, Sites, panels, province_code, province_name

if TYPE_CHECKING:
    from ..allocation import Allocation

__all__ = ["DPI", "KINDS", "MAX_PANELS", "Basemap", "Marks", "Placements", "Postings", "Sites", "allocation_map", "province_code", "warm_up", "write_allocation_map"]

MIN_WISHES_SHOWN = 5
DPI = 120
PNG_COMPRESSION = 1  # zlib's fastest: a higher level costs several times as long for a file a tenth smaller
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


class Marks:
    """How each posting is drawn: where from and to, its colour (the wish met) and kind (numpy arrays)."""

    def __init__(self, sites: Sites, placements: Placements):
        self.wish = placements.wish
        self.n_wishes = max(MIN_WISHES_SHOWN, int(self.wish.max()) if len(self.wish) else 0)
        ramp = colormaps["RdYlGn_r"]  # green for a first wish, towards red for none
        self.palette = to_rgba_array([ramp(1.0), *(ramp(x) for x in np.linspace(0.0, 0.75, self.n_wishes))])
        self.colour = self.palette[self.wish]
        self.post_xy, self.campus_xy = sites.post_xy[placements.post], sites.campus_xy[placements.campus]
        self.post_province, self.campus_province = sites.post_province[placements.post], sites.campus_province[placements.campus]
        flags = {
            "relay": placements.relay,
            "partnership": placements.partnership,
            "away": self.post_province != self.campus_province,
            "plain": np.ones(len(self.wish), bool),
        }
        self.kind = np.select([flags[name] for name, _, _ in KINDS], np.arange(len(KINDS)))
        self.every_post_xy = sites.post_xy  # of the scenario's posts, as is ``empty``
        self.empty = np.ones(len(sites.post_province), bool)
        self.empty[placements.post] = False


class Postings(Marks):
    """An allocation's postings as drawn, with its universities table (indexed by id), for the interactive map."""

    def __init__(self, allocation: Allocation):
        super().__init__(Sites.of(allocation.scenario), Placements.of(allocation))
        self.universities = allocation.scenario.tables["universities"].set_index("university_id")


class Basemap:
    """A map's panels, outlines and place names, which the scenario's ``Sites`` alone decide; the postings come later.

    ``add_postings`` completes it as a figure (``allocation_map``); ``render`` then ``png`` draw the
    outlines first and the rest over them (``write_allocation_map`` and the command line's worker).
    """

    def __init__(self, sites: Sites, *, province: str | None = None, lang: str | None = None):
        self.sites, self.single = sites, province is not None
        self._added: list = []  # the artists of the postings, titles and legend
        self._background = None
        with language(lang) as self.lang:
            fonts.install()
            provinces = layer("province")
            self.shown = panels(sites, provinces, province)
            names = self._regional(provinces) if self.shown else self._national(provinces)
            self._names = _keep_apart(self.figure, names)

    # ---- what the scenario decides ------------------------------------------------------------

    def _regional(self, provinces: Layer) -> list:
        extents = [_padded(provinces.extent(provinces.code == code)) for code in self.shown]
        width = 10.5 if len(self.shown) == 1 else 13.0
        rects, height = _panel_rects(extents, width)
        self.figure = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(self.figure)  # a renderer, to measure labels before they are kept
        self.axes_of, names = {}, []
        prefectures = layer("prefecture")
        for code, rect, extent in zip(self.shown, rects, extents):
            axes = self.axes_of[code] = self.figure.add_axes(rect)
            _province_panel(axes, provinces, code, extent)
            names += _labels(axes, prefectures, prefectures.province == code, fontsize=9 if code == self.shown[0] else 8)
        return names

    def _national(self, provinces: Layer) -> list:
        self.figure = Figure(figsize=(12, 9.4), dpi=DPI)
        FigureCanvasAgg(self.figure)
        axes = self.figure.add_axes((0.02, 0.13, 0.96, 0.8))
        islands = axes.inset_axes((0.83, 0.0, 0.17, 0.32))
        for target, extent in ((axes, NATIONAL_EXTENT), (islands, ISLANDS_EXTENT)):
            _frame(target, extent)
            target.add_collection(PolyCollection(_seen(provinces.rings(holes=False), extent), facecolors=HOME_FILL, edgecolors="none"))
            target.add_collection(LineCollection(_seen(provinces.rings(), extent), colors="#8a8a8a", linewidths=0.5))
            target.add_collection(LineCollection(_seen(layer("coast").rings(), extent), colors="#444444", linewidths=0.9))
            target.add_collection(LineCollection(_seen(layer("maritime").rings(), extent), colors="#444444", linewidths=1.0))
        islands.set_title(_("South China Sea islands"), fontsize=8, pad=2)
        for side in islands.spines.values():
            side.set_edgecolor("#444444")
        self.axes_of = {None: axes}
        names = provinces.name if current_language() == "zh" else provinces.name_en
        return _labels(axes, provinces, np.ones(len(provinces.code), bool), fontsize=9.5, names=names, colour="#222222")

    # ---- what the allocation adds -------------------------------------------------------------

    def add_postings(self, placements: Placements, title: str | None = None) -> Figure:
        """Draw the postings, the panels' titles, the map's title and the legend (once per basemap)."""
        with language(self.lang):
            marks = Marks(self.sites, placements)
            if self.shown:
                self._regional_postings(marks)
            else:
                everywhere = np.ones(len(marks.wish), bool)
                axes = self.axes_of[None]
                self._added += _postings_on(axes, marks, everywhere, everywhere, np.ones(len(marks.empty), bool), size=9, line_alpha=0.18)
            # a province alone shows the postings to its posts; the other layouts show them all
            rows = marks.post_province == self.shown[0] if self.single else np.ones(len(marks.wish), bool)
            posts = self.sites.post_province == self.shown[0] if self.single else np.ones(len(marks.empty), bool)
            count = int(rows.sum())
            default = ngettext("{scenario}: {count} posting, coloured by the wish met", "{scenario}: {count} postings, coloured by the wish met", count)
            self._added.append(self.figure.suptitle(title or default.format(scenario=self.sites.scenario, count=count), fontsize=13))
            self._added.append(_legend(self.figure, marks, rows, posts))
        return self.figure

    def _regional_postings(self, marks: Marks) -> None:
        provinces = layer("province")
        for code, axes in self.axes_of.items():
            here = marks.post_province == code
            inside = here & (marks.campus_province == code) if not self.single else here
            self._added += _postings_on(axes, marks, here, inside, self.sites.post_province == code)
            campuses = self.sites.campus_xy[self.sites.campus_province == code]
            self._added.append(axes.scatter(campuses[:, 0], campuses[:, 1], s=26, marker="^", color="black", zorder=5))
            count = int(here.sum())
            words = ngettext("{province}: {count} posting", "{province}: {count} postings", count)
            axes.set_title(words.format(province=province_name(provinces, code), count=count), fontsize=11)
        if self.single:
            return
        for row in np.flatnonzero(marks.post_province != marks.campus_province):
            axes_a, axes_b = self.axes_of.get(marks.campus_province[row]), self.axes_of.get(marks.post_province[row])
            if axes_a is not None and axes_b is not None:
                line = ConnectionPatch(marks.campus_xy[row], marks.post_xy[row], "data", "data", axesA=axes_a, axesB=axes_b,
                                       color=marks.colour[row], linewidth=0.6, alpha=0.3, linestyle="--")
                self._added.append(self.figure.add_artist(line))

    # ---- drawn in two steps -------------------------------------------------------------------

    def render(self) -> None:
        """Draw the panels and outlines into the canvas now; ``png`` draws the rest over them."""
        late = self._drawn_late()
        for artist in late:
            artist.set_visible(False)
        self.figure.canvas.draw()
        for artist in late:
            artist.set_visible(True)
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def png(self, placements: Placements, title: str | None = None) -> bytes:
        """The map as PNG: the rendered outlines (rendered now if they were not), the postings and the rest over them."""
        if self._background is None:
            self.render()
        self.add_postings(placements, title)
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in self._over():
            artist.draw(renderer)
        return _png(np.asarray(renderer.buffer_rgba())[..., :3])

    def _drawn_late(self) -> list:
        """The outlines' artists that go over some posting: frames, names, titles and the islands inset."""
        late = list(self._names)
        for axes in self.figure.axes:
            late += [*axes.spines.values(), axes.title, *axes.child_axes]
        return late

    def _over(self) -> list:
        """What ``png`` draws over the rendered outlines, in the order in which matplotlib draws a figure:
        each panel's children by zorder, then the figure's own (lines across panels, title, legend)."""
        over = {id(artist) for artist in self._added + self._drawn_late()}
        order = []
        for parent in [*self.figure.axes, self.figure]:
            order += sorted((artist for artist in parent.get_children() if id(artist) in over), key=lambda artist: artist.get_zorder())
        return order


def warm_up() -> None:
    """Load what every map needs, fonts and province outlines, before its sites are known (the command line's worker)."""
    fonts.install()
    layer("province")
    figure = Figure(dpi=DPI)
    FigureCanvasAgg(figure)
    figure.text(0, 0, "山东 Shandong 0123").get_window_extent()  # the fonts' files read and parsed


def allocation_map(allocation: Allocation, title: str | None = None, *, province: str | None = None, lang: str | None = None) -> Figure:
    """The map of an allocation (see the module's description); ``lang`` 'zh' or 'en', else the current language."""
    basemap = Basemap(Sites.of(allocation.scenario), province=province, lang=lang)
    return basemap.add_postings(Placements.of(allocation), title)


def write_allocation_map(allocation: Allocation, path: str | Path, *, province: str | None = None, lang: str | None = None) -> Path:
    """Draw the map of an allocation and write it as PNG at ``path`` (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Basemap(Sites.of(allocation.scenario), province=province, lang=lang).png(Placements.of(allocation)))
    return path


def _png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of the pixels: rows unfiltered and zlib's fastest level, three times as fast as
    Pillow's adaptive filters, and smaller on a map's large flat areas."""
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + width * 3), np.uint8)  # each row: filter byte 0 (none), then its pixels
    rows[:, 1:].reshape(height, width, 3)[:] = rgb  # through a view of the rows: the pixels are copied once

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    per_metre = round(DPI / 0.0254)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
        chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        chunk(b"IDAT", zlib.compress(rows, PNG_COMPRESSION)),
        chunk(b"IEND", b""),
    ])


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
    axes.add_collection(PolyCollection(_seen(provinces.rings(~own, holes=False), extent), facecolors=AWAY_FILL, edgecolors="none"))
    counties, prefectures = layer("county", code), layer("prefecture")
    axes.add_collection(LineCollection(counties.rings(), colors="#cfcfcf", linewidths=0.35))
    axes.add_collection(LineCollection(prefectures.rings(prefectures.province == code), colors="#8a8a8a", linewidths=0.75))
    axes.add_collection(LineCollection(_seen(provinces.rings(), extent), colors="#555555", linewidths=1.1))


def _seen(rings: list[np.ndarray], extent) -> list[np.ndarray]:
    """The rings whose bounds meet the axes' ``extent`` (padded by a share of it, for the width of a line):
    the others draw no pixel there, yet cost as much to build and to clip as those that do."""
    x0, x1, y0, y1 = _padded(extent, 0.02)
    return [ring for ring in rings if ring[:, 0].max() >= x0 and ring[:, 0].min() <= x1 and ring[:, 1].max() >= y0 and ring[:, 1].min() <= y1]


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


def _postings_on(axes, marks: Marks, here: np.ndarray, inside: np.ndarray, posts_here: np.ndarray, size: float = 36, line_alpha: float = 0.45) -> list:
    """Lines from campus to post (``inside``: both ends on these axes), posts by kind, empty posts hollow; the artists made."""
    segments = np.stack([marks.campus_xy[inside], marks.post_xy[inside]], axis=1)
    made = [axes.add_collection(LineCollection(segments, colors=marks.colour[inside], linewidths=0.8, alpha=line_alpha, zorder=2))]
    empty = marks.every_post_xy[marks.empty & posts_here]
    made.append(axes.scatter(empty[:, 0], empty[:, 1], s=size * 0.8, facecolors="none", edgecolors=UNPLACED_COLOUR, zorder=3))
    for index, (_kind, marker, _text) in enumerate(KINDS):
        rows = here & (marks.kind == index)
        scale = 2.2 if marker == "*" else 1.0
        made.append(axes.scatter(marks.post_xy[rows, 0], marks.post_xy[rows, 1], s=size * scale, c=marks.colour[rows], marker=marker,
                                 edgecolors="black", linewidths=0.4, zorder=4))
    return made


def _labels(axes, units: Layer, chosen: np.ndarray, fontsize: float, names=None, colour: str = "#333333") -> list:
    """Names at the units' label points, largest unit first (the order in which they are kept)."""
    names = units.name if names is None else names
    order = [i for i in np.argsort(-_areas(units)) if chosen[i]]
    halo = [withStroke(linewidth=2.5, foreground="white", alpha=0.85)]
    return [
        axes.text(*units.label_xy[i], str(names[i]), fontsize=fontsize, color=colour, ha="center", va="center", zorder=6, path_effects=halo, clip_on=True)
        for i in order
    ]


def _keep_apart(figure: Figure, texts: list) -> list:
    """Hide every label that would overlap one kept before it, or fall outside its axes; the labels kept."""
    renderer = figure.canvas.get_renderer()
    for axes in figure.axes:
        axes.apply_aspect()
    kept, boxes = [], []
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.06, 1.15)
        frame = text.axes.get_window_extent(renderer)
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        if not inside or any(box.overlaps(other) for other in boxes):
            text.set_visible(False)
        else:
            kept.append(text)
            boxes.append(box)
    return kept


def _legend(figure: Figure, marks: Marks, rows: np.ndarray, posts: np.ndarray):
    """Wish colours, posting kinds and empty posts, each with its count among the ``rows`` and ``posts`` shown."""
    counts = np.bincount(marks.wish[rows], minlength=marks.n_wishes + 1)

    def dot(colour, label, marker="o", size=7):
        return Line2D([], [], marker=marker, linestyle="", markersize=size, color=colour, markeredgecolor="black", markeredgewidth=0.4, label=label)

    handles = [dot(marks.palette[k], _("wish {number} ({count})").format(number=k, count=counts[k])) for k in range(1, marks.n_wishes + 1)]
    handles.append(dot(marks.palette[0], _("no wish met ({count})").format(count=counts[0])))
    kinds = np.bincount(marks.kind[rows], minlength=len(KINDS))
    for index, (_kind, marker, text) in enumerate(KINDS):
        if kinds[index]:
            handles.append(dot("white", _("{kind} ({count})").format(kind=_(text), count=kinds[index]), marker, 11 if marker == "*" else 7))
    handles.append(dot("black", _("university campus"), "^"))
    empty = int((marks.empty & posts).sum())
    if empty:
        handles.append(Line2D([], [], marker="o", linestyle="", color="none", markeredgecolor=UNPLACED_COLOUR, label=_("post left empty ({count})").format(count=empty)))
    return figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.0))
