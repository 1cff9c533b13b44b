"""The only package that reads or writes files.

``read`` loads scenarios and policies, ``tables`` reads and validates their tables,
``write`` writes output files and output folders that hold the files of one run.
"""

from .read import BASELINE, VARIANT_NAME, load_policy, load_scenario, scenario_from_tables, solver_overrides
from .write import (
    RUN_FILE,
    OutputFolder,
    check_replaceable,
    read_csv,
    read_json,
    sha256,
    verified_solve_folder,
    verify_run,
    write_csv,
    write_folder,
    write_json,
    write_yaml,
)

__all__ = [
    "BASELINE",
    "RUN_FILE",
    "VARIANT_NAME",
    "OutputFolder",
    "check_replaceable",
    "load_policy",
    "load_scenario",
    "read_csv",
    "read_json",
    "scenario_from_tables",
    "sha256",
    "solver_overrides",
    "verified_solve_folder",
    "verify_run",
    "write_csv",
    "write_folder",
    "write_json",
    "write_yaml",
]
