"""The only package that reads or writes files.

``read`` loads scenarios and policies, ``formats`` reads a table's file (CSV in
UTF-8 or GBK/GB18030, .xlsx, .xls), ``tables`` validates the tables, ``write``
writes output files and output folders that hold the files of one run, and
``excel`` writes the results as workbooks for people.
"""

from .excel import Sheet, write_explanations_xlsx, write_workbook
from .read import BASELINE, VARIANT_NAME, encoding_note, load_policy, load_scenario, scenario_from_tables, solver_overrides
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
    "Sheet",
    "check_replaceable",
    "encoding_note",
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
    "write_explanations_xlsx",
    "write_folder",
    "write_json",
    "write_workbook",
    "write_yaml",
]
