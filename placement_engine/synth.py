"""Seeded generator of realistic cadre pools: cadres, wishes, partnerships and history.

``generate(posts, universities, config, seed)`` returns four tables in the formats of the
scenario files (``cadres``, ``preferences``, ``partnerships``, ``history``). The only source
of randomness is ``numpy.random.default_rng(seed)``, so equal inputs, config and seed give
equal tables.

A single weighted draw inverts the cumulative weights at a uniform point. Draws without
replacement use an exponential race: item ``i`` gets the key ``w_i / E_i`` with
``E_i ~ Exp(1)``, and the keys in decreasing order are draws one after another, each with
probability proportional to the weights of the items left.

Notation: ``d(u, x)`` is the great-circle distance in km from university ``u`` to post or
place ``x``; ``[condition]`` is 1 when the condition holds and 0 otherwise; ``a ** b`` is a
power. The names in ``code`` are ``SynthConfig`` fields.

University quotas
    The exact share is ``e_u = n_cadres * size_u / sum(size)``; quotas are the
    largest-remainder rounding of ``e_u``. When ``n_cadres`` is at least the number of
    universities, a university rounded to 0 gets 1, and each extra cadre is taken back from
    the university most over its exact share (the largest ``quota - e_u``) among those with
    two or more, one from each before a second from any. So quotas stay within 1 of the
    largest-remainder values whenever the universities with two or more are enough.

Ranks
    Counts per rank are ``rank_counts``, or the largest-remainder rounding of
    ``rank_shares * n_cadres``. Each cadre draws a priority
    ``rank_size_bias * ln(size_u) + G`` with ``G ~ Gumbel(0, 1)``; the highest priorities get
    the highest ranks. So big universities send more senior cadres, but not only them.

Volunteers (``cross_province_ok``)
    Their number is the largest of ``volunteer_share * n_cadres`` rounded half up,
    ``min_volunteers`` (default: the capacity of the posts outside every university's
    province) and, with ``staff_only_volunteers``, the number of staff-rank cadres, who all
    volunteer. The others are drawn uniformly from the remaining cadres.

Feasibility
    The pool must be able to fill ``min(n_cadres, total capacity)`` places under the rank
    rule (a cadre's rank reaches the post's ``min_rank``) and the cross-province rule (only
    volunteers leave their university's province): every post when cadres are at least as
    many as the places, a place for every cadre otherwise. This is checked exactly, with a
    maximum flow over cadre and post types. When it fails, ``generate`` raises
    ``ValueError`` naming the rule that falls short (fewer cadres of rank >= r than places
    needing rank >= r; fewer volunteers than places outside the universities' provinces).

Home prefecture
    Drawn over the prefectures of the posts and of the universities with weight
    ``exp(-d(u, h) / home_scale_km) * home_own_prefecture_weight ** [h is u's prefecture]
    * home_other_province_weight ** [h is outside u's province]``, where a prefecture's
    point is the mean of its posts (or of its universities when it has no post).

Skills
    One skill, or two with probability ``two_skills_share``, drawn uniformly without
    replacement from ``SKILLS`` and listed in that order, joined by ";".

Partnerships
    Each university draws ``Poisson(partnerships_per_university)`` targets (at most the
    number of targets) without replacement, with weights
    ``(1 - partnership_prefecture_share) * a(u, p)`` for a post ``p`` and
    ``partnership_prefecture_share * sum(a(u, p) for p in f)`` for a prefecture ``f``, where
    ``a(u, p) = exp(-d(u, p) / distance_scale_km)
    * partnership_own_prefecture_weight ** [p is in u's prefecture]``.

Wishes (``preferences``)
    A cadre ``c`` of university ``u`` may wish for a post it can hold (rank at least the
    post's ``min_rank``; in ``u``'s province unless ``c`` volunteers), and for a prefecture
    or province that has such a post. A post's weight is
    ``w(c, p) = exp(-d(u, p) / distance_scale_km) * kind_weights[kind(p)]``
    ``* home_wish_weight ** [p is in c's home prefecture]``
    ``* partnership_wish_weight ** [p or its prefecture is a partner of u]``
    ``* rank_match_wish_weight ** [min_rank(p) == rank(c)]``
    (``kind_weights`` is 1 for kinds it does not list; without a ``kind`` column the kind
    comes from the name: 区 district, 市 city, otherwise county). A prefecture or province
    weighs ``W(c, t)``, the sum of ``w(c, p)`` over its posts that ``c`` may hold, so places
    with more units and bigger cities weigh more. Every target ``t`` is drawn with weight
    ``target_level_shares[level(t)] * W(c, t)``. The posts, the prefectures and the provinces
    each add up to the same total, so the first wish is a post, a prefecture or a province
    with exactly these shares; the next wishes are drawn from the targets left with the same
    weights. The number of wishes is uniform in ``[wishes_min, wishes_max]``, capped by the
    number of targets the cadre may wish for. With probability ``volunteer_cross_wish_prob``
    a volunteer's wishes include one target drawn from the cross-province targets alone
    (same weights), at a uniformly random position.

History (earlier batches, for the relay rule)
    In batch 1 every post is held by one university, drawn with weight
    ``quota_u * exp(-d(u, p) / distance_scale_km)``. In each later batch the holder stays
    with probability ``history_relay_share`` and is drawn afresh otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.graph.python import max_flow
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .geo import haversine_km, prefecture_of, province_of
from .ranks import RANK_LEVEL, RANKS

SKILLS: tuple[str, ...] = (
    "law", "agriculture", "economics", "education", "engineering", "medicine", "IT", "arts", "management",
)
LEVELS: tuple[str, ...] = ("post", "prefecture", "province")

CADRE_COLUMNS = ["cadre_id", "university_id", "rank", "cross_province_ok", "home_prefecture", "skills"]
PREFERENCE_COLUMNS = ["cadre_id", "choice", "target"]
PARTNERSHIP_COLUMNS = ["university_id", "target"]
HISTORY_COLUMNS = ["batch", "university_id", "post_id"]
POST_COLUMNS = ["post_id", "adcode", "name", "prefecture", "province", "lon", "lat", "capacity", "min_rank"]
UNIVERSITY_COLUMNS = ["university_id", "name", "adcode", "lon", "lat", "size"]

_CHUNK = 512  # cadres per block of wish weights: bounds memory at national size


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
    """Parameters of ``generate``; the module docstring gives each formula."""

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


@dataclass(frozen=True)
class _Posts:
    """Posts sorted by province then prefecture, so that each place is a contiguous block."""

    id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    capacity: np.ndarray
    level: np.ndarray  # RANK_LEVEL of min_rank
    kind: np.ndarray
    province: np.ndarray  # province code of each post
    pref: np.ndarray  # index into pref_code
    pref_code: np.ndarray
    pref_start: np.ndarray
    prov_code: np.ndarray
    prov_start: np.ndarray


@dataclass(frozen=True)
class _Universities:
    id: np.ndarray
    size: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    prefecture: np.ndarray
    province: np.ndarray


@dataclass(frozen=True)
class _Cadres:
    """Cadres in table order, grouped by university."""

    id: np.ndarray
    uni: np.ndarray
    level: np.ndarray
    volunteer: np.ndarray
    home_pref: np.ndarray  # index into the posts' prefectures, -1 when home has no post


def _missing(table: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")


def _blocks(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each run of equal codes, and each row's run number."""
    new = np.r_[True, codes[1:] != codes[:-1]]
    return np.flatnonzero(new), np.cumsum(new) - 1


