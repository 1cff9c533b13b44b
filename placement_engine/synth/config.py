"""The generator's settings, validated: ``SynthConfig``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..ranks import RANKS

LEVELS: tuple[str, ...] = ("post", "prefecture", "province")


def _shares(value: dict[str, float], keys: tuple[str, ...], field: str) -> dict[str, float]:
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ValueError(f"{field}: unknown keys {unknown}; expected some of {list(keys)}")
    if any(v < 0 for v in value.values()):
        raise ValueError(f"{field}: shares must be >= 0; got {value}")
    if abs(sum(value.values()) - 1.0) > 1e-6:
        raise ValueError(f"{field}: shares must add up to 1; got {sum(value.values()):.6g}")
    return {k: float(value.get(k, 0.0)) for k in keys}


class SynthConfig(BaseModel):
    """Parameters of ``generate``; the docstring of ``placement_engine.synth`` gives each formula."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_cadres: int = Field(156, ge=1)
    rank_counts: dict[str, int] | None = Field(None, description="exact cadres per rank; excludes rank_shares")
    rank_shares: dict[str, float] = Field(
        default={"staff": 0.10, "deputy_section": 0.55, "section": 0.26, "deputy_division": 0.09, "division": 0.0}
    )
    rank_size_bias: float = Field(1.0, ge=0, description="how strongly senior cadres come from big universities")
    volunteer_share: float = Field(0.15, ge=0, le=1)
    min_volunteers: int | None = Field(None, ge=0, description="default: capacity outside the universities' provinces")
    staff_only_volunteers: bool = Field(True, description="every staff-rank cadre volunteers")
    wishes_min: int = Field(3, ge=1)
    wishes_max: int = Field(5, ge=1)
    target_level_shares: dict[str, float] = Field(default={"post": 0.80, "prefecture": 0.15, "province": 0.05})
    distance_scale_km: float = Field(100.0, gt=0)
    kind_weights: dict[str, float] = Field(default={"district": 2.0, "city": 1.5})
    home_wish_weight: float = Field(3.0, gt=0)
    partnership_wish_weight: float = Field(3.0, gt=0)
    rank_match_wish_weight: float = Field(10.0, gt=0)
    volunteer_cross_wish_prob: float = Field(0.8, ge=0, le=1)
    specific_wishes_first: bool = Field(
        False, description="reorder wishes so that none lies inside an earlier one; off keeps the draw order"
    )
    home_scale_km: float = Field(200.0, gt=0)
    home_own_prefecture_weight: float = Field(5.0, gt=0)
    home_other_province_weight: float = Field(0.05, ge=0)
    two_skills_share: float = Field(0.5, ge=0, le=1)
    partnerships_per_university: float = Field(2.0, ge=0)
    partnership_prefecture_share: float = Field(0.3, ge=0, le=1)
    partnership_own_prefecture_weight: float = Field(3.0, gt=0)
    history_batches: int = Field(1, ge=0)
    history_relay_share: float = Field(0.5, ge=0, le=1)
    universities: list[str] | None = Field(None, description="only these university_ids send cadres")

    @field_validator("rank_shares")
    @classmethod
    def _rank_shares(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value, RANKS, "rank_shares")

    @field_validator("target_level_shares")
    @classmethod
    def _level_shares(cls, value: dict[str, float]) -> dict[str, float]:
        return _shares(value, LEVELS, "target_level_shares")

    @field_validator("rank_counts")
    @classmethod
    def _rank_counts(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        unknown = [k for k in value if k not in RANKS]
        if unknown:
            raise ValueError(f"rank_counts: unknown ranks {unknown}; expected some of {list(RANKS)}")
        if any(v < 0 for v in value.values()):
            raise ValueError(f"rank_counts: counts must be >= 0; got {value}")
        return {k: int(value.get(k, 0)) for k in RANKS}

    @field_validator("kind_weights")
    @classmethod
    def _kind_weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v <= 0 for v in value.values()):
            raise ValueError(f"kind_weights: weights must be > 0; got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SynthConfig:
        if self.wishes_min > self.wishes_max:
            raise ValueError(f"wishes_min ({self.wishes_min}) is above wishes_max ({self.wishes_max})")
        if self.rank_counts is not None:
            if "rank_shares" in self.model_fields_set:
                raise ValueError("give rank_counts or rank_shares, not both")
            if sum(self.rank_counts.values()) != self.n_cadres:
                raise ValueError(
                    f"rank_counts add up to {sum(self.rank_counts.values())}; n_cadres is {self.n_cadres}"
                )
        return self
