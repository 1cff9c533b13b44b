"""Allocate university Youth League cadres to county-level posts.

    import placement_engine as pe
    scenario = pe.load_scenario("scenarios/shandong-2011.yaml")
    allocation = pe.solve(scenario)
    allocation.table            # one row per cadre (pandas)
    allocation.check()          # solver-free re-verification
"""

from .allocation import Allocation, solve
from .check import CheckReport, check_allocation, check_output_dir
from .errors import InfeasibleError, InputError, NoSolutionError, PlacementError, Problem
from .factors import FACTORS
from .io import load_policy, load_scenario, scenario_from_tables
from .scenario import Scenario
from .schema import Policy

__version__ = "0.1.0"

__all__ = [
    "FACTORS",
    "Allocation",
    "CheckReport",
    "InfeasibleError",
    "InputError",
    "NoSolutionError",
    "PlacementError",
    "Policy",
    "Problem",
    "Scenario",
    "check_allocation",
    "check_output_dir",
    "load_policy",
    "load_scenario",
    "scenario_from_tables",
    "solve",
]
