"""Loading a scenario: its YAML files, its policy, its variants and its tables.

Loading collects every problem it finds (missing files, bad YAML, unknown keys,
missing columns, bad cells, duplicate ids, dangling references) and raises one
``InputError`` listing them all. Each problem names the file, the row or key,
what was expected and what was received.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from ..errors import InputError, Problem
from ..factors import FACTORS
from ..i18n import _, ngettext
from ..scenario import Scenario, Variant
from ..schema import TABLES, ChainFile, Policy, ScenarioFile, VariantFile
from .formats import ENCODING_NAMES, _as_text, _display, _read_table, _read_tables, _read_text
from .models import _pydantic_problems, _short, _validate_model
from .tables import _validate_tables
from .write import sha256

BASELINE = "baseline"  # the name the runner gives the scenario's own policy and tables
VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # variants name output folders
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SOLVER_OPTIONS = {"key solver.time_limit_s": "--time-limit", "key solver.workers": "--workers", "key solver.seed": "--seed"}


# ---- public entry points --------------------------------------------------------------------


def load_scenario(path: str | Path, policy: str | Path | Policy | None = None) -> Scenario:
    """Read and validate a scenario file, its policy and its tables.

    ``policy`` replaces the scenario's own policy (a path or a ``Policy``).
    """
    path = Path(path)
    problems: list[Problem] = []
    raw = _read_yaml(path, path.name, problems)
    if raw is None:
        raise InputError(problems)
    spec = _validate_model(ScenarioFile, raw, path.name, problems)
    if spec is None:
        raise InputError(problems)
    base = path.parent
    files: dict[str, Path] = {"scenario": path}

    if isinstance(policy, Policy):
        policy_obj = policy
    else:
        # a policy given by the caller is relative to the working folder, not the scenario's
        policy_source: str | dict = str(Path(policy).absolute()) if policy is not None else spec.policy
        policy_obj = _load_policy_source(policy_source, base, files, problems)
    if policy_obj is not None and spec.policy_overrides:
        policy_obj = _apply_overrides(policy_obj, spec.policy_overrides, path.name, problems)

    frames, table_files = _read_tables(spec.tables, base, problems, path.name)
    files.update(table_files)
    encodings = {name: frame.attrs["encoding"] for name, frame in frames.items() if frame is not None and "encoding" in frame.attrs}
    shown = {name: _display(p, base) for name, p in table_files.items()}
    tables = _validate_tables(frames, shown, problems)
    if policy_obj is not None and tables is not None:
        problems += _factor_problems(tables, policy_obj)
    variants = {
        name: _load_variant(name, entry, policy_obj, frames, shown, tables, base, path.name, problems)
        for name, entry in spec.variants.items()
    }
    if spec.chain is not None and tables is not None:
        _check_chain(spec.chain, tables, path.name, problems)
    if problems:
        raise InputError(problems)
    return Scenario(
        name=spec.name,
        description=spec.description,
        policy=policy_obj,
        tables=tables,
        files={key: str(p) for key, p in files.items()},
        hashes={key: sha256(p) for key, p in files.items()},
        seed=spec.seed,
        base_dir=str(base),
        variants=variants,
        chain=spec.chain,
        table_encodings=encodings,
    )


def scenario_from_tables(
    tables: dict[str, pd.DataFrame], policy: Policy | dict | str | Path | None = None, name: str = "scenario"
) -> Scenario:
    """Validate in-memory tables (e.g. from the generator) exactly as files are validated.

    ``policy`` is a ``Policy``, a mapping in the policy file's format, the path of a
    policy file, or None for the defaults.
    """
    problems: list[Problem] = []
    if isinstance(policy, (str, Path)):
        policy = _load_policy_source(str(Path(policy).absolute()), Path("."), {}, problems)
    elif isinstance(policy, dict) or policy is None:
        policy = _validate_model(Policy, policy or {}, "policy", problems)
    elif not isinstance(policy, Policy):
        expected = _("a Policy, a mapping in the policy format, or the path of a policy file")
        problems.append(Problem("policy", "", expected, _describe_value(policy)))
        policy = None
    if not isinstance(tables, Mapping):
        raise InputError([Problem("tables", "", _("a mapping from table name to data frame"), _describe_value(tables))])
    for key, frame in tables.items():
        if key not in TABLES:
            problems.append(Problem(str(key), "", _("a table name (one of {names})").format(names=", ".join(TABLES)), repr(key)))
        elif not isinstance(frame, pd.DataFrame):
            problems.append(Problem(key, "", _("a pandas DataFrame"), _describe_value(frame)))
    for key, spec in TABLES.items():
        if spec.required and key not in tables:
            problems.append(Problem(key, "", _("a data frame for this required table"), _("nothing")))
    known = {key: frame for key, frame in tables.items() if key in TABLES}
    frames = {key: _as_text(frame) for key, frame in known.items() if isinstance(frame, pd.DataFrame)}
    checked = _validate_tables(frames, {key: key for key in frames}, problems) if len(frames) == len(known) else None
    if policy is not None and checked is not None:
        problems += _factor_problems(checked, policy)
    if problems:
        raise InputError(problems)
    digest = {key: hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest() for key, frame in checked.items()}
    return Scenario(name=name, description="", policy=policy, tables=checked, files={}, hashes=digest)


def encoding_note(scenario: Scenario) -> str | None:
    """A line saying which tables were read in an encoding other than UTF-8, or None when all were UTF-8."""
    by_encoding: dict[str, list[str]] = {}
    for table, encoding in scenario.table_encodings.items():
        if encoding not in ("utf-8", "utf-8-sig"):
            by_encoding.setdefault(ENCODING_NAMES.get(encoding, encoding), []).append(Path(scenario.files.get(table, table)).name)
    if not by_encoding:
        return None
    parts = [_("{files} read as {encoding}").format(files=", ".join(files), encoding=encoding) for encoding, files in by_encoding.items()]
    return _("encodings: {parts} (not UTF-8; the text is the same)").format(parts="; ".join(parts))


def _describe_value(value: Any) -> str:
    return _("a value of type {kind}: {value}").format(kind=type(value).__name__, value=_short(repr(value)))


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file on its own."""
    problems: list[Problem] = []
    policy = _load_policy_source(str(path), Path("."), {}, problems)
    if problems:
        raise InputError(problems)
    return policy


