"""Rebuild the geography tables shipped in ``placement_engine/data``.

Inputs are the county table of the cpca 0.5.5 wheel (``cpca/resources/adcodes.csv``,
MIT licence) and the small tables of facts in this file: the Shandong and Qinghai units
whose code or name changed between end-2011 and the cpca vintage (about mid-2016), the
three Shandong units merged after 2011 (with approximate seat coordinates), and the
Shandong universities.

Outputs (UTF-8, ``\\n`` line endings, rows sorted by adcode, coordinates with 6 decimals):
``counties.csv``, ``shandong_2011.csv``, ``qinghai_2011.csv``,
``universities_shandong.csv`` and ``LICENSE-cpca.txt``.

Usage::

    python tools/build_geography.py                 # downloads the wheel with pip
    python tools/build_geography.py --wheel cpca-0.5.5-py3-none-any.whl
    python tools/build_geography.py --out DIR       # write somewhere else
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import zipfile
from collections import Counter
from pathlib import Path

from wheels import build_from_wheel

CPCA_VERSION = "0.5.5"
TABLE_MEMBER = "cpca/resources/adcodes.csv"
LICENSE_MEMBER = f"cpca-{CPCA_VERSION}.dist-info/LICENSE"
# Pins the input so that a rebuild is byte-for-byte reproducible.
TABLE_SHA256 = "66948fa1519ba053f22b8c2d05c897c9b19c44cdc3044e464b52f0143ff418fe"

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "placement_engine" / "data"

COLUMNS = [
    "adcode", "name", "kind", "prefecture_code", "prefecture_name",
    "province_code", "province_name", "lon", "lat",
]
COLUMNS_2011 = COLUMNS + ["successor_adcode", "note"]
UNIVERSITY_COLUMNS = [
    "university_id", "name", "name_en", "adcode", "prefecture_code", "province_code",
    "lon", "lat", "confidence", "regular_undergrad_2011", "size", "size_source", "note",
]

MUNICIPALITIES = {"11", "12", "31", "50"}

# Checked in the order given, so 自治县 wins over 县. 林区 is deliberately not a suffix:
# 碑林区, 西林区, 北林区 and 万柏林区 are ordinary districts.
KIND_SUFFIXES = [
    ("自治县", "autonomous_county"),
    ("自治旗", "autonomous_banner"),
    ("旗", "banner"),
    ("县", "county"),
    ("市", "city"),
    ("区", "district"),
]
KIND_BY_ADCODE = {
    "429021": "forestry_district",  # 神农架林区
    "520203": "special_district",   # 六枝特区
    # 三沙's island groups are listed as county-level rows but have no county government.
    "460321": "island_area",
    "460322": "island_area",
    "460323": "island_area",
}

# cpca-vintage unit -> (end-2011 adcode, end-2011 name).
SHANDONG_2011_RENAMED = {
    "370505": ("370521", "垦利县"),
    "370812": ("370882", "兖州市"),
    "371003": ("371081", "文登市"),
    "371324": ("371324", "苍山县"),
    "371403": ("371421", "陵县"),
    "371603": ("371624", "沾化县"),
    "371703": ("371727", "定陶县"),
}
# End-2011 units later merged into a neighbour, so absent from cpca:
# (adcode, name, successor adcode, approximate seat lon, lat, merger date).
SHANDONG_2011_MERGED = [
    ("370205", "四方区", "370203", 120.36, 36.10, "2012-12-01"),
    ("370284", "胶南市", "370211", 120.05, 35.87, "2012-12-01"),
    ("370802", "市中区", "370811", 116.60, 35.40, "2013-10-18"),
]
QINGHAI_2011_RENAMED = {
    "630202": ("632123", "乐都县"),
    "630203": ("632121", "平安县"),
    "630222": ("632122", "民和回族土族自治县"),
    "630223": ("632126", "互助土族自治县"),
    "630224": ("632127", "化隆回族自治县"),
    "630225": ("632128", "循化撒拉族自治县"),
    "632701": ("632721", "玉树县"),
}
# cpca-vintage prefecture -> (end-2011 code, end-2011 name, note for its units).
QINGHAI_2011_PREFECTURES = {
    "630200": ("632100", "海东地区", "海东地区 632100 became 海东市 630200 in 2013"),
}

# Official kind counts at end-2011 (NBS yearbook 2012, table 1-1) and from the 2011 code list.
EXPECTED_2011 = {
    "37": {"district": 49, "city": 31, "county": 60},
    "63": {"district": 4, "city": 2, "county": 30, "autonomous_county": 7},
}

# Shandong universities: (id, name in 2010-12, English name in 2010-12, main-campus unit on
# the 2011 map, confidence in that unit, regular undergraduate institution in 2011,
# approximate full-time bachelor's enrolment around 2010 (an estimate), note).
UNIVERSITIES = [
    ("sdu", "山东大学", "Shandong University", "370112", "medium", True, 40000,
     "985 and 211; central campus on 山大南路; other Jinan campuses in 历下区/历城区; "
     "size is for the whole university and may overlap the Weihai row"),
    ("ouc", "中国海洋大学", "Ocean University of China", "370212", "medium", True, 15000,
     "985 and 211; 崂山 campus; the historic 鱼山 campus is in 市南区 370202"),
    ("upc", "中国石油大学（华东）", "China University of Petroleum (East China)", "370211",
     "medium", True, 16000,
     "211; 唐岛湾 campus in the development zone, inside the 2011 黄岛区; still split with "
     "the original 东营 campus (东营区 370502) in 2010-12"),
    ("sdust", "山东科技大学", "Shandong University of Science and Technology", "370211",
     "high", True, 30000, "前湾港路 campus, inside the 2011 黄岛区; also 泰安 and 济南 campuses"),
    ("qdu", "青岛大学", "Qingdao University", "370202", "medium", True, 28000, "宁夏路 campus"),
    ("qust", "青岛科技大学", "Qingdao University of Science and Technology", "370212",
     "medium", True, 24000, "崂山 campus; a second campus in the former 四方区; 高密 campus"),
    ("qut", "青岛理工大学", "Qingdao University of Technology", "370205", "uncertain", True,
     20000,
     "抚顺路 campus: in 四方区 370205 in 2011, which merged into 市北区 370203 on "
     "2012-12-01; 黄岛 campus"),
    ("qau", "青岛农业大学", "Qingdao Agricultural University", "370214", "high", True, 22000,
     "长城路 campus"),
    ("sdnu", "山东师范大学", "Shandong Normal University", "370102", "medium", True, 26000,
     "千佛山 campus; the 长清湖 campus in 长清区 370113 is larger today"),
    ("ujn", "济南大学", "University of Jinan", "370103", "high", True, 30000,
     "南辛庄西路 campus"),
    ("sdufe", "山东财经大学", "Shandong University of Finance and Economics", "370102",
     "medium", True, 28000,
     "formed in 2011 from 山东经济学院 and 山东财政学院; 燕山 campus; 舜耕 campus in 市中区"),
    ("sdjzu", "山东建筑大学", "Shandong Jianzhu University", "370112", "medium", True, 20000,
     "凤鸣路 campus"),
    ("qlu", "山东轻工业学院", "Shandong Polytechnic University", "370113", "high", True,
     16000, "长清 university park; renamed 齐鲁工业大学 (Qilu University of Technology) in 2013"),
    ("sdutcm", "山东中医药大学", "Shandong University of Traditional Chinese Medicine",
     "370113", "medium", True, 10000, "长清 campus; older campus in 历下区"),
    ("sdupsl", "山东政法学院", "Shandong University of Political Science and Law", "370102",
     "uncertain", True, 8000, "解放东路 campus"),
    ("sdjtu", "山东交通学院", "Shandong Jiaotong University", "370105", "medium", True, 15000,
     "无影山东路 campus"),
    ("sdca", "山东艺术学院", "Shandong University of Arts", "370102", "medium", True, 8000,
     "文化东路 campus; 长清 campus"),
    ("sdada", "山东工艺美术学院", "Shandong University of Art and Design", "370113",
     "uncertain", True, 6000, "长清 university park; older campus in 历下区"),
    ("sdpei", "山东体育学院", "Shandong Sport University", "370112", "uncertain", True, 7000,
     "世纪大道 campus (could be in 章丘市 370181); 日照 campus"),
    ("sdwu", "山东女子学院", "Shandong Women's University", "370113", "medium", True, 2000,
     "长清 university park; bachelor's programmes had only just started"),
    ("sdyu", "山东青年政治学院", "Shandong Youth University of Political Science", "370112",
     "uncertain", True, 1500,
     "the province's former Youth League school, made an undergraduate institution in 2010; "
     "经十东路 campus (历城区 or 历下区)"),
    ("sdpc", "山东警察学院", "Shandong Police College", "370112", "uncertain", True, 2000,
     "undergraduate status from about 2010 (unverified)"),
    ("qfnu", "曲阜师范大学", "Qufu Normal University", "370881", "high", True, 26000,
     "second campus in 日照 东港区 371102"),
    ("jnxy", "济宁学院", "Jining University", "370881", "high", True, 8000, "campus in 曲阜"),
    ("jnmc", "济宁医学院", "Jining Medical University", "370811", "uncertain", True, 12000,
     "荷花路 campus, given as 任城区; before 2013-10-18 the site may have been in 济宁 "
     "市中区 370802; 日照 campus"),
    ("lcu", "聊城大学", "Liaocheng University", "371502", "high", True, 28000, "湖南路 campus"),
    ("ytu", "烟台大学", "Yantai University", "370613", "high", True, 22000, "清泉路 campus"),
    ("ldu", "鲁东大学", "Ludong University", "370602", "high", True, 24000, "红旗中路 campus"),
    ("sdtbu", "山东工商学院", "Shandong Technology and Business University", "370613", "high",
     True, 16000, "滨海中路 campus"),
    ("bzmc", "滨州医学院", "Binzhou Medical University", "370613", "medium", True, 12000,
     "main campus moved to 烟台; original campus in 滨州 滨城区 371602"),
    ("sdau", "山东农业大学", "Shandong Agricultural University", "370902", "medium", True,
     25000, "岱宗大街 campus"),
    ("tsu", "泰山学院", "Taishan University", "370902", "medium", True, 15000,
     "东岳大街 campus"),
    ("tsmc", "泰山医学院", "Taishan Medical University", "370911", "uncertain", True, 15000,
     "长城路 campus (泰山区 or 岱岳区); merged into 山东第一医科大学 in 2019"),
    ("sdut", "山东理工大学", "Shandong University of Technology", "370303", "high", True,
     30000, "张店 campuses"),
    ("wfu", "潍坊学院", "Weifang University", "370705", "medium", True, 18000,
     "东风东街 campus"),
    ("wfmc", "潍坊医学院", "Weifang Medical University", "370705", "uncertain", True, 11000,
     "宝通西街 campus (奎文区 or 潍城区); renamed 山东第二医科大学 in 2024"),
    ("wfust", "潍坊科技学院", "Weifang University of Science and Technology", "370783",
     "high", True, 5000, "寿光; undergraduate institution since 2008"),
    ("lyu", "临沂大学", "Linyi University", "371302", "medium", True, 25000,
     "renamed from 临沂师范学院 in 2010; 北城新区 campus"),
    ("dzu", "德州学院", "Dezhou University", "371402", "medium", True, 16000,
     "大学西路 campus"),
    ("bzu", "滨州学院", "Binzhou University", "371602", "high", True, 14000,
     "黄河五路 campus; renamed 山东航空学院 in 2023"),
    ("hzu", "菏泽学院", "Heze University", "371702", "high", True, 13000, "大学路 campus"),
    ("uzz", "枣庄学院", "Zaozhuang University", "370402", "medium", True, 14000,
     "北安路 campus"),
    ("hitwh", "哈尔滨工业大学（威海）", "Harbin Institute of Technology, Weihai", "371002",
     "high", True, 10000,
     "campus of a 985 and 211 university; whether it sent cadres through the provincial "
     "quota is unverified"),
    ("sduwh", "山东大学（威海）", "Shandong University, Weihai", "371002", "high", True, 10000,
     "campus of 山东大学; may have been counted within its quota"),
    ("nanshan", "烟台南山学院", "Yantai Nanshan University", "370681", "high", True, 8000,
     "private; 龙口"),
    ("qdbhu", "青岛滨海学院", "Qingdao Binhai University", "370211", "medium", True, 5000,
     "private; development zone campus, inside the 2011 黄岛区; undergraduate since 2008 "
     "(unverified)"),
    ("sdyc", "山东英才学院", "Shandong Yingcai University", "370112", "uncertain", True, 5000,
     "private; undergraduate since 2008 (unverified)"),
    ("qlnu", "齐鲁师范学院", "Qilu Normal University", "370181", "uncertain", False, 0,
     "upgraded from 山东教育学院 in 2013, no bachelor's students in 2010; 章丘 campus"),
    ("sdmu", "山东管理学院", "Shandong Management University", "370113", "uncertain", False, 0,
     "undergraduate institution since 2016; 长清 university park"),
    ("sdaeu", "山东农业工程学院", "Shandong Agriculture and Engineering University", "370112",
     "uncertain", False, 0, "undergraduate institution since 2013"),
]


def read_wheel(wheel: Path) -> tuple[dict[str, dict], str]:
    """Return {6-digit adcode: {name, lon, lat}} and the licence text."""
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(TABLE_MEMBER)
        licence = zf.read(LICENSE_MEMBER).decode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TABLE_SHA256:
        raise SystemExit(f"{TABLE_MEMBER} has SHA-256 {digest}, expected {TABLE_SHA256}")
    table = {}
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        lon, lat = row["longitude"], row["latitude"]
        # The 12-digit codes are the GB/T 2260 code padded with six zeros.
        table[row["adcode"][:6]] = {
            "name": row["name"],
            "lon": float(lon) if lon else None,
            "lat": float(lat) if lat else None,
        }
    return table, licence.rstrip("\n") + "\n"


def classify(adcode: str, name: str) -> str:
    if adcode in KIND_BY_ADCODE:
        return KIND_BY_ADCODE[adcode]
    for suffix, kind in KIND_SUFFIXES:
        if name.endswith(suffix):
            return kind
    raise ValueError(f"cannot classify {adcode} {name}")


def prefecture_code(adcode: str) -> str:
    if adcode[:2] in MUNICIPALITIES:
        return adcode[:2] + "0000"  # the municipality acts as the prefecture
    if adcode[2:4] == "90":
        return adcode  # directly under the province: its own prefecture
    return adcode[:4] + "00"


def build_counties(table: dict[str, dict]) -> list[dict]:
    rows = []
    for code, unit in table.items():
        if code[4:] == "00" or unit["name"] == "市辖区" or unit["lon"] is None:
            continue
        pref, prov = prefecture_code(code), code[:2] + "0000"
        rows.append({
            "adcode": code, "name": unit["name"], "kind": classify(code, unit["name"]),
            "prefecture_code": pref, "prefecture_name": table[pref]["name"],
            "province_code": prov, "province_name": table[prov]["name"],
            "lon": unit["lon"], "lat": unit["lat"],
        })
    return sorted(rows, key=lambda r: r["adcode"])


def as_of_2011(counties: list[dict], province: str, renamed: dict,
               prefectures: dict) -> list[dict]:
    """Map the cpca-vintage units of one province back to their end-2011 code and name."""
    rows = []
    for unit in counties:
        if unit["province_code"] != province + "0000":
            continue
        row = dict(unit, successor_adcode="", note="")
        notes = []
        if unit["adcode"] in renamed:
            row["adcode"], row["name"] = renamed[unit["adcode"]]
            row["kind"] = classify(row["adcode"], row["name"])
            if row["adcode"] != unit["adcode"]:
                row["successor_adcode"] = unit["adcode"]
            if row["name"] == unit["name"]:
                change = f"recoded {unit['adcode']}"
            elif row["adcode"] == unit["adcode"]:
                change = f"renamed {unit['name']}"
            else:
                change = f"became {unit['name']} {unit['adcode']}"
            notes.append(f"{change} after 2011; seat point from the cpca unit")
        if unit["prefecture_code"] in prefectures:
            row["prefecture_code"], row["prefecture_name"], note = (
                prefectures[unit["prefecture_code"]]
            )
            notes.append(note)
        row["note"] = "; ".join(notes)
        rows.append(row)
    return rows


def build_shandong_2011(counties: list[dict]) -> list[dict]:
    rows = as_of_2011(counties, "37", SHANDONG_2011_RENAMED, {})
    by_code = {r["adcode"]: r for r in rows}
    for code, name, successor, lon, lat, date in SHANDONG_2011_MERGED:
        heir = by_code[successor]
        rows.append(dict(
            heir, adcode=code, name=name, kind=classify(code, name), lon=lon, lat=lat,
            successor_adcode=successor,
            note=f"merged into {heir['name']} {successor} on {date}; approximate seat point",
        ))
        # The successor's cpca seat point is that of the enlarged unit.
        heir["note"] = f"absorbed {name} {code} on {date}; seat point of the enlarged unit"
    return sorted(rows, key=lambda r: r["adcode"])


def build_qinghai_2011(counties: list[dict]) -> list[dict]:
    rows = as_of_2011(counties, "63", QINGHAI_2011_RENAMED, QINGHAI_2011_PREFECTURES)
    return sorted(rows, key=lambda r: r["adcode"])


def build_universities(shandong_2011: list[dict]) -> list[dict]:
    units = {r["adcode"]: r for r in shandong_2011}
    rows = []
    for uid, name, name_en, code, confidence, regular, size, note in UNIVERSITIES:
        unit = units[code]
        rows.append({
            "university_id": uid, "name": name, "name_en": name_en, "adcode": code,
            "prefecture_code": unit["prefecture_code"], "province_code": unit["province_code"],
            "lon": unit["lon"], "lat": unit["lat"], "confidence": confidence,
            "regular_undergrad_2011": "true" if regular else "false",
            "size": size, "size_source": "estimate", "note": note,
        })
    return sorted(rows, key=lambda r: (r["adcode"], r["university_id"]))


def check(counties: list[dict], shandong: list[dict], qinghai: list[dict]) -> None:
    """Fail loudly if the fact tables above drift from the published counts."""
    problems = []
    if len(counties) != 2845:
        problems.append(f"{len(counties)} counties, expected 2845")
    for rows, province in ((shandong, "37"), (qinghai, "63")):
        got = dict(Counter(r["kind"] for r in rows))
        if got != EXPECTED_2011[province]:
            problems.append(f"province {province} 2011 kinds {got}")
        if len({r["adcode"] for r in rows}) != len(rows):
            problems.append(f"province {province} 2011 has duplicate adcodes")
    if problems:
        raise SystemExit("; ".join(problems))


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                f"{row[c]:.6f}" if c in ("lon", "lat") else row[c] for c in columns
            )


def build(wheel: Path, out: Path) -> None:
    table, licence = read_wheel(wheel)
    counties = build_counties(table)
    shandong = build_shandong_2011(counties)
    qinghai = build_qinghai_2011(counties)
    check(counties, shandong, qinghai)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "counties.csv", COLUMNS, counties)
    write_csv(out / "shandong_2011.csv", COLUMNS_2011, shandong)
    write_csv(out / "qinghai_2011.csv", COLUMNS_2011, qinghai)
    write_csv(out / "universities_shandong.csv", UNIVERSITY_COLUMNS, build_universities(shandong))
    (out / "LICENSE-cpca.txt").write_text(licence, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path,
                        help=f"a local cpca-{CPCA_VERSION} wheel (default: download it with pip)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output directory (default: placement_engine/data)")
    args = parser.parse_args(argv)
    build_from_wheel(build, args.wheel, args.out, f"cpca=={CPCA_VERSION}", f"cpca-{CPCA_VERSION}-*.whl")


if __name__ == "__main__":
    main()
