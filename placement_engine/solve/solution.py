"""What goes into a solve and what comes out of it: typed, so that phases cannot mix up their parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """The solver settings of one solve, resolved and validated (see ``SolverOptions``)."""

    time_limit: float  # wall-clock cap on the whole solve, seconds
    work_limit: float  # CP-SAT deterministic time for all its searches of the solve
    workers: int
    seed: int
    method: str = "auto"
    use_relaxation: bool = True

    @classmethod
    def of(cls, options, time_limit: float | None = None, workers: int | None = None, seed: int | None = None) -> Settings:
        """From a policy's ``SolverOptions``; explicit arguments win."""
        wall = time_limit if time_limit is not None else options.time_limit_s
        work = options.work_limit if options.work_limit is not None else wall
        return cls(
            wall,
            work,
            workers if workers is not None else options.workers,
            seed if seed is not None else options.seed,
            options.method,
            options.use_relaxation,
        )


@dataclass
class Phase:
    """One constrained maximisation: the allocation, what is proven about it, and how it ended."""

    chosen: np.ndarray  # 0/1 over the pairs
    status: str  # OPTIMAL or FEASIBLE
    proof: str
    objective: int
    bound: int | None
    stats: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: str = ""  # "" when proven; else "work limit", "wall clock" or "interrupted"


@dataclass
class Solution:
    """The answer of ``solve_model``: the allocation over ``terms.pairs`` and its certificate."""

    chosen: np.ndarray  # 0/1 over the allowed pairs
    status: str  # OPTIMAL or FEASIBLE
    proof: str  # who proved the status: "flow duality", "cp-sat", "lagrangian duality", or "none"
    objective: int  # scaled integer objective
    bound: int  # scaled integer upper bound
    terms: Any = None  # the terms solved, with every lazy row added
    lexicographic: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C stopped the search: the best allocation found by then
    stopped_by: str = ""  # what ended an unproven search: "work limit", "wall clock" or "interrupted"
    lazy_rules: dict[str, Any] = field(default_factory=dict)  # per lazy rule: rounds, rows and what it cost
    clock_cut: list[str] = field(default_factory=list)  # phases the wall clock cut short

    @property
    def reproducible(self) -> bool:
        """Whether the same inputs, policy and seed give this allocation on any machine, under any load.

        Iteration counts and the work limit depend on nothing else; the wall clock and Ctrl-C do.
        """
        return not self.clock_cut and self.stopped_by in ("", "work limit")
