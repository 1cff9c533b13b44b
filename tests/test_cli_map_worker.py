"""map.png drawn by the worker process beside the solve: the same bytes as drawn in one process, whatever
becomes of the worker, and no worker left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import placement_engine as pe
from placement_engine.cli import main, map_worker
from placement_engine.reports import maps

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "shandong-2011.yaml"
TINY = ROOT / "tests" / "fixtures" / "tiny" / "scenario.yaml"


@pytest.fixture()
def workers(monkeypatch) -> list[subprocess.Popen | None]:
    """The workers started during a test (None where none could be)."""
    started: list = []
    start = map_worker._start

    def recorded():
        started.append(start())
        return started[-1]

    monkeypatch.setattr(map_worker, "_start", recorded)
    return started


def drawn_here(scenario: Path, out: Path, lang: str, province: str | None = None) -> bytes:
    """The map of the allocation that ``solve`` wrote into ``out``, drawn again in this process."""
    allocation = pe.solve(pe.load_scenario(scenario))
    assert (allocation.table["post_id"].to_numpy() == pe.io.read_csv(out / "allocation.csv")["post_id"].to_numpy()).all()
    return maps.Basemap(maps.Sites.of(allocation.scenario), province=province, lang=lang).png(maps.Placements.of(allocation))


@pytest.mark.parametrize(("lang", "province"), [("zh", None), ("en", "Qinghai")])
def test_the_workers_map_is_the_one_drawn_in_one_process(workers, tmp_path: Path, lang: str, province: str | None) -> None:
    out = tmp_path / "out"
    argv = ["solve", str(DEFAULT), "--out", str(out), "--quiet", "--lang", lang] + (["--map-province", province] if province else [])
    assert main(argv) == 0
    assert len(workers) == 1 and workers[0] is not None and workers[0].returncode == 0  # it drew the map and has ended
    assert (out / "map.png").read_bytes() == drawn_here(DEFAULT, out, lang, province)


def test_without_a_worker_the_map_is_drawn_here_the_same(monkeypatch, tmp_path: Path) -> None:
    assert main(["solve", str(DEFAULT), "--out", str(tmp_path / "beside"), "--quiet"]) == 0
    monkeypatch.setattr(map_worker, "_start", lambda: None)
    assert main(["solve", str(DEFAULT), "--out", str(tmp_path / "here"), "--quiet"]) == 0
    assert (tmp_path / "here" / "map.png").read_bytes() == (tmp_path / "beside" / "map.png").read_bytes()


@pytest.mark.parametrize(
    "launch",
    [
        "import sys; sys.exit(3)",  # gone before it read anything
        "import sys; sys.stdin.buffer.read(1); sys.stdout.buffer.write(b'garbled')",  # a broken reply
        "import pickle, sys; pickle.dump(('error', 'no fonts'), sys.stdout.buffer)",  # a drawing that failed
    ],
)
def test_a_worker_that_fails_leaves_the_map_to_this_process(monkeypatch, workers, tmp_path: Path, launch: str) -> None:
    monkeypatch.setattr(map_worker, "LAUNCH", launch)
    assert main(["solve", str(TINY), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert workers[0].poll() is not None
    assert (tmp_path / "out" / "map.png").read_bytes() == drawn_here(TINY, tmp_path / "out", "en")
    assert main(["check", str(tmp_path / "out")]) == 0


def test_a_solve_that_fails_stops_its_worker(workers, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "x"), "--quiet", "--map-province", "Atlantis"]) == 2
    assert main(["solve", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert len(workers) == 2 and all(worker.poll() is not None for worker in workers)


def test_no_map_starts_no_worker(workers, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "out"), "--quiet", "--no-map"]) == 0
    assert workers == [] and not (tmp_path / "out" / "map.png").exists()
