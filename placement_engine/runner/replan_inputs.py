"""What a re-plan starts from: a published solve folder, and the changes made to it since.

The published folder's ``inputs/`` hold the resolved tables and policy (as ``check``
reads them) and its ``allocation.csv`` who holds which post. The changes are
cadres who withdraw, posts that close and cadres who arrive late; the new tables
drop every row that names a withdrawn cadre or a closed post (wishes, agreements,
history, pair scores, pins), so the new scenario validates as a solve's would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io
from ..errors import InputError, Problem
from ..i18n import _
from ..io.read import _as_text, _read_table
from ..io.tables import _Collector, _validate_table
from ..schema import TABLES, Policy

COMMAND_LINE = "command line"
# per table, the columns that name a cadre and those that name a post
CADRE_COLUMNS = {"preferences": ("cadre_id",), "pair_scores": ("cadre_id",), "pins": ("cadre_id",)}
POST_COLUMNS = {
    "preferences": ("target",),
    "partnerships": ("target",),
    "history": ("post_id",),
    "pair_scores": ("post_id",),
    "pins": ("post_id",),
}


@dataclass
class Published:
    """A published allocation: its input tables (as text), its policy, and each cadre's post ('' when unplaced)."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    policy: Policy
    post_of: dict[str, str]
    run_id: str


@dataclass
class Changes:
    """What changed since the allocation was published, checked against it."""

    withdraw: list[str]
    close_posts: list[str]
    added_cadres: pd.DataFrame  # rows of the cadres table, as text
    added_preferences: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)  # "add_cadres" / "add_preferences" -> the file's name
    hashes: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict:
        """The changes as summary.json lists them."""
        return {
            "withdrawn": self.withdraw,
            "closed_posts": self.close_posts,
            "added_cadres": self.added_cadres["cadre_id"].tolist(),
            "added_preferences": len(self.added_preferences),
            "files": self.files,
            "sha256": self.hashes,
        }


def read_published(out_dir: str | Path) -> Published:
    """The published allocation of a solve folder whose files all belong to one run (InputError otherwise)."""
    folder = io.verified_solve_folder(out_dir)
    inputs = folder / "inputs"
    tables = {name: io.read_csv(inputs / f"{name}.csv") for name in TABLES if (inputs / f"{name}.csv").is_file()}
    policy = io.load_policy(inputs / "policy.yaml")
    allocation = io.read_csv(folder / "allocation.csv")
    post_of = dict(zip(allocation["cadre_id"], allocation["post_id"]))
    return Published(folder, tables, policy, post_of, io.read_json(folder / io.RUN_FILE)["run_id"])  # verified above


def read_changes(
    published: Published,
    withdraw: Iterable[str] = (),
    close_posts: Iterable[str] = (),
    add_cadres: str | Path | pd.DataFrame | None = None,
    add_preferences: str | Path | pd.DataFrame | None = None,
) -> Changes:
    """The changes, every problem with them collected into one InputError (unknown ids, clashing new ids, bad rows)."""
    problems: list[Problem] = []
    cadre_ids = published.tables["cadres"]["cadre_id"].astype(str)
    post_ids = published.tables["posts"]["post_id"].astype(str)
    withdraw = _known(withdraw, cadre_ids, "--withdraw", _("a cadre_id of the published allocation"), problems)
    close_posts = _known(close_posts, post_ids, "--close-posts", _("a post_id of the published allocation"), problems)
    files: dict[str, str] = {}
    hashes: dict[str, str] = {}
    added = _added_table(add_cadres, "cadres", "--add-cadres", files, hashes, problems)
    wishes = _added_table(add_preferences, "preferences", "--add-preferences", files, hashes, problems)
    shown = files.get("cadres", "--add-cadres")
    clash = np.flatnonzero(added["cadre_id"].astype(str).isin(cadre_ids).to_numpy()) if "cadre_id" in added else []
    for row in clash:
        problems.append(
            Problem(
                shown,
                _("row {row}, column cadre_id").format(row=row + 2),
                _("a cadre_id not in the published allocation"),
                repr(added["cadre_id"].iat[row]),
            )
        )
    if len(wishes) and "cadre_id" in wishes:
        new_ids = added["cadre_id"].astype(str) if "cadre_id" in added else pd.Series([], dtype=str)
        stray = np.flatnonzero(~wishes["cadre_id"].astype(str).isin(new_ids).to_numpy())
        for row in stray:
            problems.append(
                Problem(
                    files.get("preferences", "--add-preferences"),
                    _("row {row}, column cadre_id").format(row=row + 2),
                    _("a cadre_id of the added cadres"),
                    repr(wishes["cadre_id"].iat[row]),
                )
            )
    if problems:
        raise InputError(problems)
    return Changes(withdraw, close_posts, added, wishes, files, hashes)


def _known(ids: Iterable[str], known: pd.Series, option: str, expected: str, problems: list[Problem]) -> list[str]:
    """The ids, once each, in the order given; a problem for each one not in ``known``."""
    ids = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    problems += [Problem(COMMAND_LINE, option, expected, repr(i)) for i in ids if i not in set(known)]
    return ids


def _added_table(source, name: str, option: str, files: dict, hashes: dict, problems: list[Problem]) -> pd.DataFrame:
    """Rows for table ``name`` from a CSV/XLSX file (a sheet named after the table) or a data frame, validated alone."""
    empty = pd.DataFrame(columns=[column.name for column in TABLES[name].columns])
    if source is None:
        return empty
    if isinstance(source, pd.DataFrame):
        frame, shown = _as_text(source), option
    else:
        path = Path(source)
        shown = path.name
        count = len(problems)
        frame = _read_table(path, name, shown, True, problems)
        if frame is None or len(problems) > count:
            return empty
        files[name] = shown
        hashes[name] = io.sha256(path)
    if _validate_table(TABLES[name], frame, shown, _Collector(problems)) is None:
        return empty
    return frame


def changed_tables(published: Published, changes: Changes) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The new scenario's tables, and the pins rows dropped with a withdrawn cadre or a closed post."""
    gone_cadres = set(changes.withdraw)
    gone_posts = set(changes.close_posts)
    tables = {}
    dropped_pins = pd.DataFrame(columns=["cadre_id", "post_id", "kind"])
    for name, frame in published.tables.items():
        keep = np.ones(len(frame), bool)
        for column in CADRE_COLUMNS.get(name, ()):
            keep &= ~frame[column].isin(gone_cadres).to_numpy()
        for column in POST_COLUMNS.get(name, ()):
            keep &= ~frame[column].isin(gone_posts).to_numpy()
        if name == "cadres":
            keep = ~frame["cadre_id"].isin(gone_cadres).to_numpy()
        elif name == "posts":
            keep = ~frame["post_id"].isin(gone_posts).to_numpy()
        elif name == "pins":
            dropped_pins = frame.loc[~keep].reset_index(drop=True)
        tables[name] = frame.loc[keep].reset_index(drop=True)
    tables["cadres"] = pd.concat([tables["cadres"], changes.added_cadres], ignore_index=True).fillna("")
    tables["preferences"] = pd.concat([tables["preferences"], changes.added_preferences], ignore_index=True).fillna("")
    return tables, dropped_pins
