"""``generate``: a cadre pool drawn for given posts and universities, and the seeded draws it is made of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..factors.local_needs import NAMES
from ..factors.preferences import containing_areas
from ..geo import haversine_km
from ..ranks import RANK_LEVEL, RANKS
from .config import LEVELS, SynthConfig
from .inputs import _Posts, _read_posts, _read_universities, _Universities

SKILLS: tuple[str, ...] = NAMES  # the local_needs vocabulary, so that skills can meet the posts' needs

CADRE_COLUMNS = ["cadre_id", "university_id", "rank", "cross_province_ok", "home_prefecture", "skills"]
PREFERENCE_COLUMNS = ["cadre_id", "choice", "target"]
PARTNERSHIP_COLUMNS = ["university_id", "target"]
HISTORY_COLUMNS = ["batch", "university_id", "post_id"]

_CHUNK = 512  # cadres per block of wish weights: bounds memory at national size


@dataclass(frozen=True)
class _Cadres:
    """Cadres in table order, grouped by university."""

    id: np.ndarray
    uni: np.ndarray
    level: np.ndarray
    volunteer: np.ndarray
    home_pref: np.ndarray  # index into the posts' prefectures, -1 when home has no post


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
    from ortools.graph.python import max_flow  # ortools is heavy: loaded when a pool is drawn, not with SynthConfig

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
    if config.specific_wishes_first:
        preferences = _specific_first(preferences, pst)
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


def _specific_first(prefs: pd.DataFrame, pst: _Posts) -> pd.DataFrame:
    """Each cadre's wishes reordered so that none lies inside an earlier one; the same targets, renumbered.

    A wish moves up to the place of the earliest wish whose area holds it, and
    there the more specific goes first: a post, then its prefecture, then its province.
    """
    posts = pd.DataFrame({"post_id": pst.id, "prefecture": pst.pref_code[pst.pref], "province": pst.province})
    areas = containing_areas(prefs["target"].to_numpy(str), posts)
    rows = np.arange(len(prefs))
    holders = pd.DataFrame(
        {"row": np.tile(rows, 3), "cadre_id": np.tile(prefs["cadre_id"].to_numpy(str), 3), "target": areas.ravel()}
    ).dropna()
    earliest = holders.merge(prefs, on=["cadre_id", "target"]).groupby("row")["choice"].min().reindex(rows).to_numpy()
    breadth = (areas == None).sum(0)  # noqa: E711 - elementwise: 0 for a post, 1 for a prefecture, 2 for a province
    cadre_order = pd.factorize(prefs["cadre_id"])[0]
    order = np.lexsort((prefs["choice"].to_numpy(), breadth, earliest, cadre_order))
    out = prefs.iloc[order].reset_index(drop=True)
    out["choice"] = out.groupby("cadre_id", sort=False).cumcount().to_numpy() + 1
    return out


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
