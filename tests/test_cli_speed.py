"""The command line answers --help and --version without loading pandas, NumPy, OR-Tools or matplotlib.

Not a timing test: each case runs in a fresh interpreter and inspects ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "ortools", "matplotlib", "scipy", "pydantic", "tqdm")

PROBE = """
import json, sys
from placement_engine.cli import main
try:
    code = main({argv!r})
except SystemExit as stop:
    code = stop.code
print(json.dumps({{"code": code, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def probe(*argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=list(argv), heavy=HEAVY)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("--version",),
        ("--lang", "zh", "--help"),
        *((command, "--help") for command in ("validate", "solve", "check", "compare", "chain", "explain", "audit")),
    ],
)
def test_help_and_version_load_no_heavy_module(argv) -> None:
    result = probe(*argv)
    assert result == {"code": 0, "heavy": []}


def test_importing_the_package_loads_no_heavy_module() -> None:
    code = f"import sys, placement_engine; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_solve_stays_the_function_when_the_solve_subpackage_loads() -> None:
    code = (
        "import placement_engine as pe, placement_engine.solve.pipeline, types\n"
        "from placement_engine.allocation import solve\n"
        "import placement_engine.solve.cpsat\n"
        "print(pe.solve is solve, isinstance(pe.solve, types.FunctionType), pe.diagnose.__module__, pe.io.__name__, pe.plots.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "placement_engine.solve.pipeline", "placement_engine.io", "placement_engine.reports.plots"]


def test_every_public_name_resolves_and_is_listed() -> None:
    import placement_engine as pe

    assert set(pe.__all__) <= set(dir(pe))
    for name in pe.__all__:
        assert getattr(pe, name) is not None, name
    with pytest.raises(AttributeError):
        pe.no_such_name  # noqa: B018


def test_version_prints_the_installed_version() -> None:
    done = subprocess.run([sys.executable, "-m", "placement_engine", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout) == (0, f"placement_engine {version('placement_engine')}\n")


def test_a_solve_that_finds_an_allocation_loads_neither_scipy_nor_matplotlib(tmp_path: Path) -> None:
    """Nor with its map: the worker process draws it."""
    tiny = str(ROOT / "tests" / "fixtures" / "tiny" / "scenario.yaml")
    for extra in (["--no-map"], []):
        code = PROBE.format(argv=["solve", tiny, "--out", str(tmp_path / "out"), "--quiet", *extra], heavy=("scipy", "matplotlib"))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "heavy": []}
        assert (tmp_path / "out" / "map.png").exists() == (not extra)


def test_the_map_data_sent_to_the_worker_needs_neither_pandas_nor_matplotlib() -> None:
    code = "import sys, placement_engine.reports.map_data; print([m for m in ('pandas', 'matplotlib') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_a_caller_of_main_keeps_its_garbage_collector_as_it_was(tmp_path: Path) -> None:
    """Only the program's own command line (``main()`` without arguments) freezes the collector, as it exits."""
    import gc

    from placement_engine.cli import main

    assert main(["solve", str(ROOT / "tests" / "fixtures" / "tiny" / "scenario.yaml"), "--out", str(tmp_path / "out"), "--quiet", "--no-map"]) == 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()
