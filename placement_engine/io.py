"""The only module that reads or writes files.

Loading collects every problem it finds (missing files, bad YAML, unknown keys,
missing columns, bad cells, duplicate ids, dangling references) and raises one
``InputError`` listing them all. Each problem names the file, the row or key,
what was expected and what was received. Rows are counted as a spreadsheet
shows them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import hashlib
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any, get_origin

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .factors import FACTORS
from .geo import CHINA_LAT, CHINA_LON, prefecture_of, province_of
from .ranks import RANKS
from .scenario import Scenario, Variant
from .schema import TABLES, ChainFile, Policy, ScenarioFile, TableSpec, VariantFile

MAX_ROWS_PER_PROBLEM = 10
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}
BASELINE = "baseline"  # the name the runner gives the scenario's own policy and tables
VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # variants name output folders


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


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with fixed formatting, so identical tables give identical bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_json(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")


def write_yaml(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV written by the engine (ids and codes stay text)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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


def _read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    if not path.is_file():
        problems.append(Problem(shown, "", "an existing file", "no such file"))
        return None
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start]
        line = data.count(b"\n", 0, error.start) + 1
        problems.append(
            Problem(
                shown,
                f"line {line} (byte {error.start})",
                "UTF-8 text",
                f"byte 0x{bad:02x} (is the file saved as GBK?)",
            )
        )
        return None


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


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return path.name


# ---- reading tables -------------------------------------------------------------------------


def _read_tables(
    source: str | dict[str, str], base: Path, problems: list[Problem], scenario: str = "scenario"
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Path]]:
    if isinstance(source, str):
        paths = {name: base / source for name in TABLES}
        workbook_only = True
    else:
        unknown = sorted(set(source) - set(TABLES))
        for name in unknown:
            problems.append(Problem(scenario, f"key tables.{name}", f"a table name (one of {', '.join(TABLES)})", repr(name)))
        paths = {name: base / source[name] for name in TABLES if name in source}
        workbook_only = False
        for name, spec in TABLES.items():
            if spec.required and name not in source:
                problems.append(Problem(scenario, f"key tables.{name}", "a file for this required table", "nothing"))
    frames: dict[str, pd.DataFrame | None] = {}
    used: dict[str, Path] = {}
    for name, path in paths.items():
        frame = _read_table(path, name, _display(path, base), TABLES[name].required or not workbook_only, problems)
        if frame is not None or TABLES[name].required:
            frames[name] = frame
        if frame is not None:
            used[name] = path
    return frames, used


def _read_table(path: Path, name: str, shown: str, must_exist: bool, problems: list[Problem]) -> pd.DataFrame | None:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        if not path.is_file():
            _add_once(problems, Problem(shown, "", "an existing file", "no such file"))
            return None
        try:
            with pd.ExcelFile(path) as book:
                if name not in book.sheet_names:
                    if must_exist:
                        sheets = ", ".join(map(str, book.sheet_names))
                        problems.append(Problem(shown, f"sheet {name}", f"a sheet named {name!r}", f"sheets {sheets}"))
                    return None
                frame = pd.read_excel(book, sheet_name=name, dtype=str, keep_default_na=False)
        except Exception:  # noqa: BLE001 - any unreadable workbook is an input problem
            unreadable = Problem(shown, "", "an Excel workbook (.xlsx or .xlsm)", "a file that cannot be read as one")
            _add_once(problems, unreadable)
            return None
        return _as_text(frame)
    text = _read_text(path, shown, problems)
    if text is None:
        return None
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        problems.append(Problem(shown, "", "a header row with the column names", "an empty file"))
        return None
    except pd.errors.ParserError as error:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if ragged:
            fields, line, saw = ragged.groups()
            problems.append(Problem(shown, f"row {line}", f"{fields} cells, as in the header row", f"{saw} cells"))
        else:
            problems.append(Problem(shown, "", "a readable CSV table", str(error).strip()))
        return None
    return _without_blank_rows(_as_text(frame))


def _add_once(problems: list[Problem], problem: Problem) -> None:
    """One workbook serves several tables; say what is wrong with it once."""
    if problem not in problems:
        problems.append(problem)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text; missing values become ''."""
    out = frame.copy()
    out.columns = [str(c).strip() for c in out.columns]
    for column in out.columns:
        values = out[column]
        text = values.astype(object).where(values.notna(), "").map(_cell_text)
        out[column] = text.astype(object)
    return out


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its blank rows; ``attrs["file_rows"]`` keeps each remaining row's
    number in the file (the header is row 1), so that problems point at the right row."""
    kept = ~(frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.ones(len(frame), bool)
    out = frame.loc[kept].reset_index(drop=True)
    out.attrs["file_rows"] = np.flatnonzero(kept) + 2
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ---- validating tables ----------------------------------------------------------------------


class _Collector:
    """Groups bad cells by (file, column, expectation) so that long runs are summarised."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.file_rows: dict[str, np.ndarray] = {}  # per file: each table row's number in the file

    def row(self, shown: str, index: int) -> int:
        """The file's row number of table row ``index`` (the header is row 1)."""
        rows = self.file_rows.get(shown)
        return int(rows[index]) if rows is not None and index < len(rows) else index + 2

    def cells(self, shown: str, column: str, bad_rows: np.ndarray, values: np.ndarray, expected: str, got=None):
        describe = got or (lambda row: repr(str(values[row])))
        for row in bad_rows[:MAX_ROWS_PER_PROBLEM]:
            self.problems.append(Problem(shown, f"row {self.row(shown, row)}, column {column}", expected, describe(row)))
        extra = len(bad_rows) - MAX_ROWS_PER_PROBLEM
        if extra > 0:
            self.problems.append(
                Problem(shown, f"column {column}", expected, f"{extra} more rows like the above (not listed)")
            )


