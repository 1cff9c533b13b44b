"""A validated scenario: its tables, its policy and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pandas as pd
from pydantic import ValidationError

from .errors import InputError, Problem
from .i18n import _
from .instance import Instance
from .schema import ChainFile, Policy


@dataclass
class Variant:
    """A validated variant: its resolved policy and the tables it replaces (docs/runner.md)."""

    name: str
    description: str
    policy: Policy
    overrides: dict[str, Any] = field(default_factory=dict)  # the policy changes as written
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # validated replacements (pins: base + extra rows)
    files: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass
class Scenario:
    """Validated tables plus the policy to solve them with.

    Build one with ``load_scenario`` (files) or ``scenario_from_tables`` (data frames).
    """

    name: str
    description: str
    policy: Policy
    tables: dict[str, pd.DataFrame]
    files: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    base_dir: str | None = None
    variants: dict[str, Variant] = field(default_factory=dict)
    chain: ChainFile | None = None

    @cached_property
    def instance(self) -> Instance:
        return Instance.from_tables(self.tables)

    # tables read from CSV: table -> the encoding its file was read in ('utf-8', 'utf-8-sig', 'gbk', 'gb18030')
    table_encodings: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        counts = ", ".join(f"{count} {name}" for name, count in self.counts().items())
        return f"<Scenario {self.name!r}: {counts}; policy {self.policy.name!r}, {len(self.variants)} variants>"

    def with_policy(self, policy: Policy | None = None, **changes: Any) -> Scenario:
        """The same data under another policy (or this policy with ``changes`` merged in).

        A change the policy format does not allow (a misspelt factor, a weight that is
        not a number) raises ``InputError``, as it would in a policy file.
        """
        from .io.models import policy_problems

        if policy is not None and not isinstance(policy, Policy):
            got = _("a {kind}").format(kind=type(policy).__name__)
            raise InputError([Problem("with_policy", "policy", _("a Policy (use keyword arguments for changes)"), got)])
        new_policy = policy if policy is not None else self.policy
        if changes:
            try:
                new_policy = new_policy.override(changes)
            except ValidationError as error:
                raise InputError(policy_problems(error, changes, "with_policy")) from None
        clone = replace(self, policy=new_policy)
        if "instance" in self.__dict__:
            clone.__dict__["instance"] = self.__dict__["instance"]
        return clone

    def variant(self, name: str) -> Scenario:
        """The scenario as variant ``name`` changes it: its policy, its tables, its pins."""
        if name not in self.variants:
            known = ", ".join(self.variants) or _("none")
            expected = _("a variant of {scenario} (one of {names})").format(scenario=self.name, names=known)
            raise InputError([Problem("variant", "", expected, repr(name))])
        variant = self.variants[name]
        if not variant.tables:
            self.instance  # built now, so that the variant shares it  # noqa: B018
        changed = self.with_policy(variant.policy)
        changed.name, changed.variants = f"{self.name}.{name}", {}
        if variant.tables:
            changed.__dict__.pop("instance", None)
            changed.tables = {**self.tables, **variant.tables}
            changed.files = {**self.files, **variant.files}
            changed.hashes = {**self.hashes, **variant.hashes}
        return changed

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}
