"""A validated scenario: its tables, its policy and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pandas as pd

from .instance import Instance
from .schema import Policy


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

    @cached_property
    def instance(self) -> Instance:
        return Instance.from_tables(self.tables)

    def with_policy(self, policy: Policy | None = None, **changes: Any) -> Scenario:
        """The same data under another policy (or this policy with ``changes`` merged in)."""
        new_policy = policy if policy is not None else self.policy
        if changes:
            new_policy = new_policy.override(changes)
        clone = replace(self, policy=new_policy)
        if "instance" in self.__dict__:
            clone.__dict__["instance"] = self.__dict__["instance"]
        return clone

    def counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}
