"""Pydantic models of the policy and scenario files, and the column contract of every table.

The policy's ``factors`` section is built from the factor registry, so a factor's
parameters are declared once, in its own module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from .factors import FACTORS
from .factors.local_needs import parse_needs, parse_skills
from .rules import switches
from .synth import SynthConfig


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Hard rules; each can be switched off. The keys come from the rule registry.
Rules = create_model(
    "Rules",
    __config__=ConfigDict(extra="forbid"),
    **{key: (bool, Field(switch.default, description=switch.description)) for key, switch in switches().items()},
)


class SolverOptions(Strict):
    time_limit_s: float = Field(60.0, gt=0, description="wall-clock cap on a whole solve, seconds")
    work_limit: float | None = Field(
        None,
        gt=0,
        description="CP-SAT deterministic time for a whole solve (about seconds on one core); default time_limit_s. "
        "The searches also stop by a plan of three quarters of time_limit_s counted from their sizes. "
        "A run they stop is reproducible; a run the wall clock stops is not, and says so",
    )
    workers: int = Field(1, ge=1, le=64)
    seed: int = Field(0, ge=0)
    objective_scale: int = Field(1000, ge=1, description="integer objective units per point")
    method: Literal["auto", "cpsat"] = Field(
        "auto", description="auto: exact flow when there are no side constraints, else CP-SAT; cpsat: always CP-SAT"
    )
    use_relaxation: bool = Field(
        True, description="give CP-SAT the flow/Lagrangian relaxation's allocation as hint and its bound"
    )


FactorsConfig = create_model(
    "FactorsConfig",
    __config__=ConfigDict(extra="forbid"),
    **{name: (factor.Params | None, None) for name, factor in FACTORS.items()},
)


class Policy(Strict):
    """A placement policy: which rules are hard, and each factor's weight and parameters.

    A factor left out of ``factors`` is off (weight 0, no constraints).
    """

    name: str = "policy"
    description: str = ""
    rules: Rules = Field(default_factory=Rules)  # type: ignore[valid-type]
    factors: FactorsConfig = Field(default_factory=FactorsConfig)  # type: ignore[valid-type]
    solver: SolverOptions = Field(default_factory=SolverOptions)

    def active_factors(self) -> dict[str, Any]:
        """Factor name -> params for every factor the policy names, in registry order."""
        return {name: params for name in FACTORS if (params := getattr(self.factors, name)) is not None}

    def override(self, changes: dict[str, Any]) -> Policy:
        """A new policy with ``changes`` deep-merged in, validated again."""
        return Policy.model_validate(_deep_merge(self.model_dump(exclude_unset=False), changes))


def _deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class PinRow(Strict):
    """One extra row of a variant's pins table."""

    cadre_id: str
    post_id: str
    kind: Literal["pin", "forbid"] = "pin"


class VariantFile(Strict):
    """A variant of the scenario: policy overrides, replaced tables, extra pins (docs/runner.md)."""

    description: str = ""
    policy: dict[str, Any] = Field(default_factory=dict, description="merged into the scenario's policy")
    tables: dict[str, str] = Field(default_factory=dict, description="table -> file replacing the scenario's")
    pins: list[PinRow] = Field(default_factory=list, description="rows added to the pins table")


RelayMode = Literal["off", "weight", "rule"]


class ChainFile(Strict):
    """Batches solved one after another, each one's allocation the next one's relay history."""

    years: list[int] = Field(min_length=2, description="batch numbers; the first batch is the scenario's own tables")
    seeds: list[int] | None = Field(None, description="generator seed of each later batch's pool (default: its year)")
    pool: SynthConfig = Field(default_factory=SynthConfig, description="generator settings of the later pools")
    relay_modes: list[RelayMode] = Field(default=["off", "weight", "rule"], min_length=1)

    @field_validator("relay_modes", mode="before")
    @classmethod
    def _unquoted_off(cls, modes: Any) -> Any:
        """YAML reads an unquoted ``off`` as false."""
        return ["off" if mode is False else mode for mode in modes] if isinstance(modes, list) else modes

    @field_validator("years")
    @classmethod
    def _increasing(cls, years: list[int]) -> list[int]:
        if any(later <= earlier for earlier, later in zip(years, years[1:])):
            raise ValueError("years in increasing order")
        return years

    @field_validator("seeds")
    @classmethod
    def _one_per_later_batch(cls, seeds: list[int] | None, info: ValidationInfo) -> list[int] | None:
        years = info.data.get("years")
        if seeds is not None and years is not None and len(seeds) != len(years) - 1:
            raise ValueError(f"one seed per batch after the first ({len(years) - 1} in all)")
        return seeds

    def pool_seeds(self) -> list[int]:
        return self.seeds if self.seeds is not None else self.years[1:]


