"""The solve pipeline: model terms in, a certified allocation out (``pipeline.solve_model``, the one entry point)."""

from .deadline import Deadline
from .pipeline import diagnose, diagnose_terms, solve_model, with_rows
from .solution import Settings, Solution
from .terms import ScoreCache, Terms, build_terms, restrict_rows

__all__ = [
    "Deadline",
    "ScoreCache",
    "Settings",
    "Solution",
    "Terms",
    "build_terms",
    "diagnose",
    "diagnose_terms",
    "restrict_rows",
    "solve_model",
    "with_rows",
]