def _read_posts(posts: pd.DataFrame) -> _Posts:
    _missing(posts, "posts", POST_COLUMNS)
    if len(posts) == 0:
        raise ValueError("posts: the table is empty")
    table = posts.assign(**{c: posts[c].astype(str) for c in ("post_id", "prefecture", "province", "min_rank")})
    table = table.sort_values(["province", "prefecture"], kind="stable")
    problems = []
    if table["post_id"].duplicated().any():
        problems.append(f"duplicate post_id {sorted(table.loc[table['post_id'].duplicated(), 'post_id'])[:5]}")
    bad_rank = sorted(set(table["min_rank"]) - set(RANKS))
    if bad_rank:
        problems.append(f"min_rank must be one of {list(RANKS)}; got {bad_rank}")
    capacity = pd.to_numeric(table["capacity"], errors="coerce")
    if capacity.isna().any() or (capacity < 1).any() or (capacity % 1 != 0).any():
        problems.append("capacity must be an integer >= 1")
    lonlat = table[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    if lonlat.isna().any().any():
        problems.append("lon and lat must be numbers")
    pref_code = table["prefecture"].to_numpy(str)
    prov = table["province"].to_numpy(str)
    pref_start, pref = _blocks(pref_code)
    prov_start, _ = _blocks(prov)
    if len(np.unique(pref_code[pref_start])) != len(pref_start):
        problems.append("each prefecture must lie in one province")
    if problems:
        raise ValueError("posts: " + "; ".join(problems))
    if "kind" in table.columns:
        kind = table["kind"].astype(str).to_numpy()
    else:
        name = table["name"].astype(str)
        kind = np.where(name.str.endswith("区"), "district", np.where(name.str.endswith("市"), "city", "county"))
    return _Posts(
        id=table["post_id"].to_numpy(str),
        lon=lonlat["lon"].to_numpy(float),
        lat=lonlat["lat"].to_numpy(float),
        capacity=capacity.to_numpy(np.int64),
        level=table["min_rank"].map(RANK_LEVEL).to_numpy(np.int64),
        kind=kind,
        province=prov,
        pref=pref,
        pref_code=pref_code[pref_start],
        pref_start=pref_start,
        prov_code=prov[prov_start],
        prov_start=prov_start,
    )


def _code_column(table: pd.DataFrame, column: str, derived: np.ndarray) -> np.ndarray:
    if column not in table.columns:
        return derived
    given = table[column]
    return np.where(given.notna().to_numpy(), given.astype(str).to_numpy(), derived)


def _read_universities(universities: pd.DataFrame, only: list[str] | None) -> _Universities:
    _missing(universities, "universities", UNIVERSITY_COLUMNS)
    table = universities.assign(university_id=universities["university_id"].astype(str))
    problems = []
    if table["university_id"].duplicated().any():
        problems.append("duplicate university_id")
    if only is not None:
        unknown = sorted(set(only) - set(table["university_id"]))
        if unknown:
            problems.append(f"config.universities names unknown ids {unknown}")
        table = table[table["university_id"].isin(only)]
    if len(table) == 0:
        problems.append("no university selected")
    size = pd.to_numeric(table["size"], errors="coerce")
    if size.isna().any() or (size <= 0).any():
        problems.append("size must be a positive number")
    lonlat = table[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    if lonlat.isna().any().any():
        problems.append("lon and lat must be numbers")
    if problems:
        raise ValueError("universities: " + "; ".join(problems))
    adcode = table["adcode"].astype(str).to_numpy()
    return _Universities(
        id=table["university_id"].to_numpy(str),
        size=size.to_numpy(float),
        lon=lonlat["lon"].to_numpy(float),
        lat=lonlat["lat"].to_numpy(float),
        prefecture=_code_column(table, "prefecture", prefecture_of(adcode)),
        province=_code_column(table, "province", province_of(adcode)),
    )


def _largest_remainder(exact: np.ndarray, total: int) -> np.ndarray:
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: total - counts.sum()]] += 1
    return counts


