"""Rebuild the national scenario's tables: every county-level unit, about 2,900 cadres.

    python tools/make_national.py

Deterministic: the same code gives byte-identical CSV files in
scenarios/data/national-2011/ (tests/test_national.py checks it). The choices
are explained in scenarios/national-2011.yaml and in the README of that folder.

- posts: every county-level unit of the shipped geography (cpca vintage, about
  mid-2016) except the three 三沙 island groups. min_rank is deputy_division in
  the districts of the 15 sub-provincial cities, staff in the provinces that
  receive volunteers, deputy_section elsewhere. Needs are synthetic
  (``placement_engine.synth.post_needs``, drawn over every post, then the subset kept).
- pairings: eastern provinces and the western ones they aid (PAIRINGS).
- cadres per province: its posts, less the share of a receiving province's
  posts left to volunteers from its partners (RESERVED_SHARE), plus what a
  sending province sends, plus a 2 % surplus.
- universities: the real Shandong ones; seeded synthetic ones elsewhere.
- cadres, wishes, partnerships and history: ``placement_engine.synth.generate``,
  one province at a time, over its own posts and its partners' posts.
- budgets: as for Shandong (``binding_budgets`` in tools/make_scenarios.py).

``tables(provinces)`` builds the same for a subset of provinces (the pairings
restricted to it); the scale benchmark uses it for its mid-size instances.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

import placement_engine as pe
from placement_engine import data, io
from placement_engine.builders import posts_from_units, universities_from_reference
from placement_engine.synth import SynthConfig, generate, post_needs

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path("scenarios") / "data" / "national-2011"
SCENARIO = Path("scenarios") / "national-2011.yaml"
SEED = 2011
SHANDONG = "370000"

# The 15 sub-provincial cities (副省级城市) of 2011; their districts need deputy-division cadres.
SUB_PROVINCIAL = {
    "210100": "沈阳", "210200": "大连", "220100": "长春", "230100": "哈尔滨", "320100": "南京",
    "330100": "杭州", "330200": "宁波", "350200": "厦门", "370100": "济南", "370200": "青岛",
    "420100": "武汉", "440100": "广州", "440300": "深圳", "510100": "成都", "610100": "西安",
}  # fmt: skip

# (from_province, to_province, programme). From memory of the State Council's
# arrangements, not checked against the documents: east-west poverty-alleviation
# cooperation (东西扶贫协作, 1996; the four cities Dalian, Qingdao, Shenzhen and
# Ningbo with Guizhou are entered under their provinces), counterpart aid to
# Tibet (对口援藏, from 1994), to Xinjiang (对口援疆, 2010 round) and to the
# Tibetan areas of Qinghai (对口援青, 2010). At most three partners per sender.
PAIRINGS = [
    ("110000", "150000", "east-west cooperation"), ("110000", "540000", "Tibet aid"), ("110000", "630000", "Qinghai aid"),
    ("120000", "620000", "east-west cooperation"), ("120000", "540000", "Tibet aid"), ("120000", "630000", "Qinghai aid"),
    ("130000", "540000", "Tibet aid"), ("130000", "650000", "Xinjiang aid"),
    ("140000", "650000", "Xinjiang aid"),
    ("210000", "630000", "east-west cooperation"), ("210000", "520000", "east-west cooperation"), ("210000", "540000", "Tibet aid"),
    ("220000", "650000", "Xinjiang aid"), ("220000", "540000", "Tibet aid"),
    ("230000", "650000", "Xinjiang aid"), ("230000", "540000", "Tibet aid"),
    ("310000", "530000", "east-west cooperation"), ("310000", "540000", "Tibet aid"), ("310000", "630000", "Qinghai aid"),
    ("320000", "610000", "east-west cooperation"), ("320000", "540000", "Tibet aid"), ("320000", "630000", "Qinghai aid"),
    ("330000", "510000", "east-west cooperation"), ("330000", "520000", "east-west cooperation"), ("330000", "630000", "Qinghai aid"),
    ("340000", "650000", "Xinjiang aid"), ("340000", "540000", "Tibet aid"),
    ("350000", "640000", "east-west cooperation"), ("350000", "540000", "Tibet aid"),
    ("360000", "650000", "Xinjiang aid"),
    ("370000", "630000", "Qinghai aid"), ("370000", "650000", "east-west cooperation"), ("370000", "520000", "east-west cooperation"),
    ("410000", "650000", "Xinjiang aid"),
    ("420000", "540000", "Tibet aid"), ("420000", "650000", "Xinjiang aid"),
    ("430000", "540000", "Tibet aid"), ("430000", "650000", "Xinjiang aid"),
    ("440000", "450000", "east-west cooperation"), ("440000", "520000", "east-west cooperation"), ("440000", "650000", "Xinjiang aid"),
    ("500000", "540000", "Tibet aid"),
]  # fmt: skip

# Share of a receiving province's posts left to volunteers from its partners: an
# assumption, larger where local universities are fewest.
RESERVED_SHARE = {
    "540000": 0.4, "630000": 0.4, "650000": 0.3, "640000": 0.2, "620000": 0.15, "520000": 0.15,
    "530000": 0.15, "450000": 0.1, "150000": 0.1, "610000": 0.1, "510000": 0.1,
}  # fmt: skip
# A sender sends at most this share of its own post count (Shandong's first batch
# sent 16 cadres to Qinghai for 140 posts at home), and at least MIN_SEND_CAP may.
SEND_CAP = 0.15
MIN_SEND_CAP = 2.0
FITTING_ROUNDS = 500
SURPLUS_SHARE = 0.02  # cadres beyond the posts: the surplus stays home
DEPUTY_DIVISION_MARGIN = 0.1  # deputy-division cadres beyond the deputy-division posts
STAFF_PER_SENT = 0.6  # staff-rank cadres (who all volunteer) per cadre a province sends
RECIPIENT_STAFF_SHARE = 0.1  # staff-rank cadres in a receiving province, which has staff posts
SECTION_SHARE = 0.26
VOLUNTEERS_PER_SENT = 1.5  # volunteers per cadre a province sends, plus its surplus: room to choose who goes
CADRES_PER_UNIVERSITY = 3.3  # Shandong's first batch: 156 cadres from 47 universities
CAPITAL_UNIVERSITY_SHARE = 0.5
UNIVERSITY_SIZE = 12000  # median enrolment of a synthetic university (Shandong's estimates: 15,000)
CAPITAL_SIZE_FACTOR = 1.5
HISTORY_BATCH = 2010  # the synthetic earlier batch the relay factor looks back to

POOL = {"volunteer_share": 0.0, "history_batches": 1}  # the rest of each province's SynthConfig is its plan


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


binding_budgets = _tool("make_scenarios").binding_budgets


def _half_up(x) -> np.ndarray:
    return np.floor(np.asarray(x, float) + 0.5).astype(np.int64)


def national_posts(provinces: list[str] | None = None) -> pd.DataFrame:
    """One post per county-level unit, with the rank rules and needs; optionally only some provinces.

    Needs are drawn over every post before the subset is taken, so a post lists the
    same needs in every subset.
    """
    units = data.counties()
    units = units[units["kind"] != "island_area"]  # 三沙's island groups are not county governments
    posts = posts_from_units(units, min_rank="deputy_section")
    # The engine places a university by the first four digits of its adcode, so the
    # municipalities' units are grouped the same way (重庆: 500100 districts, 500200 counties).
    municipal = posts["province"].isin(["110000", "120000", "310000", "500000"])
    posts.loc[municipal, "prefecture"] = posts.loc[municipal, "adcode"].str[:4] + "00"
    receiving = posts["province"].isin(RESERVED_SHARE)
    posts.loc[receiving, "min_rank"] = "staff"
    senior = posts["prefecture"].isin(SUB_PROVINCIAL) & (posts["kind"] == "district")
    posts.loc[senior, "min_rank"] = "deputy_division"
    posts["needs"] = post_needs(posts, seed=SEED)
    if provinces is not None:
        posts = posts[posts["province"].isin(provinces)].reset_index(drop=True)
    return posts


def pairings(provinces) -> pd.DataFrame:
    table = pd.DataFrame(PAIRINGS, columns=["from_province", "to_province", "programme"])
    table["source"] = "from memory"
    return table[table["from_province"].isin(provinces) & table["to_province"].isin(provinces)].reset_index(drop=True)


def volunteer_flows(posts: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """Cadres each paired (sender, receiver) is planned to send, indexed by the pair.

    A receiving province leaves RESERVED_SHARE of its posts to volunteers; a
    sender sends at most SEND_CAP of its own post count (at least MIN_SEND_CAP).
    The split is iterative proportional fitting on the pairing graph: scale each
    receiver's column to its demand, then scale down each sender's row that is
    over its cap, FITTING_ROUNDS times (it settles well before). So a receiver
    with many partners draws a little from each, and one with a single small
    partner gets what that partner can send. Rounded half up per pair.
    """
    n_posts = posts.groupby("province")["capacity"].sum()
    if len(pairs) == 0:
        return pd.Series([], pd.MultiIndex.from_arrays([[], []]), dtype=np.int64, name="sent")
    graph = pd.crosstab(pairs["from_province"], pairs["to_province"]).astype(float)
    demand = pd.Series(RESERVED_SHARE).reindex(graph.columns).to_numpy() * n_posts[graph.columns].to_numpy()
    cap = np.maximum(MIN_SEND_CAP, SEND_CAP * n_posts[graph.index].to_numpy())
    flow = graph.to_numpy(copy=True)
    for _ in range(FITTING_ROUNDS):
        flow *= demand / np.maximum(flow.sum(0), 1e-12)
        flow *= np.minimum(1.0, cap / np.maximum(flow.sum(1), 1e-12))[:, None]
    return pd.DataFrame(_half_up(flow), graph.index, graph.columns).stack().rename("sent")


def province_plan(posts: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per province: posts, posts left to volunteers, cadres sent, and the pool's size and ranks."""
    plan = posts.groupby("province").agg(
        province_name=("province_name", "first"),
        posts=("capacity", "sum"),
        deputy_division_posts=("min_rank", lambda r: int((r == "deputy_division").sum())),
    )
    flows = volunteer_flows(posts, pairs)
    plan["reserved"] = flows.groupby(level=1).sum().reindex(plan.index).fillna(0).astype(np.int64)
    plan["sent"] = flows.groupby(level=0).sum().reindex(plan.index).fillna(0).astype(np.int64)
    plan["surplus"] = _half_up(SURPLUS_SHARE * plan["posts"])
    plan["cadres"] = plan["posts"] - plan["reserved"] + plan["sent"] + plan["surplus"]
    receiving = plan["reserved"] > 0
    plan["deputy_division"] = plan["deputy_division_posts"] + np.ceil(DEPUTY_DIVISION_MARGIN * plan["deputy_division_posts"]).astype(np.int64)
    plan["staff"] = _half_up(STAFF_PER_SENT * plan["sent"]) + np.where(receiving, _half_up(RECIPIENT_STAFF_SHARE * plan["cadres"]), 0)
    plan["section"] = _half_up(SECTION_SHARE * plan["cadres"])
    plan["deputy_section"] = plan["cadres"] - plan["staff"] - plan["section"] - plan["deputy_division"]
    plan["volunteers"] = _half_up(VOLUNTEERS_PER_SENT * plan["sent"]) + np.where(plan["sent"] > 0, plan["surplus"], 0)
    return plan.reset_index()


