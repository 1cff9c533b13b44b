"""Problems from pydantic's validation errors, named as the user wrote the keys."""

from __future__ import annotations

import re
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..i18n import _
from ..schema import Policy


def policy_problems(error: ValidationError, changes: dict[str, Any], shown: str = "policy") -> list[Problem]:
    """The problems of a policy change that failed validation, named as in a policy file."""
    return _pydantic_problems(Policy, error, shown, changes)


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
            what = _("a factor name") if loc[:-1] == ["factors"] else _("a known key")
            expected = _("{what} (one of {names})").format(what=what, names=", ".join(known)) if known else _("no such key")
            problem = Problem(shown, f"key {key}", expected, _("unknown key {key!r}").format(key=loc[-1]))
        elif item["type"] == "missing":
            problem = Problem(shown, f"key {key}", _("a value (required)"), _("nothing"))
        else:
            expected = re.sub(r"^(Input should be|Value error,)\s*", "", item["msg"]).strip()
            expected = re.sub(r",\s*(unable|got)\b.*$", "", expected)
            if expected.startswith(("greater", "less")):
                expected = f"a number {expected}"
            problem = Problem(shown, f"key {key}", expected, _short(repr(item.get("input"))))
        earlier = found.get((problem.location, problem.got))
        if earlier is not None and earlier.expected != problem.expected:  # two branches of one union
            problem = Problem(shown, problem.location, _("{first} or {second}").format(first=earlier.expected, second=problem.expected), problem.got)
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