def _quotas(size: np.ndarray, n: int) -> np.ndarray:
    exact = n * size / size.sum()
    rounded = _largest_remainder(exact, n)
    quota = rounded.copy()
    if n >= len(quota):
        short = quota == 0
        quota[short] = 1
        for _ in range(int(short.sum())):
            donors = quota >= 2
            untouched = donors & (quota == rounded)  # take one from each before a second from any
            pool = untouched if untouched.any() else donors
            quota[np.argmax(np.where(pool, quota - exact, -np.inf))] -= 1
    return quota


def _race(rng: np.random.Generator, weight: np.ndarray) -> np.ndarray:
    """Exponential-race keys: positive for items of positive weight, 0 for the others."""
    return weight / (rng.standard_exponential(weight.shape) + np.finfo(float).tiny)  # tiny: never 0/0


def _draw(rng: np.random.Generator, weight: np.ndarray) -> np.ndarray:
    """One column per row, drawn with probability proportional to the row's weights."""
    cum = np.cumsum(weight, 1)
    below = (cum <= rng.random((len(weight), 1)) * cum[:, -1:]).sum(1)
    return np.minimum(below, cum.argmax(1))  # argmax: the last item of positive weight, against rounding


def _top(keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest keys, largest first (k is small)."""
    keys = keys.copy()
    rows = np.arange(len(keys))
    top = np.empty((len(keys), k), np.int64)
    for j in range(k):
        top[:, j] = keys.argmax(1)
        keys[rows, top[:, j]] = -np.inf
    return top


def _softmax_weights(logw: np.ndarray) -> np.ndarray:
    """exp(logw) scaled so that each row's largest is 1: no underflow at any distance scale."""
    top = logw.max(1, keepdims=True)
    return np.exp(logw - np.where(np.isfinite(top), top, 0.0))


def _fillable(cadre_province, cadre_level, volunteer, post_province, posts: _Posts) -> int:
    """Most places the pool can fill at once under the rank and cross-province rules."""
    cadre_types, n_of_type = np.unique(np.c_[cadre_province, cadre_level, volunteer], axis=0, return_counts=True)
    post_types, post_type = np.unique(np.c_[post_province, posts.level], axis=0, return_inverse=True)
    places = np.bincount(post_type.ravel(), weights=posts.capacity).astype(np.int64)
    a, b = len(cadre_types), len(post_types)
    fits = (cadre_types[:, None, 1] >= post_types[None, :, 1]) & (
        (cadre_types[:, None, 0] == post_types[None, :, 0]) | (cadre_types[:, None, 2] == 1)
    )
    ci, pi = np.nonzero(fits)
    source, sink = 0, a + b + 1
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate([np.zeros(a, np.int64), 1 + ci, 1 + a + np.arange(b)]),
        np.concatenate([1 + np.arange(a), 1 + a + pi, np.full(b, sink)]),
        np.concatenate([n_of_type, np.full(len(ci), n_of_type.sum()), places]).astype(np.int64),
    )
    flow.solve(source, sink)
    return int(flow.optimal_flow())