def synthetic_universities(posts: pd.DataFrame, province: str, count: int, seed: int) -> pd.DataFrame:
    """``count`` universities: half in the capital's districts, the rest at other prefectures' seats.

    The capital is prefecture xx0100. A prefecture's seat is taken as its first
    unit in code order, as GB/T 2260 lists the seat's units first.
    """
    own = posts[posts["province"] == province].sort_values("adcode")
    capital = own[own["prefecture"] == province[:2] + "0100"]
    capital = capital[capital["kind"] == "district"] if (capital["kind"] == "district").any() else capital
    seats = own[own["prefecture"] != province[:2] + "0100"].drop_duplicates("prefecture")
    in_capital = int(np.ceil(CAPITAL_UNIVERSITY_SHARE * count)) if len(seats) else count
    rows = pd.concat(
        [
            capital.iloc[np.arange(in_capital) % len(capital)],
            seats.iloc[np.arange(count - in_capital) % max(len(seats), 1)],  # empty when all are in the capital
        ]
    )
    rng = np.random.default_rng([seed, int(province[:2])])
    size = UNIVERSITY_SIZE * rng.lognormal(0.0, 0.5, count) * np.where(np.arange(count) < in_capital, CAPITAL_SIZE_FACTOR, 1.0)
    number = [f"{province[:2]}-{k:02d}" for k in range(1, count + 1)]
    return pd.DataFrame(
        {
            "university_id": [f"syn{n}" for n in number],
            "name": [f"{own['province_name'].iat[0]}合成高校{n}" for n in number],
            "name_en": [f"Synthetic university {n}" for n in number],
            "adcode": rows["adcode"].to_numpy(str),
            "lon": rows["lon"].to_numpy(float),
            "lat": rows["lat"].to_numpy(float),
            "size": np.maximum(1000, 500 * _half_up(size / 500)),
            "confidence": "synthetic",
        }
    )


