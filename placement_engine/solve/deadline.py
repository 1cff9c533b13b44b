"""One clock, one work budget and one plan for a whole solve.

Three limits, on purpose:

- **work** (``solver.work_limit``, default ``time_limit_s``): CP-SAT's
  deterministic time, in its own units (roughly seconds of one core). It is
  spent by every search of the solve (the relay count, the objective, lazy-cut
  rounds, the diagnosis) and counted from the searches' own reports, so where a
  search stops depends on the inputs, the policy and the seed only: the same
  run gives the same allocation on a busy machine and on a quiet one. The
  phases before CP-SAT are bounded by iteration counts, not by time.
- **plan**: ``PLAN_SHARE`` of the time limit in *reference seconds*, what each
  step costs on the reference machine (2 cores, quiet), predicted from its size
  and its counts: a flow from its pairs, a column-generation round from its
  pairs, a search from its work and its model's pairs. Each step charges its
  prediction when it ends, and each search gets at most what is left of the
  plan, so on the reference machine a solve ends by its plan with a quarter of
  its time limit to spare, and where it ends depends on no clock. Without it the
  wall clock would stop every solve whose searches do not finish (CP-SAT's
  deterministic time runs about 1.4 times slower than the clock here), and a busy
  machine would give another allocation.
- **wall clock** (``solver.time_limit_s``): a safety cap on the whole solve,
  pre-phases included. Every phase checks it inside its loops. A run that the
  cap stopped (a machine or a load more than a third slower than the reference)
  says so (``stopped_by: "wall clock"``), since a busier machine would have
  stopped it elsewhere.
"""

from __future__ import annotations

import time

# The least wall time a search is started with; below it, it would only spend time returning nothing.
MIN_SEARCH_S = 0.05
# CP-SAT checks its wall-clock limit between presolve steps; at national scale it stops up to this late.
SEARCH_OVERSHOOT_S = 0.8
# Under time pressure the phases before the search stop at this share of the wall clock, so the search gets the rest.
PRE_PHASE_SHARE = 0.5
# The plan: the share of the time limit a solve spends on the reference machine, the rest headroom for load.
PLAN_SHARE = 0.75
# Reference seconds, measured on sub-models, flows and master rounds at 982 and 2,897 cadres
# (docs/performance.md, "Where a budget solve's time goes"):
SEARCH_SECONDS_PER_WORK = 1.45  # wall seconds per unit of CP-SAT's deterministic time, one worker (1.41 at both sizes)
FLOW_SECONDS_PER_PAIR = 3.0e-7  # one min-cost flow (2.5e-7 at 982 cadres, 3.0e-7 at 2,897)
MASTER_SECONDS_PER_PAIR = 6.5e-7  # one column-generation round: its LP and its knapsacks (5.2e-7, 6.5e-7)
SUB_MODEL_SECONDS_PER_PAIR = 1.2e-7  # choosing, building and loading one neighbourhood's sub-model, per pair of the model (1.1e-7)
MODEL_SECONDS_PER_PAIR = 3.0e-6  # building and loading a whole model before its search


class Deadline:
    """The wall-clock cap and the work budget of one solve, shared by all its phases."""

    def __init__(self, wall_seconds: float, work: float | None = None, started: float | None = None):
        self.started = time.perf_counter() if started is None else started  # a perf_counter reading
        self.wall_seconds = float(wall_seconds)
        self.work_left = float(work if work is not None else wall_seconds)
        self.charged = 0.0  # reference seconds charged so far: counts, never the clock
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

    def spend(self, work: float, model_pairs: int = 0) -> None:
        """Charge a search's work, and the reference seconds of it and of loading its ``model_pairs``."""
        self.work_left = max(0.0, self.work_left - work)
        self.charge(SEARCH_SECONDS_PER_WORK * work + MODEL_SECONDS_PER_PAIR * model_pairs)

    def charge(self, seconds: float) -> None:
        """Charge the reference seconds of a step that has ended."""
        self.charged += seconds

    def charge_flows(self, pairs: int, flows: int = 1) -> None:
        self.charge(FLOW_SECONDS_PER_PAIR * pairs * flows)

    def charge_master(self, pairs: int, rounds: int) -> None:
        self.charge(MASTER_SECONDS_PER_PAIR * pairs * rounds)

    def plan_left(self) -> float:
        """Reference seconds left in the plan."""
        return max(0.0, PLAN_SHARE * self.wall_seconds - self.charged)

    def search_work(self, share: float, model_pairs: int) -> float:
        """The work for the next search of ``model_pairs`` pairs: ``share`` of the work and of the plan left after its loading."""
        planned = max(0.0, self.plan_left() - MODEL_SECONDS_PER_PAIR * model_pairs) / SEARCH_SECONDS_PER_WORK
        return share * min(self.work_left, planned)

    @property
    def stopped_by_clock(self) -> bool:
        return bool(self.clock_stopped)