def _check_feasible(level, volunteer, cadre_province, post_province, posts: _Posts, cross_capacity: int) -> None:
    need = min(len(level), int(posts.capacity.sum()))
    filled = _fillable(cadre_province, level, volunteer, post_province, posts)
    if filled >= need:
        return
    reasons = []
    for rank in RANKS[1:]:
        places = int(posts.capacity[posts.level >= RANK_LEVEL[rank]].sum())
        holders = int((level >= RANK_LEVEL[rank]).sum())
        if holders < min(places, need):
            reasons.append(
                f"posts needing rank >= {rank} offer {places} places but only {holders} cadres hold such a rank"
                " (raise rank_counts or rank_shares)"
            )
    if volunteer.sum() < min(cross_capacity, need):
        reasons.append(
            f"posts outside the universities' provinces offer {cross_capacity} places but only"
            f" {int(volunteer.sum())} cadres volunteer (raise volunteer_share or min_volunteers)"
        )
    detail = "; ".join(reasons) or "the cadres' ranks and volunteer flags do not fit the posts' min_rank and provinces"
    raise ValueError(f"infeasible pool: it can fill only {filled} of the {need} places it should fill: {detail}")


def _ranks(rng, config: SynthConfig, size: np.ndarray, cadre_uni: np.ndarray) -> np.ndarray:
    """Each cadre's RANK_LEVEL; within a university, senior cadres come first."""
    n = len(cadre_uni)
    if config.rank_counts is not None:
        counts = np.array([config.rank_counts[r] for r in RANKS], np.int64)
    else:
        counts = _largest_remainder(np.array([config.rank_shares[r] for r in RANKS]) * n, n)
    priority = config.rank_size_bias * np.log(size[cadre_uni]) + rng.gumbel(size=n)
    level = np.empty(n, np.int64)
    level[np.argsort(-priority, kind="stable")] = np.repeat(np.arange(len(RANKS))[::-1], counts[::-1])
    return level[np.lexsort((-level, cadre_uni))]