class ScenarioFile(Strict):
    """The scenario YAML file."""

    name: str
    description: str = ""
    policy: str | dict[str, Any] = Field(description="a policy file path, or an inline policy")
    tables: str | dict[str, str] = Field(description="table -> file (CSV or XLSX), or one XLSX workbook")
    policy_overrides: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    variants: dict[str, VariantFile] = Field(default_factory=dict)
    chain: ChainFile | None = None
    language: Literal["en", "zh"] | None = Field(None, description="language of what the command line prints for it (--lang wins)")


# ---- table contract -------------------------------------------------------------------------

# amount: a number >= 0 (money); float and amount cells may be blank where the column is optional
ColumnKind = Literal[
    "id", "text", "code", "float", "amount", "lon", "lat", "count", "choice", "int", "rank", "bool", "pin_kind", "needs", "skills"
]
# kinds whose cells are parsed by their factor: text -> (canonical cells, bad cells, what a cell should be)
COLUMN_PARSERS = {"needs": parse_needs, "skills": parse_skills}


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    description: str = ""
    references: dict[str, str] = field(default_factory=dict)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "posts",
            (
                Column("post_id", "id"),
                Column("adcode", "code"),
                Column("name", "text"),
                Column("prefecture", "code"),
                Column("province", "code"),
                Column("lon", "lon"),
                Column("lat", "lat"),
                Column("capacity", "count", required=False, default=1),
                Column("min_rank", "rank"),
                Column("needs", "needs", required=False, default=""),
            ),
            key=("post_id",),
            description="county-level posts to fill",
        ),
        TableSpec(
            "cadres",
            (
                Column("cadre_id", "id"),
                Column("university_id", "id"),
                Column("rank", "rank"),
                Column("cross_province_ok", "bool"),
                Column("skills", "skills", required=False, default=""),
            ),
            key=("cadre_id",),
            description="the cadres to place",
            references={"university_id": "universities"},
        ),
        TableSpec(
            "universities",
            (
                Column("university_id", "id"),
                Column("name", "text"),
                Column("adcode", "code"),
                Column("lon", "lon"),
                Column("lat", "lat"),
                Column("budget_yuan", "amount", required=False),
            ),
            key=("university_id",),
            description="sending universities and their campus locations",
        ),
        TableSpec(
            "preferences",
            (Column("cadre_id", "id"), Column("choice", "choice"), Column("target", "id")),
            key=("cadre_id", "target"),
            description="ranked wishes: target is a post_id, a prefecture code or a province code",
            references={"cadre_id": "cadres", "target": "wish targets"},
        ),
        TableSpec(
            "partnerships",
            (Column("university_id", "id"), Column("target", "id")),
            key=("university_id", "target"),
            description="university-locality agreements: target is a post_id or a prefecture code",
            references={"university_id": "universities", "target": "agreement targets"},
        ),
        TableSpec(
            "history",
            (Column("batch", "int"), Column("university_id", "id"), Column("post_id", "id")),
            description="earlier postings, for relay",
            references={"university_id": "universities", "post_id": "posts"},
        ),
        TableSpec(
            "pair_scores",
            (Column("cadre_id", "id"), Column("post_id", "id"), Column("score", "float")),
            key=("cadre_id", "post_id"),
            required=False,
            description="analyst-supplied extra scores",
            references={"cadre_id": "cadres", "post_id": "posts"},
        ),
        TableSpec(
            "pairings",
            (Column("from_province", "code"), Column("to_province", "code")),
            key=("from_province", "to_province"),
            required=False,
            description="cross-province pairings: volunteers from from_province may go to to_province "
            "(without this table, to any province)",
            references={"from_province": "universities", "to_province": "posts"},
        ),
        TableSpec(
            "pins",
            (Column("cadre_id", "id"), Column("post_id", "id"), Column("kind", "pin_kind")),
            key=("cadre_id", "post_id"),
            required=False,
            description="pin: the cadre must take the post; forbid: must not",
            references={"cadre_id": "cadres", "post_id": "posts"},
        ),
        TableSpec(
            "post_priorities",
            (
                Column("post_id", "id"),
                Column("cadre_id", "text", required=False),
                Column("university_id", "text", required=False),
                Column("priority", "float"),
            ),
            required=False,
            description="how posts rank cadres (higher is preferred), per cadre or per university: "
            "stability in the audit and rules.stable (docs/stability.md)",
            references={"post_id": "posts", "cadre_id": "cadres", "university_id": "universities"},
        ),
    )
}
