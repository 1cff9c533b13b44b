"""The analysts' notebooks: rebuilt byte for byte by tools/build_notebooks.py, and run to the end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01-quickstart.ipynb", "02-trade-offs.ipynb", "03-relay-over-years.ipynb"]


def test_the_committed_notebooks_are_what_the_builder_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.main(["--out", str(tmp_path)])
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == NAMES
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (NOTEBOOKS / name).read_bytes(), name
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert all(not cell.get("outputs") for cell in committed.cells if cell.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_runs_and_draws_its_figures(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    figures = [cell for cell in code if "plots." in cell.source]
    assert figures
    for cell in figures:
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    # public API only: no private names, no internal modules
    for cell in code:
        assert "._" not in cell.source and "placement_engine." not in cell.source.replace("import placement_engine as pe", "")