def universities(posts: pd.DataFrame, plan: pd.DataFrame, seed: int) -> pd.DataFrame:
    parts = []
    for row in plan.itertuples():
        if row.province == SHANDONG:
            reference = data.shandong_universities()
            parts.append(universities_from_reference(reference[reference["regular_undergrad_2011"]]))
        else:
            count = max(3, int(_half_up(row.posts / CADRES_PER_UNIVERSITY)))
            parts.append(synthetic_universities(posts, row.province, count, seed))
    return pd.concat(parts, ignore_index=True)


def pools(posts, unis, pairs, plan, seed: int) -> dict[str, pd.DataFrame]:
    """Cadres, wishes, partnerships and history, one province at a time.

    Each province's pool sees its own posts and, for its volunteers, its
    partners' posts. History keeps only the province's own posts, so each post
    has one earlier holder.
    """
    university_province = unis["adcode"].str[:2] + "0000"
    parts: dict[str, list[pd.DataFrame]] = {"cadres": [], "preferences": [], "partnerships": [], "history": []}
    for row in plan.itertuples():
        partners = pairs.loc[pairs["from_province"] == row.province, "to_province"] if row.sent else []
        seen = posts[posts["province"].isin([row.province, *partners])]
        config = SynthConfig(
            **POOL,
            n_cadres=int(row.cadres),
            rank_counts={
                "staff": int(row.staff),
                "deputy_section": int(row.deputy_section),
                "section": int(row.section),
                "deputy_division": int(row.deputy_division),
                "division": 0,
            },
            min_volunteers=int(row.volunteers),
            staff_only_volunteers=bool(row.sent and not row.reserved),
        )
        pool = generate(seen, unis[university_province == row.province], config, seed=seed * 100 + int(row.province[:2]))
        own_posts = posts.loc[posts["province"] == row.province, "post_id"]
        pool["history"] = pool["history"][pool["history"]["post_id"].isin(own_posts)].assign(batch=HISTORY_BATCH)
        for name, frame in pool.items():
            parts[name].append(frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def tables(provinces: list[str] | None = None, seed: int = SEED) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every table of the scenario (without budgets) for these provinces (default: all), and the province plan."""
    posts = national_posts(provinces)
    pairs = pairings(posts["province"].unique())
    plan = province_plan(posts, pairs)
    unis = universities(posts, plan, seed)
    plan["universities"] = (unis["adcode"].str[:2] + "0000").value_counts().reindex(plan["province"]).to_numpy()
    return {"posts": posts, "universities": unis, **pools(posts, unis, pairs, plan, seed), "pairings": pairs}, plan


def build(root: Path) -> None:
    folder = root / FOLDER
    built, plan = tables()
    for name, frame in {**built, "provinces": plan}.items():
        io.write_csv(frame, folder / f"{name}.csv")
    scenario = pe.load_scenario(root / SCENARIO)
    unis = built["universities"]
    unis["budget_yuan"] = binding_budgets(scenario, pe.solve(scenario))
    io.write_csv(unis, folder / "universities.csv")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root to write into")
    build(parser.parse_args(argv).root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