_CODE = re.compile(r"^\d{6}$")


def _parse_column(kind: str, text: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Parsed values, a mask of bad cells, and the expectation for messages."""
    blank = text == ""
    if kind == "id":
        return text, blank, "a non-empty id"
    if kind == "text":
        return text, np.zeros(len(text), bool), "text"
    if kind == "code":
        good = np.array([bool(_CODE.match(t)) for t in text], dtype=bool)
        return text, ~good, "a 6-digit administrative code"
    if kind == "rank":
        return text, ~np.isin(text, RANKS), f"one of {', '.join(RANKS)}"
    if kind == "pin_kind":
        lowered = np.char.lower(text.astype(str))
        return lowered, ~np.isin(lowered, ["pin", "forbid"]), "one of pin, forbid"
    if kind == "bool":
        lowered = np.char.lower(text.astype(str))
        return np.isin(lowered, list(TRUE_WORDS)), ~np.isin(lowered, list(TRUE_WORDS | FALSE_WORDS)), "true or false"
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    not_number = np.isnan(numbers)
    if kind == "float":
        return numbers, not_number & ~blank, "a number"
    if kind == "lon":
        return numbers, not_number | (numbers < CHINA_LON[0]) | (numbers > CHINA_LON[1]), (
            f"a longitude inside China ({CHINA_LON[0]:g} to {CHINA_LON[1]:g})"
        )
    if kind == "lat":
        return numbers, not_number | (numbers < CHINA_LAT[0]) | (numbers > CHINA_LAT[1]), (
            f"a latitude inside China ({CHINA_LAT[0]:g} to {CHINA_LAT[1]:g})"
        )
    whole = ~not_number & (np.mod(np.nan_to_num(numbers), 1) == 0)
    if kind == "int":
        return np.nan_to_num(numbers).astype(np.int64), ~whole, "a whole number"
    if kind == "count":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 0), "a whole number >= 0"
    if kind == "choice":
        return np.nan_to_num(numbers).astype(np.int64), ~whole | (numbers < 1), "a whole number >= 1"
    raise ValueError(f"unknown column kind {kind}")


def _validate_table(spec: TableSpec, frame: pd.DataFrame, shown: str, collect: _Collector) -> pd.DataFrame | None:
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        collect.problems.append(
            Problem(shown, f"column {name}", f"a column named {name!r}", f"columns {', '.join(frame.columns) or 'none'}")
        )
    if missing:
        return None
    out = frame.copy()
    for column in spec.columns:
        if column.name not in frame.columns:
            if column.default is not None:
                out[column.name] = column.default
            continue
        text = frame[column.name].to_numpy(str)
        use_default = (text == "") & (column.default is not None)
        text = np.where(use_default, str(column.default), text)
        values, bad, expected = _parse_column(column.kind, text)
        if column.kind == "float" and column.required:  # only an optional number (budget_yuan) may be blank
            bad = bad | (text == "")
        if bad.any():
            collect.cells(shown, column.name, np.flatnonzero(bad), text, expected)
        out[column.name] = values
    _check_unique(spec, out, shown, collect)
    return out


def _check_unique(spec: TableSpec, frame: pd.DataFrame, shown: str, collect: _Collector) -> None:
    if not spec.key:
        return
    key = list(spec.key)
    numbered = frame.reset_index(drop=True)
    dup = np.flatnonzero(numbered.duplicated(key, keep="first").to_numpy())
    if not len(dup):
        return
    first = numbered.reset_index().groupby(key, sort=False)["index"].transform("min").to_numpy()
    if spec.name == "preferences":
        expected = "each target once per cadre (a wish listed twice)"
    else:
        expected = f"a unique {' + '.join(key)}"
    values = numbered[key[-1]].to_numpy(str)
    collect.cells(shown, key[-1], dup, values, expected, got=lambda row: f"{str(values[row])!r} again (first at row {collect.row(shown, first[row])})")


def _validate_tables(
    frames: dict[str, pd.DataFrame | None], shown: dict[str, str], problems: list[Problem]
) -> dict[str, pd.DataFrame] | None:
    collect = _Collector(problems)
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if frame is None:
            continue
        if "file_rows" in frame.attrs:
            collect.file_rows[shown.get(name, name)] = frame.attrs["file_rows"]
        checked = _validate_table(TABLES[name], frame, shown.get(name, name), collect)
        if checked is not None:
            checked.attrs.pop("file_rows", None)  # the tables handed out carry no attrs
            tables[name] = checked
    if any(spec.required and name not in tables for name, spec in TABLES.items()):
        return None
    _derive_regions(tables)
    _check_references(tables, shown, collect)
    _check_choices(tables["preferences"], shown.get("preferences", "preferences"), collect)
    return tables


def _derive_regions(tables: dict[str, pd.DataFrame]) -> None:
    unis = tables["universities"]
    codes = unis["adcode"].to_numpy(str)
    unis["prefecture"] = prefecture_of(codes) if len(codes) else np.zeros(0, str)
    unis["province"] = province_of(codes) if len(codes) else np.zeros(0, str)


def _check_references(tables: dict[str, pd.DataFrame], shown: dict[str, str], collect: _Collector) -> None:
    posts = tables["posts"]
    post_ids = posts["post_id"].to_numpy(str)
    prefectures = np.unique(posts["prefecture"].to_numpy(str))
    provinces = np.unique(posts["province"].to_numpy(str))
    where = lambda name: shown.get(name, name)  # noqa: E731
    targets = {
        "cadres": tables["cadres"]["cadre_id"].to_numpy(str),
        "universities": tables["universities"]["university_id"].to_numpy(str),
    }
    checks: list[tuple[str, str, np.ndarray, str]] = [
        ("cadres", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        ("preferences", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        (
            "preferences",
            "target",
            np.concatenate([post_ids, prefectures, provinces]),
            f"a post_id, prefecture code or province code from {where('posts')}",
        ),
        ("partnerships", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        (
            "partnerships",
            "target",
            np.concatenate([post_ids, prefectures]),
            f"a post_id or prefecture code from {where('posts')}",
        ),
        ("history", "university_id", targets["universities"], f"a university_id from {where('universities')}"),
        ("history", "post_id", post_ids, f"a post_id from {where('posts')}"),
        ("pair_scores", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        ("pair_scores", "post_id", post_ids, f"a post_id from {where('posts')}"),
        (
            "pairings",
            "from_province",
            np.unique(tables["universities"]["province"].to_numpy(str)),
            f"the province code of a university in {where('universities')}",
        ),
        ("pairings", "to_province", provinces, f"the province code of a post in {where('posts')}"),
        ("pins", "cadre_id", targets["cadres"], f"a cadre_id from {where('cadres')}"),
        ("pins", "post_id", post_ids, f"a post_id from {where('posts')}"),
    ]
    for table, column, allowed, expected in checks:
        if table not in tables:
            continue
        values = tables[table][column].to_numpy(str)
        bad = np.flatnonzero(~np.isin(values, allowed))
        collect.cells(where(table), column, bad, values, expected)
    clash = np.flatnonzero(np.isin(post_ids, np.concatenate([prefectures, provinces])))
    collect.cells(where("posts"), "post_id", clash, post_ids, "a post_id that is not also a prefecture or province code")
    inconsistent = np.flatnonzero(province_of(posts["adcode"].to_numpy(str)) != posts["province"].to_numpy(str))
    collect.cells(
        where("posts"),
        "province",
        inconsistent,
        posts["province"].to_numpy(str),
        "the province code of the post's adcode (its first two digits + 0000)",
    )


def _check_choices(prefs: pd.DataFrame, shown: str, collect: _Collector) -> None:
    numbered = prefs.reset_index(drop=True)
    dup = np.flatnonzero(numbered.duplicated(["cadre_id", "choice"], keep="first").to_numpy())
    first = numbered.reset_index().groupby(["cadre_id", "choice"], sort=False)["index"].transform("min").to_numpy()
    values, cadres = numbered["choice"].to_numpy(), numbered["cadre_id"].to_numpy(str)
    collect.cells(
        shown,
        "choice",
        dup,
        values,
        "each choice number once per cadre",
        got=lambda row: f"choice {values[row]} again for cadre {str(cadres[row])!r} (first at row {collect.row(shown, first[row])})",
    )
