"""map.png drawn beside the solve, by a second Python process.

Loading matplotlib and drawing the outlines take as long as reading and solving the default
scenario, and need nothing of the allocation: ``solve`` starts this worker first, sends it
where the scenario's posts and campuses are once they are read (``Sites``, which decide the
layout) and the postings once they are solved (``Placements``); the worker has the outlines
drawn by then, adds the rest and sends the PNG back while the other files are written.

On Linux the worker is this process forked before it loads anything heavy; elsewhere, or when
the caller already runs threads (a notebook, a test run), it is a second interpreter started
with ``python -c``. The worker draws with the same code as ``reports.maps.write_allocation_map``,
so map.png is the same whichever process draws it; where no worker can run, or it fails, the
map is drawn here instead. Messages are pickled tuples, on two pipes.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..i18n import current_language

# the worker's imports are the solve's: the same sys.path, so the same copy of the package
LAUNCH = "import json, os, sys; sys.path[:] = json.loads(sys.argv[1]); from placement_engine.cli.map_worker import serve_stdio; serve_stdio(); os._exit(0)"


class MapDrawing:
    """map.png of one solve: ``outline(scenario)`` once it is read, ``draw(allocation)`` once solved, then ``write(path)``."""

    def __init__(self, province: str | None):
        self.province = province
        self.sites = self.placements = self.lang = None
        self._worker = _start()

    def outline(self, scenario) -> None:
        from ..reports.map_data import Sites

        self.sites, self.lang = Sites.of(scenario), current_language()  # after the scenario's own language key is read
        self._send("outline", self.sites, self.province, self.lang)

    def draw(self, allocation) -> None:
        from ..reports.map_data import Placements

        self.placements = Placements.of(allocation)
        self._send("draw", self.placements)

    def write(self, path: Path) -> None:
        """Write map.png: the worker's, else drawn here (the same bytes)."""
        png = self._receive()
        if png is None:
            from ..reports.maps import Basemap

            png = Basemap(self.sites, province=self.province, lang=self.lang).png(self.placements)
        path.write_bytes(png)

    def close(self, kill: bool = True) -> None:
        """Stop the worker (it ends by itself once it has sent the map)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if kill:
            worker.kill()
        for pipe in (worker.stdin, worker.stdout):
            try:
                pipe.close()
            except OSError:
                pass  # the pipe of a worker that has gone
        worker.wait()

    def _send(self, *message) -> None:
        if self._worker is None:
            return
        try:
            pickle.dump(message, self._worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._worker.stdin.flush()
        except OSError:  # the worker has gone: the map is drawn here
            self.close()

    def _receive(self) -> bytes | None:
        if self._worker is None:
            return None
        try:
            kind, payload = pickle.load(self._worker.stdout)
        except Exception:  # noqa: BLE001 - gone, or a garbled reply: the map is drawn here, the same
            kind, payload = "gone", None
        self.close(kill=kind != "png")
        return payload if kind == "png" else None


def _start() -> Forked | subprocess.Popen | None:
    """The worker: this process forked while it runs one thread (no interpreter to start, no module to load
    again); else a second interpreter; None where neither can run (the map is then drawn here). A fork copies
    one thread only: with others running (NumPy's, once loaded) it could wait forever on a lock one of them
    held. macOS and Windows have no safe fork."""
    if sys.platform == "linux" and _single_threaded():
        return _fork()
    if not sys.executable or getattr(sys, "frozen", False):  # a bundled application runs no `python -c`
        return None
    try:
        return subprocess.Popen([sys.executable, "-c", LAUNCH, json.dumps([str(entry) for entry in sys.path])], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError:
        return None


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc to tell
        return False


@dataclass
class Forked:
    """The forked worker, with what ``MapDrawing`` uses of a ``Popen``: its pipes, ``kill`` and ``wait``."""

    pid: int
    stdin: BinaryIO
    stdout: BinaryIO
    returncode: int | None = None

    def kill(self) -> None:
        if self.returncode is None:  # not yet waited for, so the pid is still the worker's
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it has ended by itself

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


def _fork() -> Forked | None:
    messages, to_worker = os.pipe()
    from_worker, replies = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # else the copy would hold what this process has yet to print
        if stream is not None:
            stream.flush()
    try:
        pid = os.fork()
    except OSError:
        for end in (messages, to_worker, from_worker, replies):
            os.close(end)
        return None
    if pid == 0:  # the worker: it never returns into the solve's code, nor runs its exit handlers
        os.close(to_worker)
        os.close(from_worker)
        try:
            serve(os.fdopen(messages, "rb"), os.fdopen(replies, "wb"))
        finally:
            os._exit(0)
    os.close(messages)
    os.close(replies)
    return Forked(pid, os.fdopen(to_worker, "wb"), os.fdopen(from_worker, "rb"))


def serve_stdio() -> None:
    """The started interpreter's side: messages on stdin, replies on stdout."""
    serve(sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb"))


def serve(messages: BinaryIO, replies: BinaryIO) -> None:
    """The worker's side: draw the outlines of the scenario sent, then the postings, and send the PNG back."""
    import gc
    import queue
    import threading

    gc.disable()  # a short life that makes little garbage: full collections of matplotlib's objects would cost more
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the solve, which still writes its map
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to stderr: never into the replies nor the solve's output
    received: queue.Queue = queue.Queue()

    def read() -> None:  # at once, so that a large message never blocks the solve that sends it
        try:
            while True:
                received.put(pickle.load(messages))
        except Exception:  # noqa: BLE001 - the end of the messages, or a garbled one: either way no map is drawn here
            received.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        from ..reports import maps  # matplotlib loads while the solve loads pandas and OR-Tools

        maps.warm_up()
        basemap = None
        while (message := received.get()) is not None:
            kind, *payload = message
            if kind == "outline":
                sites, province, lang = payload
                basemap = maps.Basemap(sites, province=province, lang=lang)
                basemap.render()
            else:
                reply = ("png", basemap.png(*payload))
                break
        else:
            return  # the solve ended without a map
    except Exception as error:  # noqa: BLE001 - the solve then draws the map itself, and reports what fails there
        reply = ("error", repr(error))
    try:
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()
    except OSError:
        pass  # the solve has stopped
