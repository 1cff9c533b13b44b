"""Progress of long runs: a bar with an ETA (tqdm; a widget in notebooks), and the runner's lines above it.

The runner reports each finished solve with one line (``Report``, a ``str`` callable)
and, before the first, how many there will be (``start(total)`` when the report has
it). ``ProgressBar`` is such a report:

    import placement_engine as pe
    pe.compare(scenario, progress=pe.ProgressBar())          # a bar per stage: variants, sweep, front

Without a terminal (a log file, CI) it prints the lines alone, as a plain ``print`` would.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

Item = TypeVar("Item")


class ProgressBar:
    """A ``Report`` for the runner that draws a bar when told the total.

    ``bar``: draw bars (default: when ``file`` is a terminal or a notebook runs this);
    ``lines``: print the runner's line for each finished solve too.
    """

    def __init__(self, *, bar: bool | None = None, lines: bool = True, file: TextIO | None = None):
        self.file = file if file is not None else sys.stderr
        self.bar = _interactive(self.file) if bar is None else bar
        self.lines = lines
        self._current = None

    def start(self, total: int, label: str = "") -> None:
        """A new stage of ``total`` steps (the runner calls this before its first line)."""
        self.close()
        if self.bar and total > 0:
            from tqdm.auto import tqdm

            self._current = tqdm(total=total, desc=label or None, file=self.file, leave=False, dynamic_ncols=True)

    def __call__(self, line: str) -> None:
        """One step done, described by ``line``."""
        if self.lines:
            self.note(line)
        if self._current is not None:
            self._current.update(1)
        if self._current is not None and self._current.n >= self._current.total:
            self.close()

    def note(self, line: str) -> None:
        """A line that is not a step (a solver's improving allocation), printed above the bar."""
        if self._current is not None:
            self._current.write(line, file=self.file)
        else:
            print(line, file=self.file, flush=True)

    def iterate(self, items: Iterable[Item], total: int, label: str = "") -> Iterator[Item]:
        """``items``, one step each, with the bar drawn while they are consumed."""
        self.start(total, label)
        try:
            for item in items:
                yield item
                if self._current is not None:
                    self._current.update(1)
        finally:
            self.close()

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


def _interactive(file: TextIO) -> bool:
    if "ipykernel" in sys.modules:  # a notebook: tqdm.auto draws a widget there
        return True
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())
