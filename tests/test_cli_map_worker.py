"""map.png drawn by the worker process beside the solve: the same bytes as drawn in one process, whatever
becomes of the worker, and no worker left behind; forked where the command runs alone, started otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
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
    assert isinstance(workers[0], subprocess.Popen) and workers[0].poll() is not None
    assert (tmp_path / "out" / "map.png").read_bytes() == drawn_here(TINY, tmp_path / "out", "en")
    assert main(["check", str(tmp_path / "out")]) == 0


def test_a_solve_that_fails_stops_its_worker(workers, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "x"), "--quiet", "--map-province", "Atlantis"]) == 2
    assert main(["solve", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert len(workers) == 2 and all(worker.poll() is not None for worker in workers)


def test_no_map_starts_no_worker(workers, tmp_path: Path) -> None:
    assert main(["solve", str(TINY), "--out", str(tmp_path / "out"), "--quiet", "--no-map"]) == 0
    assert workers == [] and not (tmp_path / "out" / "map.png").exists()


# the command in a fresh interpreter, as a user runs it: single-threaded when the worker starts, so forked
COMMAND = """
import json, os, pickle, sys
from placement_engine.cli import main, map_worker
started = []
start = map_worker._start
map_worker._start = lambda: started.append(start()) or started[-1]
{serve}
code = main({argv!r})
print(json.dumps({{"code": code, "worker": type(started[0]).__name__, "ended": started[0].returncode is not None}}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker is forked on Linux only")
@pytest.mark.parametrize(
    "serve",
    [
        "",  # as shipped
        "map_worker.serve = lambda messages, replies: os._exit(3)",  # gone before it read anything
        "map_worker.serve = lambda messages, replies: (messages.read(1), replies.write(b'garbled'), replies.flush())",
        "map_worker.serve = lambda messages, replies: (pickle.dump(('error', 'no fonts'), replies), replies.flush())",
    ],
)
def test_the_forked_worker_draws_the_same_map_or_leaves_it_to_the_solve(tmp_path: Path, serve: str) -> None:
    out = tmp_path / "out"
    code = COMMAND.format(serve=serve, argv=["solve", str(TINY), "--out", str(out), "--quiet"])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "worker": "Forked", "ended": True}
    assert (out / "map.png").read_bytes() == drawn_here(TINY, out, "en")
    assert main(["check", str(out)]) == 0


def test_a_process_running_threads_starts_a_second_interpreter_instead_of_forking() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        drawing = map_worker.MapDrawing(None)
        assert isinstance(drawing._worker, subprocess.Popen)
        drawing.close()
    finally:
        stop.set()
        thread.join()
