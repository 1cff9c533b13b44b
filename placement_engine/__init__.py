"""Allocate university Youth League cadres to county-level posts.

    import placement_engine as pe
    scenario = pe.load_scenario("scenarios/shandong-2011.yaml")
    allocation = pe.solve(scenario)
    allocation.table            # one row per cadre (pandas)
    allocation.check()          # solver-free re-verification
"""

from .allocation import Allocation, solve
from .baselines import Baseline, greedy_allocation, random_allocation
from .errors import InfeasibleError, InputError, NoSolutionError, PlacementError, Problem, SolverError
from .factors import FACTORS
from .io import load_policy, load_scenario, scenario_from_tables
from .reports.audit import Audit
from .reports.check import CheckReport, check_allocation, check_output_dir
from .reports.explain import Explainer, Explanation, explain, least_satisfied
from .runner import Comparison, SolveOptions, chain, compare, pareto, solve_variant, sweep
from .scenario import Scenario, Variant
from .schema import Policy
from .solve import diagnose

__version__ = "0.1.0"


def __getattr__(name: str):
    # matplotlib is heavy: the figures module loads on first use
    if name == "plots":
        from .reports import plots

        return plots
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FACTORS",
    "Allocation",
    "Audit",
    "Baseline",
    "CheckReport",
    "Comparison",
    "Explainer",
    "Explanation",
    "InfeasibleError",
    "InputError",
    "NoSolutionError",
    "PlacementError",
    "Policy",
    "Problem",
    "Scenario",
    "SolverError",
    "SolveOptions",
    "Variant",
    "chain",
    "check_allocation",
    "check_output_dir",
    "compare",
    "diagnose",
    "explain",
    "greedy_allocation",
    "least_satisfied",
    "load_policy",
    "load_scenario",
    "pareto",
    "random_allocation",
    "scenario_from_tables",
    "solve",
    "solve_variant",
    "sweep",
]