def solver_overrides(policy: Policy, time_limit: float | None = None, workers: int | None = None, seed: int | None = None) -> Policy:
    """``policy`` with the options given (not None) merged into ``policy.solver``.

    They are validated as a policy file's ``solver`` section is: an InputError names
    the command line option (``--time-limit``, ``--workers``, ``--seed``) and says what
    the policy file would say of the same value.
    """
    given = {"time_limit_s": time_limit, "workers": workers, "seed": seed}
    # 2.0 from the command line reads as 2, as it would in a policy file
    changes = {
        key: int(value) if isinstance(value, float) and value.is_integer() else value for key, value in given.items() if value is not None
    }
    if not changes:
        return policy
    try:
        return policy.override({"solver": changes})
    except ValidationError as error:
        problems = _pydantic_problems(Policy, error, "command line", {"solver": changes})
        raise InputError([Problem(p.file, SOLVER_OPTIONS.get(p.location, p.location), p.expected, p.got) for p in problems]) from error


# ---- YAML and pydantic ----------------------------------------------------------------------


def _read_yaml(path: Path, shown: str, problems: list[Problem]) -> Any:
    text = _read_text(path, shown, problems)
    if text is None:
        return None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(shown, where, _("valid YAML"), str(getattr(error, "problem", error))))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(shown, "", _("a mapping of keys to values"), _describe_document(data)))
        return None
    return data


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, parsed by libyaml when PyYAML has it (about eight times as fast); a document that
    parser refuses is parsed again by PyYAML's own, so that the problem quotes the same message."""
    try:
        return yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)


def _describe_document(data: Any) -> str:
    if data is None:
        return _("an empty document")
    if isinstance(data, list):
        return ngettext("a list of {count} item", "a list of {count} items", len(data)).format(count=len(data))
    return _("a single value {value}").format(value=_short(repr(data)))


def _load_policy_source(source: str | dict, base: Path, files: dict, problems: list[Problem]) -> Policy | None:
    if isinstance(source, dict):
        return _validate_model(Policy, source, "scenario policy", problems)
    path = base / source
    files["policy"] = path
    raw = _read_yaml(path, _display(path, base), problems)
    if raw is None:
        return None
    return _validate_model(Policy, raw, _display(path, base), problems)


def _apply_overrides(
    policy: Policy, overrides: dict, shown: str, problems: list[Problem], section: str = "policy_overrides"
) -> Policy | None:
    try:
        return policy.override(overrides)
    except ValidationError as error:
        problems.extend(_pydantic_problems(Policy, error, f"{shown} {section}", overrides))
        return None


# ---- variants and chains --------------------------------------------------------------------


