"""The model's terms: weighted factor scores, integer objective coefficients and side rows, as arrays over the allowed pairs.

The objective is ``max sum_a coef[a] * x[a]`` over the allowed pairs ``a``, where
``coef = rint(objective_scale * sum_f weight_f * score_f)`` (see docs/objective.md).
Side rows come from the hard-rule registry; lexicographic counts (relay as a
rule) from the factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..factors import FACTORS, Lexicographic, SideConstraints
from ..instance import PairTable
from ..rules import active_rules
from ..schema import Policy
from .flow import INT64_SAFE


@dataclass
class Terms:
    """Everything the model needs, as arrays over the allowed pairs."""

    pairs: PairTable
    weighted: dict[str, np.ndarray]  # factor -> weight * score (points)
    total: np.ndarray  # sum of weighted scores per pair (points)
    coef: np.ndarray  # integer objective coefficient per pair
    scale: int
    side: dict[str, SideConstraints]
    lexicographic: list[Lexicographic]

    @property
    def has_side_constraints(self) -> bool:
        return any(len(rows.labels) for rows in self.side.values())

    def lexicographic_indicator(self) -> np.ndarray | None:
        """The sum of the lexicographic indicators per pair (relay as a rule), None without any."""
        if not self.lexicographic:
            return None
        return np.sum([lex.indicator for lex in self.lexicographic], axis=0).astype(np.int64)

    def subset(self, mask: np.ndarray) -> Terms:
        """The same terms over the pairs where ``mask`` holds (side rows re-indexed)."""
        return Terms(
            self.pairs.subset(mask),
            {name: values[mask] for name, values in self.weighted.items()},
            self.total[mask],
            self.coef[mask],
            self.scale,
            {name: restrict_rows(rows, mask) for name, rows in self.side.items()},
            [Lexicographic(lex.name, lex.indicator[mask], lex.description) for lex in self.lexicographic],
        )


def restrict_rows(rows: SideConstraints, mask: np.ndarray) -> SideConstraints:
    """Side rows over the pairs where ``mask`` holds, with pair indices renumbered."""
    new_index = np.cumsum(mask) - 1
    keep = mask[rows.pair]
    return SideConstraints(rows.labels, rows.rhs, rows.row[keep], new_index[rows.pair[keep]], rows.coef[keep], rows.unit)


class ScoreCache:
    """Raw factor scores over one set of pairs, keyed by the parameters other than the weight.

    A weight sweep changes only weights, so every point after the first reuses the
    scores; only the weighted sum and its rounding are recomputed.
    """

    def __init__(self, pairs: PairTable):
        self.pairs = pairs
        self._scores: dict[tuple[str, str], np.ndarray] = {}
        self.hits = 0

    def scores(self, name: str, params) -> np.ndarray:
        key = (name, params.model_dump_json(exclude={"weight"}))
        if key in self._scores:
            self.hits += 1
        else:
            self._scores[key] = FACTORS[name].scores(self.pairs, params)
        return self._scores[key]


def build_terms(pairs: PairTable, policy: Policy, cache: ScoreCache | None = None) -> Terms:
    """Weighted factor scores and integer coefficients for the allowed pairs (vectorised)."""
    if cache is not None and cache.pairs is not pairs:
        raise ValueError("the score cache belongs to another set of pairs")
    weighted = {}
    side = {}
    lexicographic = []
    for name, params in policy.active_factors().items():
        factor = FACTORS[name]
        if params.weight:
            raw = cache.scores(name, params) if cache is not None else factor.scores(pairs, params)
            weighted[name] = params.weight * raw
        else:
            weighted[name] = np.zeros(len(pairs))
        lex = factor.lexicographic(pairs, params)
        if lex is not None:
            lexicographic.append(lex)
    for rule in active_rules(policy):
        rows = rule.rows(pairs, policy)
        if rows is not None:
            side[rule.name] = rows
    total = np.sum(list(weighted.values()), axis=0) if weighted else np.zeros(len(pairs))
    scale = policy.solver.objective_scale
    coef = np.rint(total * scale)
    if len(coef) and np.abs(coef).max() * max(pairs.instance.n_cadres, 1) >= INT64_SAFE:
        raise ValueError("objective_scale is too large for these weights: the objective would overflow")
    return Terms(pairs, weighted, total, coef.astype(np.int64), scale, side, lexicographic)

