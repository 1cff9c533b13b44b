"""Annual cost of a posting to the sending university (soft, optional hard budget).

The allowance rules of the programme, by where the post is relative to the
university's campus (prefecture and province from the 6-digit codes):

- same prefecture:   12 * same_city_monthly_yuan
- another prefecture in the same province:
                     12 * other_city_monthly_yuan
                     + round_trips_per_year * 2 * rail_detour * d(c, p) * fare_yuan_per_km
- another province:  12 * cross_province_monthly_yuan + cross_province_one_off_yuan
                     + cross_province_insurance_yuan

rounded to whole yuan; d is the great-circle distance in km. The score is the
negative cost:

    score(c, p) = -annual_cost(c, p)      unit: yuan

With ``budget: true`` each university whose ``budget_yuan`` is set in the
universities table may spend at most ``budget_scale * budget_yuan`` in total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import Problem
from ..instance import Instance, PairTable
from .base import Factor, FactorParams, SideConstraints


class CostParams(FactorParams):
    weight: float = 0.0
    same_city_monthly_yuan: float = Field(300.0, ge=0)
    other_city_monthly_yuan: float = Field(500.0, ge=0)
    cross_province_monthly_yuan: float = Field(1700.0, ge=0)
    cross_province_one_off_yuan: float = Field(3000.0, ge=0)
    cross_province_insurance_yuan: float = Field(200.0, ge=0, description="assumed; the amount is not published")
    round_trips_per_year: float = Field(12.0, ge=0)
    rail_detour: float = Field(1.25, ge=1, description="rail km per great-circle km")
    fare_yuan_per_km: float = Field(0.31, ge=0, description="2011 D-train second class, about 0.31 yuan/km")
    budget: bool = False
    budget_scale: float = Field(1.0, gt=0)


class Cost(Factor):
    name = "cost"
    unit = "yuan"
    Params = CostParams

    def check_inputs(self, tables: dict[str, pd.DataFrame], params: CostParams) -> list[Problem]:
        if params.budget and "budget_yuan" not in tables["universities"].columns:
            return [Problem("universities", "column budget_yuan", "a budget_yuan column (cost.budget is on)", "none")]
        return []

    def annual_cost(self, pairs: PairTable, params: CostParams) -> np.ndarray:
        same_city = 12 * params.same_city_monthly_yuan
        other_city = 12 * params.other_city_monthly_yuan + (
            params.round_trips_per_year * 2 * params.rail_detour * params.fare_yuan_per_km * pairs.distance_km
        )
        cross = (
            12 * params.cross_province_monthly_yuan
            + params.cross_province_one_off_yuan
            + params.cross_province_insurance_yuan
        )
        cost = np.where(pairs.cross_province, cross, np.where(pairs.same_prefecture, same_city, other_city))
        return np.rint(cost).astype(np.int64)

    def scores(self, pairs: PairTable, params: CostParams) -> np.ndarray:
        return -self.annual_cost(pairs, params).astype(float)

    def side_constraints(self, pairs: PairTable, params: CostParams) -> SideConstraints | None:
        if not params.budget:
            return None
        budget = self.budgets(pairs.instance, params)
        limited = np.flatnonzero(~np.isnan(budget))
        row_of_university = np.full(len(budget), -1)
        row_of_university[limited] = np.arange(len(limited))
        row = row_of_university[pairs.university]
        pair = np.flatnonzero(row >= 0)
        return SideConstraints(
            labels=[f"budget of {u}" for u in pairs.instance.university_id[limited]],
            rhs=np.floor(budget[limited]).astype(np.int64),
            row=row[pair],
            pair=pair,
            coef=self.annual_cost(pairs, params)[pair],
            unit="yuan",
        )

    def budgets(self, inst: Instance, params: CostParams) -> np.ndarray:
        """Each university's spending limit in yuan (NaN where it has none)."""
        raw = inst.tables["universities"]["budget_yuan"]
        return params.budget_scale * raw.astype(float).to_numpy()

    def columns(self, pairs: PairTable, params: CostParams) -> dict[str, np.ndarray]:
        return {"annual_cost_yuan": self.annual_cost(pairs, params)}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | None]:
        return {"total_annual_cost_yuan": int(columns["annual_cost_yuan"][assigned].sum())}