def _volunteers(rng, config: SynthConfig, level: np.ndarray, cross_capacity: int) -> np.ndarray:
    n = len(level)
    required = cross_capacity if config.min_volunteers is None else config.min_volunteers
    volunteer = (level == RANK_LEVEL["staff"]) & config.staff_only_volunteers
    n_volunteers = max(int(np.floor(config.volunteer_share * n + 0.5)), required, int(volunteer.sum()))
    if n_volunteers > n:
        raise ValueError(
            f"{n_volunteers} volunteers are required but n_cadres is only {n} (min_volunteers defaults to the"
            " capacity of the posts outside the universities' provinces)"
        )
    volunteer[rng.choice(np.flatnonzero(~volunteer), n_volunteers - volunteer.sum(), replace=False)] = True
    return volunteer


def generate(
    posts: pd.DataFrame, universities: pd.DataFrame, config: SynthConfig, seed: int
) -> dict[str, pd.DataFrame]:
    """A synthetic cadre pool for these posts: keys cadres, preferences, partnerships, history."""
    rng = np.random.default_rng(seed)
    pst = _read_posts(posts)
    uni = _read_universities(universities, config.universities)
    n = config.n_cadres
    # provinces as integers, shared by posts and universities, for fast comparisons
    _, province = np.unique(np.concatenate([pst.province, uni.province]), return_inverse=True)
    post_province, uni_province = province[: len(pst.id)], province[len(pst.id):]

    quota = _quotas(uni.size, n)
    cadre_uni = np.repeat(np.arange(len(uni.id)), quota)

    level = _ranks(rng, config, uni.size, cadre_uni)
    cross_capacity = int(pst.capacity[~np.isin(post_province, uni_province)].sum())
    volunteer = _volunteers(rng, config, level, cross_capacity)
    _check_feasible(level, volunteer, uni_province[cadre_uni], post_province, pst, cross_capacity)

    within = np.arange(n) - np.repeat(np.cumsum(quota) - quota, quota)
    width = max(2, len(str(quota.max())))
    cadre_id = np.char.add(np.char.add(uni.id[cadre_uni], "-"), np.char.zfill((within + 1).astype(str), width))

    dist = haversine_km(uni.lon[:, None], uni.lat[:, None], pst.lon[None, :], pst.lat[None, :])
    home, home_pref = _homes(rng, config, pst, uni, cadre_uni)
    cadres = pd.DataFrame(
        {
            "cadre_id": cadre_id,
            "university_id": uni.id[cadre_uni],
            "rank": np.array(RANKS)[level],
            "cross_province_ok": volunteer,
            "home_prefecture": home,
            "skills": _skills(rng, n, config.two_skills_share),
        },
        columns=CADRE_COLUMNS,
    )
    partnerships, partner = _partnerships(rng, config, pst, uni, dist)
    cadre = _Cadres(cadre_id, cadre_uni, level, volunteer, home_pref)
    preferences = _wishes(rng, config, pst, post_province, uni_province, cadre, dist, partner)
    history = _history(rng, config, pst, uni, quota, dist)
    return {"cadres": cadres, "preferences": preferences, "partnerships": partnerships, "history": history}


