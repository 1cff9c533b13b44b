"""The factor registry: the one list that drives the policy schema, the model and the reports."""

from .base import Factor, FactorParams, FactorReport, Lexicographic, SideConstraints
from .cost import Cost
from .local_needs import LocalNeeds
from .pair_scores import PairScores
from .partnership import Partnership
from .preferences import Preferences
from .proximity import Proximity
from .rank_fit import RankFit
from .relay import Relay

FACTORS: dict[str, Factor] = {
    factor.name: factor
    for factor in (Preferences(), Proximity(), LocalNeeds(), Partnership(), Relay(), RankFit(), Cost(), PairScores())
}

__all__ = ["FACTORS", "Factor", "FactorParams", "FactorReport", "Lexicographic", "SideConstraints"]
