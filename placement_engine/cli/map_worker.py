"""map.png drawn beside the solve, by a second Python process.

Loading matplotlib and drawing the outlines take as long as reading and solving the default
scenario, and need nothing of the allocation: ``solve`` starts this worker first, sends it
where the scenario's posts and campuses are once they are read (``Sites``, which decide the
layout) and the postings once they are solved (``Placements``); the worker has the outlines
drawn by then, adds the rest and sends the PNG back while the other files are written.

The worker draws with the same code as ``reports.maps.write_allocation_map``, so map.png is
the same whichever process draws it; where no worker can run, or it fails, the map is drawn
here instead. Messages are pickled tuples on the worker's stdin and stdout.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from ..i18n import current_language

# the worker's imports are the solve's: the same sys.path, so the same copy of the package
LAUNCH = "import json, os, sys; sys.path[:] = json.loads(sys.argv[1]); from placement_engine.cli.map_worker import serve; serve(); os._exit(0)"


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


def _start() -> subprocess.Popen | None:
    """The worker process, or None where no second interpreter can be started (then the map is drawn here)."""
    if not sys.executable or getattr(sys, "frozen", False):  # a bundled application runs no `python -c`
        return None
    try:
        return subprocess.Popen([sys.executable, "-c", LAUNCH, json.dumps([str(entry) for entry in sys.path])], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError:
        return None


def serve() -> None:
    """The worker's side: draw the outlines of the scenario sent, then the postings, and send the PNG back."""
    import gc
    import queue
    import signal
    import threading

    gc.disable()  # a short life that makes little garbage: full collections of matplotlib's objects would cost more
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the solve, which still writes its map
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not garble the replies
    messages: queue.Queue = queue.Queue()

    def read() -> None:  # at once, so that a large message never blocks the solve that sends it
        try:
            while True:
                messages.put(pickle.load(sys.stdin.buffer))
        except Exception:  # noqa: BLE001 - the end of the messages, or a garbled one: either way no map is drawn here
            messages.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        from ..reports import maps  # matplotlib loads while the solve loads pandas and OR-Tools

        maps.warm_up()
        basemap = None
        while (message := messages.get()) is not None:
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
