"""Loading a scenario: its YAML files, its policy, its variants and its tables.

Loading collects every problem it finds (missing files, bad YAML, unknown keys,
missing columns, bad cells, duplicate ids, dangling references) and raises one
``InputError`` listing them all. Each problem names the file, the row or key,
what was expected and what was received.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, get_origin

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError, Problem
from ..factors import FACTORS
from ..scenario import Scenario, Variant
from ..schema import TABLES, ChainFile, Policy, ScenarioFile, VariantFile
from .tables import _as_text, _display, _read_table, _read_tables, _read_text, _validate_tables
from .write import sha256

BASELINE = "baseline"  # the name the runner gives the scenario's own policy and tables
VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # variants name output folders
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
    )


def scenario_from_tables(
    tables: dict[str, pd.DataFrame], policy: Policy | dict | None = None, name: str = "scenario"
) -> Scenario:
    """Validate in-memory tables (e.g. from the generator) exactly as files are validated."""
    problems: list[Problem] = []
    if isinstance(policy, dict) or policy is None:
        policy = _validate_model(Policy, policy or {}, "policy", problems)
    for key in tables:
        if key not in TABLES:
            problems.append(Problem(key, "", f"a table name (one of {', '.join(TABLES)})", repr(key)))
    for key, spec in TABLES.items():
        if spec.required and key not in tables:
            problems.append(Problem(key, "", "a data frame for this required table", "nothing"))
    frames = {key: _as_text(frame) for key, frame in tables.items() if key in TABLES}
    checked = _validate_tables(frames, {key: key for key in frames}, problems)
    if policy is not None and checked is not None:
        problems += _factor_problems(checked, policy)
    if problems:
        raise InputError(problems)
    digest = {key: hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest() for key, frame in checked.items()}
    return Scenario(name=name, description="", policy=policy, tables=checked, files={}, hashes=digest)


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
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(shown, where, "valid YAML", str(getattr(error, "problem", error))))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(shown, "", "a mapping of keys to values", _describe_document(data)))
        return None
    return data


def _describe_document(data: Any) -> str:
    if data is None:
        return "an empty document"
    if isinstance(data, list):
        return f"a list of {len(data)} item{'s' if len(data) != 1 else ''}"
    return f"a single value {_short(repr(data))}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _validate_model(model: type[BaseModel], data: Any, shown: str, problems: list[Problem]):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(_pydantic_problems(model, error, shown, data))
        return None


# pydantic names the branch of a union it tried ("str", "dict[str,str]") inside error locations
_UNION_TAG = re.compile(r"^(str|int|float|bool|none|[a-z_-]+\[.*\])$")


def _user_loc(loc: tuple, data: Any) -> list[str]:
    """The error location as the user wrote it: union-branch tags dropped."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(part, str) and _UNION_TAG.match(part):
            continue
        else:
            node = None
        out.append(str(part))
    return out


def _pydantic_problems(model: type[BaseModel], error: ValidationError, shown: str, data: Any = None) -> list[Problem]:
    found: dict[tuple[str, str], Problem] = {}
    for item in error.errors():
        loc = _user_loc(item["loc"], data)
        key = ".".join(loc)
        if item["type"] == "extra_forbidden":
            known = _known_keys(model, loc[:-1])
            what = "a factor name" if loc[:-1] == ["factors"] else "a known key"
            expected = f"{what} (one of {', '.join(known)})" if known else "no such key"
            problem = Problem(shown, f"key {key}", expected, f"unknown key {loc[-1]!r}")
        elif item["type"] == "missing":
            problem = Problem(shown, f"key {key}", "a value (required)", "nothing")
        else:
            expected = re.sub(r"^(Input should be|Value error,)\s*", "", item["msg"]).strip()
            expected = re.sub(r",\s*(unable|got)\b.*$", "", expected)
            if expected.startswith(("greater", "less")):
                expected = f"a number {expected}"
            problem = Problem(shown, f"key {key}", expected, _short(repr(item.get("input"))))
        earlier = found.get((problem.location, problem.got))
        if earlier is not None and earlier.expected != problem.expected:  # two branches of one union
            problem = Problem(shown, problem.location, f"{earlier.expected} or {problem.expected}", problem.got)
        found[(problem.location, problem.got)] = problem
    keys = [p.location for p in found.values()]
    # a union branch failing inside a key also fails the key as a whole: report the inner problem only
    return [p for p in found.values() if not any(k.startswith(p.location + ".") for k in keys)]


def _known_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    current: Any = model
    free_key = False  # the part after a mapping or list field is the user's key or an index
    for part in loc:
        if free_key:
            free_key = False
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return []
        free_key = get_origin(annotation) in (dict, list)
    return sorted(current.model_fields)


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
        expected = f"a name of letters, digits, '.', '_' or '-' other than {BASELINE!r}"
        problems.append(Problem(scenario, where, expected, repr(name)))
    variant_policy = policy
    if policy is not None and entry.policy:
        variant_policy = _apply_overrides(policy, entry.policy, scenario, problems, f"variants.{name}.policy")
    replaced: dict[str, pd.DataFrame | None] = {}
    paths: dict[str, Path] = {}
    for table, file in entry.tables.items():
        if table not in TABLES:
            problems.append(Problem(scenario, f"{where}.tables.{table}", f"a table name (one of {', '.join(TABLES)})", repr(table)))
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
    problems += [Problem(f"{p.file} (variant {name})", p.location, p.expected, p.got) for p in own]
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
                Problem(scenario, f"{where}.pins.{index}.{column}", f"a {column} from {source[column]}", repr(extra[column][index]))
            )
    first = extra.reset_index().groupby(["cadre_id", "post_id"])["index"].transform("min").to_numpy()
    for index in np.flatnonzero(extra.duplicated(["cadre_id", "post_id"]).to_numpy()):
        pair = (extra["cadre_id"][index], extra["post_id"][index])
        problems.append(Problem(scenario, f"{where}.pins.{index}", "each (cadre_id, post_id) once", f"{pair!r} again (first at pins.{first[index]})"))
    pins = tables.get("pins", extra.iloc[:0])
    return pd.concat([pins, extra], ignore_index=True).drop_duplicates(["cadre_id", "post_id"], keep="last").reset_index(drop=True)


def _check_chain(chain: ChainFile, tables: dict[str, pd.DataFrame], scenario: str, problems: list[Problem]) -> None:
    """The first chained batch must come after every batch of the history it starts from."""
    batches = tables["history"]["batch"]
    if len(batches) and chain.years[0] <= batches.max():
        expected = f"a first year after the latest batch in the history table ({batches.max()})"
        problems.append(Problem(scenario, "key chain.years", expected, repr(chain.years[0])))


def _factor_problems(tables: dict[str, pd.DataFrame], policy: Policy) -> list[Problem]:
    return [p for name, params in policy.active_factors().items() for p in FACTORS[name].check_inputs(tables, params)]