def _homes(rng, config: SynthConfig, pst: _Posts, uni: _Universities, cadre_uni: np.ndarray):
    """Each cadre's home prefecture code, and its index among the posts' prefectures (-1 if none)."""
    counts = np.diff(np.r_[pst.pref_start, len(pst.id)])
    extra = pd.DataFrame({"code": uni.prefecture, "province": uni.province, "lon": uni.lon, "lat": uni.lat})
    extra = extra[~extra["code"].isin(pst.pref_code)].groupby("code", sort=True).agg(
        province=("province", "first"), lon=("lon", "mean"), lat=("lat", "mean")
    )
    code = np.concatenate([pst.pref_code, extra.index.to_numpy(str)])
    province = np.concatenate([pst.province[pst.pref_start], extra["province"].to_numpy(str)])
    lon = np.concatenate([np.add.reduceat(pst.lon, pst.pref_start) / counts, extra["lon"].to_numpy(float)])
    lat = np.concatenate([np.add.reduceat(pst.lat, pst.pref_start) / counts, extra["lat"].to_numpy(float)])
    d = haversine_km(uni.lon[:, None], uni.lat[:, None], lon[None, :], lat[None, :])
    with np.errstate(divide="ignore"):
        other = np.log(config.home_other_province_weight)
    logw = (
        -d / config.home_scale_km
        + np.log(config.home_own_prefecture_weight) * (code[None, :] == uni.prefecture[:, None])
        + np.where(province[None, :] != uni.province[:, None], other, 0.0)
    )
    h = _draw(rng, _softmax_weights(logw)[cadre_uni])
    return code[h], np.where(h < len(pst.pref_code), h, -1)


def _skills(rng, n: int, two_share: float) -> list[str]:
    pick = np.argsort(rng.random((n, len(SKILLS))), axis=1)[:, :2]
    two = rng.random(n) < two_share
    rows = zip(pick.tolist(), two.tolist(), strict=True)
    return [";".join(SKILLS[s] for s in sorted(row[: 1 + t])) for row, t in rows]


def _partnerships(rng, config: SynthConfig, pst: _Posts, uni: _Universities, dist: np.ndarray):
    """The partnerships table, and for each university which posts a partnership covers."""
    n_posts = len(pst.id)
    own = pst.pref_code[pst.pref][None, :] == uni.prefecture[:, None]
    w = _softmax_weights(-dist / config.distance_scale_km + np.log(config.partnership_own_prefecture_weight) * own)
    share = config.partnership_prefecture_share
    weight = np.concatenate([(1 - share) * w, share * np.add.reduceat(w, pst.pref_start, 1)], 1)
    count = np.minimum(rng.poisson(config.partnerships_per_university, len(uni.id)), (weight > 0).sum(1))
    order = _top(_race(rng, weight), int(count.max()))
    ui, slot = np.nonzero(np.arange(order.shape[1])[None, :] < count[:, None])
    target = order[ui, slot]
    table = pd.DataFrame(
        {"university_id": uni.id[ui], "target": np.concatenate([pst.id, pst.pref_code])[target]},
        columns=PARTNERSHIP_COLUMNS,
    )
    chosen = np.zeros(weight.shape, bool)
    chosen[ui, target] = True
    return table, chosen[:, :n_posts] | chosen[:, n_posts:][:, pst.pref]


