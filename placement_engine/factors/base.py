"""What every factor provides.

A factor scores (cadre, post) pairs in its own natural unit (wish points, km,
yuan, ...), oriented so that higher is better. The model multiplies the score
by the policy weight (points per unit) and sums over factors. A factor may also
forbid pairs outright, add linear side constraints, or ask for a quantity to be
maximised before the objective (relay as a rule). Each of these is computed
from arrays, so the same code serves the model and the solver-free check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..errors import Problem
from ..instance import PairTable


class FactorParams(BaseModel):
    """Parameters common to all factors. Subclasses add their own."""

    model_config = ConfigDict(extra="forbid")

    weight: float = Field(0.0, description="objective points per unit of the factor's score")


@dataclass
class SideConstraints:
    """Linear rows ``sum(coef * x[pair]) <= rhs``, one per ``label``.

    ``row`` indexes ``labels``/``rhs``; ``pair`` indexes the PairTable they were
    built on. Coefficients and right-hand sides are integers (the solver needs them).
    """

    labels: list[str]
    rhs: np.ndarray
    row: np.ndarray
    pair: np.ndarray
    coef: np.ndarray
    unit: str = ""

    def lhs(self, chosen: np.ndarray) -> np.ndarray:
        """Left-hand side of every row, given a 0/1 vector over the pairs."""
        return np.bincount(self.row, weights=self.coef * chosen[self.pair], minlength=len(self.labels))


@dataclass
class Lexicographic:
    """A count to maximise before the weighted objective (a 'rule' that yields when it must)."""

    name: str
    indicator: np.ndarray  # 0/1 per pair
    description: str = ""


@dataclass
class FactorReport:
    """What a factor says about a finished allocation, for the summary."""

    total: float
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


class Factor:
    """Base class. Subclasses set ``name``, ``unit``, ``Params`` and implement ``scores``."""

    name: ClassVar[str]
    unit: ClassVar[str]
    Params: ClassVar[type[FactorParams]] = FactorParams

    def check_inputs(self, tables: dict[str, pd.DataFrame], params: FactorParams) -> list[Problem]:
        """Problems with the tables this factor needs under these parameters."""
        return []

    def scores(self, pairs: PairTable, params: FactorParams) -> np.ndarray:
        raise NotImplementedError

    def forbidden(self, pairs: PairTable, params: FactorParams) -> np.ndarray | None:
        """Pairs this factor rules out (a bool mask), or None."""
        return None

    def side_constraints(self, pairs: PairTable, params: FactorParams) -> SideConstraints | None:
        return None

    def lexicographic(self, pairs: PairTable, params: FactorParams) -> Lexicographic | None:
        return None

    def columns(self, pairs: PairTable, params: FactorParams) -> dict[str, np.ndarray]:
        """Descriptive allocation columns (distance, cost, ...) for these pairs."""
        return {}

    def metrics(self, columns: dict[str, np.ndarray], assigned: np.ndarray) -> dict[str, float | int | None]:
        """Summary metrics from the allocation columns of the assigned pairs."""
        return {}

    def report(self, pairs: PairTable, params: FactorParams) -> FactorReport:
        """Totals and metrics on the assigned pairs; side-constraint violations if any."""
        report = FactorReport(total=float(self.scores(pairs, params).sum()))
        rows = self.side_constraints(pairs, params)
        if rows is not None:
            lhs = rows.lhs(np.ones(len(pairs)))
            for label, value, bound in zip(rows.labels, lhs, rows.rhs):
                if value > bound:
                    report.violations.append(f"{label}: {value:,.0f} {rows.unit} > limit {bound:,.0f}")
        return report