def _load_variant(
    name: str,
    entry: VariantFile,
    policy: Policy | None,
    frames: dict[str, pd.DataFrame | None],
    shown: dict[str, str],
    tables: dict[str, pd.DataFrame] | None,
    base: Path,
    scenario: str,
    problems: list[Problem],
) -> Variant:
    """Validate one variant against the scenario it changes; its problems name the variant."""
    where = f"key variants.{name}"
    if not VARIANT_NAME.match(name) or name == BASELINE:
        expected = _("a name of letters, digits, '.', '_' or '-' other than {name!r}").format(name=BASELINE)
        problems.append(Problem(scenario, where, expected, repr(name)))
    variant_policy = policy
    if policy is not None and entry.policy:
        variant_policy = _apply_overrides(policy, entry.policy, scenario, problems, f"variants.{name}.policy")
    replaced: dict[str, pd.DataFrame | None] = {}
    paths: dict[str, Path] = {}
    for table, file in entry.tables.items():
        if table not in TABLES:
            problems.append(Problem(scenario, f"{where}.tables.{table}", _("a table name (one of {names})").format(names=", ".join(TABLES)), repr(table)))
            continue
        paths[table] = base / file
        replaced[table] = _read_table(paths[table], table, _display(paths[table], base), True, problems)
    variant_tables = tables
    own: list[Problem] = []
    if tables is not None and (replaced or entry.pins) and all(frame is not None for frame in replaced.values()):
        shown_here = {**shown, **{table: _display(path, base) for table, path in paths.items()}}
        variant_tables = _validate_tables({**frames, **replaced}, shown_here, own)
        if variant_tables is not None and entry.pins:
            variant_tables["pins"] = _with_extra_pins(variant_tables, entry, shown_here, scenario, where, problems)
    if variant_policy is not None and variant_tables is not None:
        own += _factor_problems(variant_tables, variant_policy)
    # a problem of the tables the variant shares with the scenario is reported once, for the scenario
    known = set(problems)
    problems += [Problem(_("{file} (variant {name})").format(file=p.file, name=name), p.location, p.expected, p.got) for p in own if p not in known]
    changed = [*paths, *(["pins"] if entry.pins else [])]
    return Variant(
        name=name,
        description=entry.description,
        policy=variant_policy,
        overrides=entry.policy,
        tables={table: variant_tables[table] for table in changed} if variant_tables is not None else {},
        files={table: str(path) for table, path in paths.items()},
        hashes={table: sha256(path) for table, path in paths.items() if path.is_file()},
    )


def _with_extra_pins(
    tables: dict[str, pd.DataFrame], entry: VariantFile, shown: dict[str, str], scenario: str, where: str, problems: list[Problem]
) -> pd.DataFrame:
    """The pins table with the variant's rows added; a row for a pair already pinned replaces it."""
    extra = pd.DataFrame([pin.model_dump() for pin in entry.pins], columns=["cadre_id", "post_id", "kind"])
    known = {"cadre_id": tables["cadres"]["cadre_id"], "post_id": tables["posts"]["post_id"]}
    source = {"cadre_id": shown.get("cadres", "cadres"), "post_id": shown.get("posts", "posts")}
    for column, ids in known.items():
        for index in np.flatnonzero(~extra[column].isin(ids).to_numpy()):
            problems.append(
                Problem(scenario, f"{where}.pins.{index}.{column}", _("a {column} from {file}").format(column=column, file=source[column]), repr(extra[column][index]))
            )
    first = extra.reset_index().groupby(["cadre_id", "post_id"])["index"].transform("min").to_numpy()
    for index in np.flatnonzero(extra.duplicated(["cadre_id", "post_id"]).to_numpy()):
        pair = (extra["cadre_id"][index], extra["post_id"][index])
        problems.append(Problem(
                scenario,
                f"{where}.pins.{index}",
                _("each (cadre_id, post_id) once"),
                _("{pair!r} again (first at pins.{first})").format(pair=pair, first=first[index]),
            ))
    pins = tables.get("pins", extra.iloc[:0])
    return pd.concat([pins, extra], ignore_index=True).drop_duplicates(["cadre_id", "post_id"], keep="last").reset_index(drop=True)


def _check_chain(chain: ChainFile, tables: dict[str, pd.DataFrame], scenario: str, problems: list[Problem]) -> None:
    """The first chained batch must come after every batch of the history it starts from."""
    batches = tables["history"]["batch"]
    if len(batches) and chain.years[0] <= batches.max():
        expected = _("a first year after the latest batch in the history table ({batch})").format(batch=batches.max())
        problems.append(Problem(scenario, "key chain.years", expected, repr(chain.years[0])))


def _factor_problems(tables: dict[str, pd.DataFrame], policy: Policy) -> list[Problem]:
    return [p for name, params in policy.active_factors().items() for p in FACTORS[name].check_inputs(tables, params)]
