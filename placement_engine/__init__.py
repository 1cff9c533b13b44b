"""Allocate university Youth League cadres to county-level posts.

    import placement_engine as pe
    scenario = pe.load_scenario("scenarios/shandong-2011.yaml")
    allocation = pe.solve(scenario)
    allocation.table            # one row per cadre (pandas)
    allocation.check()          # solver-free re-verification

The public names load on first use, so that ``python -m placement_engine --help``
and ``import placement_engine`` do not pay for pandas, OR-Tools and matplotlib.
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "Allocation": "allocation",
    "solve": "allocation",
    "Baseline": "baselines",
    "greedy_allocation": "baselines",
    "random_allocation": "baselines",
    "InfeasibleError": "errors",
    "InputError": "errors",
    "NoSolutionError": "errors",
    "PlacementError": "errors",
    "Problem": "errors",
    "SolverError": "errors",
    "FACTORS": "factors",
    "load_policy": "io",
    "load_scenario": "io",
    "scenario_from_tables": "io",
    "Audit": "reports.audit",
    "HandAudit": "reports.hand_audit",
    "audit_allocation": "reports.hand_audit",
    "StabilityPrice": "reports.stability",
    "stability_price": "reports.stability",
    "CheckReport": "reports.check",
    "check_allocation": "reports.check",
    "check_output_dir": "reports.check",
    "Explainer": "reports.explain",
    "Explanation": "reports.explain",
    "explain": "reports.explain",
    "least_satisfied": "reports.explain",
    "Comparison": "runner",
    "SolveOptions": "runner",
    "chain": "runner",
    "compare": "runner",
    "pareto": "runner",
    "solve_variant": "runner",
    "sweep": "runner",
    "Replan": "runner.replan",
    "replan": "runner.replan",
    "Scenario": "scenario",
    "Variant": "scenario",
    "Policy": "schema",
    "diagnose": "solve",
    "ProgressBar": "progress",
    "language": "i18n",
    "notice": "reports.notice",
    "interactive_map": "reports.interactive",
}
_MODULES = {"plots": "reports.plots"}  # modules offered under a shorter name

__all__ = sorted(_PUBLIC)


class _Package(types.ModuleType):
    """The package module, which keeps ``placement_engine.solve`` the function.

    ``solve`` names both the public function and the subpackage ``solve/``. Importing
    the subpackage makes Python bind it on its parent as ``solve``; with the names
    loaded lazily that would replace the function, so that one binding is refused
    (the subpackage stays reachable through ``sys.modules`` and ``from .solve import``).
    """

    def __setattr__(self, name: str, value) -> None:
        if name == "solve" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    elif name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # loaded once; the dict write bypasses _Package.__setattr__ on purpose
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC, *_MODULES})
