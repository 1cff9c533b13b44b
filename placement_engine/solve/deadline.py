"""One clock and one work budget for a whole solve.

Two limits, on purpose:

- **work** (``solver.work_limit``, default ``time_limit_s``): CP-SAT's
  deterministic time, in its own units (roughly seconds of one core). It is
  spent by every search of the solve (the relay count, the objective, lazy-cut
  rounds, the diagnosis) and counted from the searches' own reports, so where a
  search stops depends on the inputs, the policy and the seed only: the same
  run gives the same allocation on a busy machine and on a quiet one. The
  phases before CP-SAT are bounded by iteration counts, not by time.
- **wall clock** (``solver.time_limit_s``): a safety cap on the whole solve,
  pre-phases included. Every phase checks it inside its loops. A run that the
  cap stopped says so (``stopped_by: "wall clock"``), since a busier machine
  would have stopped it elsewhere.
"""

from __future__ import annotations

import time

# The least wall time a search is started with; below it, it would only spend time returning nothing.
MIN_SEARCH_S = 0.05
# CP-SAT checks its wall-clock limit between presolve steps; at national scale it stops up to this late.
SEARCH_OVERSHOOT_S = 0.8
# Under time pressure the phases before the search stop at this share of the wall clock, so the search gets the rest.
PRE_PHASE_SHARE = 0.5


class Deadline:
    """The wall-clock cap and the work budget of one solve, shared by all its phases."""

    def __init__(self, wall_seconds: float, work: float | None = None, started: float | None = None):
        self.started = time.perf_counter() if started is None else started  # a perf_counter reading
        self.wall_seconds = float(wall_seconds)
        self.work_left = float(work if work is not None else wall_seconds)
        self.clock_stopped: list[str] = []  # phases the wall clock cut short

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return max(0.0, self.wall_seconds - self.elapsed())

    def expired(self, phase: str) -> bool:
        """True once the wall clock has run out; remembers which phase it stopped."""
        return self.remaining() <= MIN_SEARCH_S and self.cut(phase)

    def pre_phase_over(self, phase: str) -> bool:
        """True once a phase before the search has used its share of the wall clock."""
        return self.elapsed() >= PRE_PHASE_SHARE * self.wall_seconds and self.cut(phase)

    def cut(self, phase: str) -> bool:
        """Remember that the wall clock cut ``phase`` short."""
        if phase not in self.clock_stopped:
            self.clock_stopped.append(phase)
        return True

    def search_wall(self) -> float:
        """The wall-clock limit to give the next search, so that it ends by the deadline."""
        return max(MIN_SEARCH_S, self.remaining() - SEARCH_OVERSHOOT_S)

    def spend(self, work: float) -> None:
        self.work_left = max(0.0, self.work_left - work)

    @property
    def stopped_by_clock(self) -> bool:
        return bool(self.clock_stopped)
