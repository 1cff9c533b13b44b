"""Rebuild the shipped Shandong scenarios' tables from the geography and the generator.

    python tools/make_scenarios.py

Deterministic: the same code gives byte-identical CSV files. The tables are
committed next to the scenario files so users can open them; the tests check
that this script reproduces them.

What it builds (decisions are explained in the scenario YAML comments):
- scenarios/data/shandong-2011/: the first batch. 140 in-province posts on the
  end-2011 map and 16 Qinghai posts; 156 cadres from the 47 regular undergraduate
  universities, quotas by size; budgets at 90 % of each university's spending in
  the unconstrained optimum of the default policy, but never below its spending
  in the allocation of least total cost, rounded up to 1,000 yuan.
- scenarios/data/shandong-2012/: the second batch with relay. Same posts and
  agreements; a fresh pool; the history is the 2011 allocation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import placement_engine as pe
from placement_engine import data, io
from placement_engine.builders import posts_from_units, universities_from_reference
from placement_engine.factors import FACTORS
from placement_engine.synth import SynthConfig, generate, post_needs

ROOT = Path(__file__).resolve().parent.parent

# The 13 districts of Jinan and Qingdao at end-2011, plus Zhangqiu (the 14th
# deputy-division post of the bulletin; see scenarios/shandong-2011.yaml).
DEPUTY_DIVISION_POSTS = [
    "370102", "370103", "370104", "370105", "370112", "370113",
    "370202", "370203", "370205", "370211", "370212", "370213", "370214",
    "370181",
]  # fmt: skip
# Sixteen counties of eastern Qinghai, including the bulletin's Xinghai and Xunhua.
QINGHAI_POSTS = [
    "632121", "632122", "632123", "632126", "632127", "632128",
    "632221", "632222", "632223", "632224",
    "632521", "632522", "632523", "632524", "632525",
    "632322",
]  # fmt: skip

POOL_2011 = SynthConfig(
    n_cadres=156,
    rank_counts={"staff": 10, "deputy_section": 92, "section": 40, "deputy_division": 14, "division": 0},
    volunteer_share=0.2,
    history_batches=0,
)
POOL_2012 = POOL_2011.model_copy(update={"history_batches": 0})
NEEDS_SEED = 2011
BUDGET_SHARE = 0.9
BUDGET_ROUNDING_YUAN = 1000


def shandong_posts() -> pd.DataFrame:
    shandong = posts_from_units(data.shandong_2011(), min_rank="deputy_section")
    shandong.loc[shandong["adcode"].isin(DEPUTY_DIVISION_POSTS), "min_rank"] = "deputy_division"
    qinghai = data.qinghai_2011()
    qinghai = posts_from_units(qinghai[qinghai["adcode"].isin(QINGHAI_POSTS)], min_rank="staff")
    posts = pd.concat([shandong, qinghai], ignore_index=True)
    posts["needs"] = post_needs(posts, seed=NEEDS_SEED)
    return posts


def shandong_universities() -> pd.DataFrame:
    reference = data.shandong_universities()
    return universities_from_reference(reference[reference["regular_undergrad_2011"]])


def binding_budgets(scenario: pe.Scenario, allocation: pe.Allocation) -> np.ndarray:
    """BUDGET_SHARE of each university's unconstrained spending, never below a feasible floor.

    The floor is what the university spends in the allocation of least total cost.
    That one allocation meets every floor at once, so the budgets stay feasible
    together. Rounded up to BUDGET_ROUNDING_YUAN.
    """
    cheapest = pe.solve(scenario.with_policy(factors={name: {"weight": 0.0} for name in FACTORS} | {"cost": {"weight": 1.0}}))
    ids = scenario.instance.university_id

    def spending(table: pd.DataFrame) -> np.ndarray:
        return table.groupby("university_id")["annual_cost_yuan"].sum().astype(float).reindex(ids).fillna(0).to_numpy()

    target = np.maximum(BUDGET_SHARE * spending(allocation.table), spending(cheapest.table))
    return (np.ceil(target / BUDGET_ROUNDING_YUAN) * BUDGET_ROUNDING_YUAN).astype(int)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    for name, frame in tables.items():
        io.write_csv(frame, folder / f"{name}.csv")


def build(root: Path) -> None:
    posts = shandong_posts()
    universities = shandong_universities()
    pool = generate(posts, universities, POOL_2011, seed=2011)
    folder_2011 = root / "scenarios" / "data" / "shandong-2011"
    write_tables(folder_2011, {"posts": posts, "universities": universities, **pool})

    scenario = pe.load_scenario(root / "scenarios" / "shandong-2011.yaml")
    allocation = pe.solve(scenario)
    universities["budget_yuan"] = binding_budgets(scenario, allocation)
    io.write_csv(universities, folder_2011 / "universities.csv")

    history = allocation.table.loc[allocation.table["post_id"] != "", ["university_id", "post_id"]]
    history.insert(0, "batch", 2011)
    pool_2012 = generate(posts, universities, POOL_2012, seed=2012)
    pool_2012["partnerships"] = pool["partnerships"]
    pool_2012["history"] = history.sort_values("post_id").reset_index(drop=True)
    write_tables(
        root / "scenarios" / "data" / "shandong-2012",
        {"posts": posts, "universities": universities, **pool_2012},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root to write into")
    build(parser.parse_args(argv).root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
