"""Writing output files, and output folders that hold the files of one run only."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel

from ..errors import InputError, Problem
from ..i18n import N_, _


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with fixed formatting, so identical tables give identical bytes.

    UTF-8 with a byte-order mark: Excel on Chinese Windows reads Chinese text right
    only with it, and every reader of the engine's (``read_csv``) skips it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8-sig")


def write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")


def write_yaml(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV written by the engine (ids and codes stay text; a byte-order mark is skipped)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


# ---- output folders -------------------------------------------------------------------------

RUN_FILE = "run.json"
# data files the engine writes into an output folder (besides inputs/): one that run.json
# does not list was left by another run or added since
ENGINE_FILES = frozenset(
    {
        "allocation.csv",
        "summary.json",
        "audit.json",
        "audit.csv",
        "diagnosis.json",
        "explanations.csv",
        "comparison.csv",
        "changes.csv",
        "sweep.csv",
        "pareto.csv",
        "chain.csv",
        "results.xlsx",
        "comparison.xlsx",
        "explanations.xlsx",
    }
)
INPUTS = "inputs"
FIGURES = frozenset({"map.png", "metrics.png", "wishes.png", "sweep.png", "pareto.png", "chain.png"})
SOLVE_FILES = ("allocation.csv", "summary.json", f"{INPUTS}/policy.yaml")
ONE_RUN = N_("every file of the folder written by one run")
FOREIGN_SHOWN = 5  # foreign files named in the refusal to replace a folder
FileContent = bytes | Callable[[Path], Any]  # a file's bytes, or a function writing the file at a path


class OutputFolder:
    """The files of one run, written into a fresh folder that then replaces ``target`` whole.

    ::

        with OutputFolder(out_dir) as folder:
            write_csv(table, folder.path("allocation.csv"))
            plots.save(figure, folder.path("map.png"))

    The files go into a hidden folder next to ``target`` (same parent, so that the
    swap is a rename). Leaving the block normally writes ``run.json`` last (the run's
    id and the SHA-256 of every other file, by relative path) and swaps the folder
    in: the old one is renamed away, the new one renamed in, the old one removed.
    An exception inside the block (or Ctrl-C) removes the new folder and leaves
    ``target`` as it was, so a folder never mixes the files of two runs.

    ``target`` must be missing, empty or an output folder of the engine (see
    ``check_replaceable``); nothing else is ever deleted. ``root`` is the new folder,
    for writers that take a folder (nested solve folders of a comparison, say).
    ``amend=True`` starts from the files already in ``target`` (all kept, so any folder
    will do) and keeps its run's id: files derived from that run alone (the ``audit``
    command's) are rewritten. Files that its run.json did not list stay unlisted.
    """

    def __init__(self, target: str | Path, *, amend: bool = False):
        self.target = Path(target)
        self._absolute = Path(os.path.abspath(target))  # ".." resolved, symlinks kept: a linked folder is replaced, not its target
        self.amend = amend
        self.run_id = ""
        self._root: Path | None = None
        self._unlisted: set[str] = set()  # files kept by amend that are none of the run's
        if not amend:
            check_replaceable(self.target)

    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("an OutputFolder is written inside its with block")
        return self._root

    def path(self, name: str | Path) -> Path:
        """Where to write the file ``name`` (a path relative to the folder; its folders are made)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add(self, files: Mapping[str, FileContent]) -> None:
        """Write ``files``: relative path -> bytes, or a function that writes the file at the path it is given."""
        for name, content in files.items():
            path = self.path(name)
            if callable(content):
                content(path)
            else:
                path.write_bytes(content)

    def __enter__(self) -> OutputFolder:
        target = self._absolute
        self.run_id = verify_run(target)["run_id"] if self.amend else uuid.uuid4().hex
        target.parent.mkdir(parents=True, exist_ok=True)
        self._root = target.with_name(f".{target.name}.{uuid.uuid4().hex}.new")
        self._root.mkdir()  # not mkdtemp: its private mode would stay on the swapped-in folder
        if self.amend:
            shutil.copytree(target, self._root, dirs_exist_ok=True, symlinks=True)
            (self._root / RUN_FILE).unlink()  # written anew on commit; nested runs keep theirs
            self._unlisted = set(_files_in(self._root)) - set(_listed_files(target))
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._commit()
        finally:
            if self._root.exists():
                shutil.rmtree(self._root)
            self._root = None

    def _commit(self) -> None:
        written = _files_in(self._root)
        files = {name: sha256(path) for name, path in written.items() if name not in self._unlisted | {RUN_FILE}}
        write_json({"run_id": self.run_id, "files": files}, self._root / RUN_FILE)
        if not self.amend:
            check_replaceable(self.target)  # again: the folder may have changed while the run was written
        target = self._absolute
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
        if target.exists() or target.is_symlink():
            os.replace(target, old)
        try:
            os.replace(self._root, target)
        except BaseException:
            if old.is_symlink() or old.exists():
                os.replace(old, target)
            raise
        if old.is_symlink():
            old.unlink()  # a linked folder: the link is replaced, what it points to is left alone
        elif old.exists():
            shutil.rmtree(old)