def _wishes(
    rng,
    config: SynthConfig,
    pst: _Posts,
    post_province: np.ndarray,
    uni_province: np.ndarray,
    cad: _Cadres,
    dist: np.ndarray,
    partner: np.ndarray,
) -> pd.DataFrame:
    n = len(cad.id)
    target_id = np.concatenate([pst.id, pst.pref_code, pst.prov_code])
    target_province = np.concatenate([post_province, post_province[pst.pref_start], post_province[pst.prov_start]])
    share = np.array([config.target_level_shares[lv] for lv in LEVELS])
    kind_log = np.log([config.kind_weights.get(k, 1.0) for k in pst.kind])
    n_wishes = rng.integers(config.wishes_min, config.wishes_max + 1, size=n)
    forced = cad.volunteer & (rng.random(n) < config.volunteer_cross_wish_prob)
    position = rng.random(n)
    parts = []
    for a in range(0, n, _CHUNK):
        rows = slice(a, min(a + _CHUNK, n))
        u, level, vol = cad.uni[rows], cad.level[rows, None], cad.volunteer[rows, None]
        own_province = uni_province[u][:, None]
        allowed = (pst.level <= level) & ((post_province == own_province) | vol)
        logw = (
            -dist[u] / config.distance_scale_km
            + kind_log
            + np.log(config.partnership_wish_weight) * partner[u]
            + np.log(config.home_wish_weight) * (pst.pref == cad.home_pref[rows, None])
            + np.log(config.rank_match_wish_weight) * (pst.level == level)
        )
        w = _softmax_weights(np.where(allowed, logw, -np.inf))
        by_pref, by_prov = np.add.reduceat(w, pst.pref_start, 1), np.add.reduceat(w, pst.prov_start, 1)
        weight = np.concatenate([share[0] * w, share[1] * by_pref, share[2] * by_prov], 1)
        available = (weight > 0).sum(1)
        if (available < config.wishes_min).any():
            i = a + int(np.argmax(available < config.wishes_min))
            raise ValueError(
                f"cadre {cad.id[i]} (rank {RANKS[cad.level[i]]}, volunteer {bool(cad.volunteer[i])}) can wish for"
                f" only {available[i - a]} targets, fewer than wishes_min={config.wishes_min}"
            )
        k = np.minimum(n_wishes[rows], available)
        keys = _race(rng, weight)
        # the forced cross-province wish is drawn first, then kept out of the ordinary draw
        cross_keys = np.where(target_province != own_province, keys, -np.inf)
        pick = cross_keys.argmax(1)
        force = forced[rows] & (cross_keys[np.arange(len(keys)), pick] > 0)
        fi = np.flatnonzero(force)
        keys[fi, pick[fi]] = -np.inf
        order = _top(keys, config.wishes_max)
        slot = np.arange(config.wishes_max)[None, :]
        pos = (position[rows] * k).astype(np.int64)[:, None]
        chosen = np.take_along_axis(order, slot - (force[:, None] & (slot > pos)), 1)
        chosen[fi, pos[fi, 0]] = pick[fi]
        ri, si = np.nonzero(slot < k[:, None])
        parts.append((cad.id[a + ri], si + 1, target_id[chosen[ri, si]]))
    cadre_id, choice, target = (np.concatenate(p) for p in zip(*parts, strict=True))
    return pd.DataFrame({"cadre_id": cadre_id, "choice": choice, "target": target}, columns=PREFERENCE_COLUMNS)


def _history(rng, config: SynthConfig, pst: _Posts, uni: _Universities, quota: np.ndarray, dist: np.ndarray):
    batches = config.history_batches
    with np.errstate(divide="ignore"):
        w = _softmax_weights(np.log(quota)[None, :] - dist.T / config.distance_scale_km)
    holders: list[np.ndarray] = []
    for _ in range(batches):
        holder = _draw(rng, w)
        if holders:  # relay: the previous holder stays with probability history_relay_share
            holder = np.where(rng.random(len(pst.id)) < config.history_relay_share, holders[-1], holder)
        holders.append(holder)
    holder = np.concatenate(holders) if holders else np.empty(0, np.int64)
    return pd.DataFrame(
        {
            "batch": np.repeat(np.arange(1, batches + 1, dtype=np.int64), len(pst.id)),
            "university_id": uni.id[holder],
            "post_id": np.tile(pst.id, batches),
        },
        columns=HISTORY_COLUMNS,
    )
