"""The price of stability: how many points ``rules.stable`` costs a scenario (docs/stability.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import io
from ..allocation import Allocation, solve
from ..scenario import Scenario
from ..schema import Policy


@dataclass
class StabilityPrice:
    allocation: Allocation  # the optimum under rules.stable
    optimum: float  # points of the optimum without the rule
    stable_optimum: float  # points of the optimum with it
    proven: bool  # both optima proven, so the price is exact
    rounds: int  # lazy rounds the rule took
    rows: int  # stability rows it added

    @property
    def price(self) -> float:
        return self.optimum - self.stable_optimum

    def to_dict(self) -> dict:
        return {
            "optimum": self.optimum,
            "stable_optimum": self.stable_optimum,
            "price": self.price,
            "price_percent": 100 * self.price / max(abs(self.optimum), 1e-9),
            "proven": self.proven,
            "rounds": self.rounds,
            "rows": self.rows,
        }


def stability_price(
    scenario: Scenario | str | Path,
    policy: Policy | None = None,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> StabilityPrice:
    """Optimum without ``rules.stable`` minus the optimum with it, under the scenario's policy (or ``policy``).

    One solve: the pipeline's first round is the optimum without the lazy rules, its last the optimum with them.
    """
    if not isinstance(scenario, Scenario):
        scenario = io.load_scenario(scenario)
    stable = (policy or scenario.policy).override({"rules": {"stable": True}})
    allocation = solve(scenario, stable, time_limit=time_limit, seed=seed, workers=workers)
    rule = allocation.summary["stable"]
    proven = rule["status_without_rule"] == "OPTIMAL" and allocation.status == "OPTIMAL"
    return StabilityPrice(allocation, rule["objective_without_rule"], allocation.objective, proven, rule["rounds"], rule["rows"])