def write_folder(target: str | Path, files: Mapping[str, FileContent]) -> Path:
    """Write one run's ``files`` as the whole content of ``target``, with ``run.json`` (see ``OutputFolder``)."""
    with OutputFolder(target) as folder:
        folder.add(files)
    return Path(target)


def check_replaceable(target: str | Path) -> None:
    """InputError unless ``target`` is missing, empty or holds only what the engine writes.

    The engine's files are its data files, figures, ``run.json``, ``inputs/``, files
    that the folder's ``run.json`` lists, and folders holding only such files (the
    solve folders of a comparison or a chain).
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError([Problem(str(target), "", _("a folder for the output"), _("a file"))])
    foreign = _foreign_files(target) if target.is_dir() else []
    if foreign:
        shown = ", ".join(foreign[:FOREIGN_SHOWN])
        if len(foreign) > FOREIGN_SHOWN:
            shown = _("{files} and {count} more").format(files=shown, count=len(foreign) - FOREIGN_SHOWN)
        expected = _("a new or empty folder, or an output folder of the engine (it is replaced as a whole)")
        raise InputError([Problem(str(target), "", expected, _("a folder holding other files: {files}").format(files=shown))])


def _foreign_files(folder: Path, listed: frozenset[str] = frozenset()) -> list[str]:
    """Paths of the files in ``folder`` that the engine did not write; ``listed``: what run.json files above list."""
    listed = listed | set(_listed_files(folder))
    foreign = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            if entry.name != INPUTS:
                inner = frozenset(name.partition("/")[2] for name in listed if name.startswith(f"{entry.name}/"))
                foreign += [f"{entry.name}/{name}" for name in _foreign_files(entry, inner)]
        elif entry.name not in ENGINE_FILES | FIGURES | {RUN_FILE} and entry.name not in listed:
            foreign.append(entry.name)
    return foreign


def _files_in(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its relative path, in order."""
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


def _listed_files(folder: Path) -> list[str]:
    record = _run_record(folder)
    return list(record["files"]) if record is not None else []


def _run_record(folder: Path) -> dict[str, Any] | None:
    """The content of the folder's run.json, or None when there is no readable one."""
    try:
        record = read_json(folder / RUN_FILE)
    except (OSError, ValueError):
        return None
    readable = isinstance(record, dict) and isinstance(record.get("run_id"), str) and isinstance(record.get("files"), dict)
    return record if readable else None


def verify_run(out_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of an output folder, once every file it lists is found unchanged and no
    data file of the engine is in the folder that it does not list; InputError otherwise."""
    out = Path(out_dir)
    if not (out / RUN_FILE).is_file():
        raise InputError([Problem(RUN_FILE, "", _("the record of the run that wrote the folder"), _("no such file"))])
    record = _run_record(out)
    if record is None:
        raise InputError([Problem(RUN_FILE, "", _("a JSON record with run_id and files"), _("a file that cannot be read as one"))])
    files = record["files"]
    problems = []
    for name, digest in files.items():
        path = out / name
        if not path.is_file():
            problems.append(Problem(RUN_FILE, "", _(ONE_RUN), _("{name} missing").format(name=name)))
        elif sha256(path) != digest:
            problems.append(Problem(RUN_FILE, "", _(ONE_RUN), _("{name} changed since the run").format(name=name)))
    written = [path.name for path in out.iterdir() if path.name in ENGINE_FILES and path.is_file()]
    written += [path.relative_to(out).as_posix() for path in (out / INPUTS).rglob("*") if path.is_file()]
    for name in sorted(set(written) - set(files)):
        problems.append(Problem(RUN_FILE, "", _(ONE_RUN), _("{name}, which the run did not write (left from another run, or added since)").format(name=name)))
    if problems:
        raise InputError(problems)
    return record


def verified_solve_folder(out_dir: str | Path) -> Path:
    """A solve output folder whose files all belong to one run that found an allocation; InputError otherwise."""
    out = Path(out_dir)
    missing = [name for name in (*SOLVE_FILES, RUN_FILE) if not (out / name).is_file()]
    if SOLVE_FILES[0] in missing and (out / "diagnosis.json").is_file():
        got = _("no allocation in this folder: the run was infeasible (diagnosis.json says why)")
        raise InputError([Problem(SOLVE_FILES[0], "", _("an allocation written by solve"), got)])
    if missing:
        raise InputError([Problem(name, "", _("a file written by solve"), _("no such file")) for name in missing])
    verify_run(out)
    return out
