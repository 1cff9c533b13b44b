"""Scores a finished allocation from the inputs alone, with no solver.

``allocation_table`` is how the engine writes ``allocation.csv``, and how
``check`` recomputes it: the same factor formulas applied to the assigned pairs only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .factors import FACTORS
from .instance import Instance, PairTable
from .scenario import Scenario
from .schema import Policy

DESCRIPTIVE = ["choice", "distance_km", "partnership", "relay", "annual_cost_yuan", "rank_excess", "needs_listed", "needs_met"]


def factor_params(policy: Policy) -> dict:
    """Params for every registered factor: the policy's, or defaults with weight 0."""
    active = policy.active_factors()
    return {name: active.get(name) or factor.Params(weight=0.0) for name, factor in FACTORS.items()}


def posts_of(pairs: PairTable, chosen: np.ndarray) -> np.ndarray:
    """Post index per cadre (-1 when unplaced) from a 0/1 vector over the pairs."""
    post_of_cadre = np.full(pairs.instance.n_cadres, -1, np.int64)
    picked = np.flatnonzero(chosen > 0)
    post_of_cadre[pairs.cadre[picked]] = pairs.post[picked]
    return post_of_cadre


def assigned_pairs(instance: Instance, post_of_cadre: np.ndarray) -> PairTable:
    placed = np.flatnonzero(post_of_cadre >= 0)
    return instance.pairs(placed, post_of_cadre[placed])


def allocation_table(instance: Instance, policy: Policy, post_of_cadre: np.ndarray) -> pd.DataFrame:
    """One row per cadre: where they go, the descriptive columns, and each factor's points."""
    params = factor_params(policy)
    pairs = assigned_pairs(instance, post_of_cadre)
    placed = pairs.cadre
    tables = instance.tables
    cadres = tables["cadres"]
    posts = tables["posts"]
    table = pd.DataFrame(
        {
            "cadre_id": cadres["cadre_id"].to_numpy(str),
            "university_id": cadres["university_id"].to_numpy(str),
            "rank": cadres["rank"].to_numpy(str),
            "cross_province_ok": cadres["cross_province_ok"].to_numpy(bool),
        }
    )
    post_columns = {
        "post_id": "post_id",
        "adcode": "adcode",
        "post_name": "name",
        "prefecture": "prefecture",
        "province": "province",
        "min_rank": "min_rank",
    }
    for out, source in post_columns.items():
        column = np.full(instance.n_cadres, "", dtype=object)
        column[placed] = posts[source].to_numpy(str)[pairs.post]
        table[out] = column

    for name, factor in FACTORS.items():
        for column_name, values in factor.columns(pairs, params[name]).items():
            full = pd.array([pd.NA] * instance.n_cadres, dtype=_dtype(values))
            full[placed] = values
            table[column_name] = full
    if "choice" in table:
        table["choice"] = table["choice"].where(table["choice"] != 0, pd.NA)

    total = np.zeros(instance.n_cadres)
    for name, factor in FACTORS.items():
        points = np.zeros(instance.n_cadres)
        weight = params[name].weight
        if weight:
            points[placed] = weight * factor.scores(pairs, params[name]) + 0.0  # no negative zeros
        table[f"score_{name}"] = points
        total += points
    table["score_total"] = total
    return table


def _dtype(values: np.ndarray) -> str:
    if np.issubdtype(values.dtype, np.floating):
        return "Float64"
    return "Int64"


def factor_totals(table: pd.DataFrame) -> dict[str, float]:
    return {name: float(table[f"score_{name}"].sum()) for name in FACTORS}


def metrics(instance: Instance, policy: Policy, table: pd.DataFrame) -> dict[str, float | int | None]:
    """Assigned count and every factor's summary metrics."""
    params = factor_params(policy)
    assigned = table["post_id"].to_numpy(str) != ""
    columns = {c: table[c].to_numpy(dtype=float, na_value=0) for c in DESCRIPTIVE if c in table}
    result: dict[str, float | int | None] = {"assigned": int(assigned.sum()), "unassigned": int((~assigned).sum())}
    for factor in FACTORS.values():
        result.update(factor.metrics(columns, assigned))
    relay = FACTORS["relay"]
    uni, post = relay.open_targets(instance, params["relay"])
    kept = _relay_kept(instance, table, uni, post)
    result["relay_targets"] = int(len(uni))
    result["relay_kept"] = int(kept.sum())
    result["relay_share"] = float(kept.mean()) if len(uni) else None
    return result


def _relay_kept(instance: Instance, table: pd.DataFrame, uni: np.ndarray, post: np.ndarray) -> np.ndarray:
    """For each relay target (university, post): does a cadre of that university hold it now?"""
    post_of_cadre = instance.post_index(table["post_id"].to_numpy(str))
    placed = post_of_cadre >= 0
    held = np.unique(instance.cadre_university[placed].astype(np.int64) * instance.n_posts + post_of_cadre[placed])
    return np.isin(uni * instance.n_posts + post, held)


def relay_lost(instance: Instance, policy: Policy, table: pd.DataFrame, allowed: PairTable) -> list[dict]:
    """Relay targets not kept, each with the reason the allocation could not keep it."""
    params = factor_params(policy)["relay"]
    uni, post = FACTORS["relay"].open_targets(instance, params)
    n_universities = len(instance.university_id)
    sending = np.bincount(instance.cadre_university, minlength=n_universities)
    targets_per_uni = np.bincount(uni, minlength=n_universities)
    lost = ~_relay_kept(instance, table, uni, post)
    uni, post = uni[lost].astype(np.int64), post[lost]
    closed = ~np.isin(uni * instance.n_posts + post, allowed.university.astype(np.int64) * instance.n_posts + allowed.post)
    universities, post_ids = instance.university_id[uni].tolist(), instance.post_id[post].tolist()
    sent, targets = sending[uni], targets_per_uni[uni]
    facts = zip(universities, post_ids, closed.tolist(), (sent < targets).tolist(), sent.tolist(), targets.tolist())
    reasons = [_relay_lost_reason(*fact) for fact in facts]
    return [{"university_id": u, "post_id": p, "reason": r} for u, p, r in zip(universities, post_ids, reasons)]


def _relay_lost_reason(university: str, post_id: str, closed: bool, outnumbered: bool, sent: int, targets: int) -> str:
    if closed:
        return f"no cadre of {university} may take {post_id} under the hard rules (rank, volunteers, pins)"
    if outnumbered:
        return f"{university} sends {sent} cadre(s) for {targets} relay posts"
    return "keeping it would cost another relay posting or break a hard rule (the maximum is kept)"


def raw_totals(scenario: Scenario, policy: Policy, post_of_cadre: np.ndarray) -> dict[str, float]:
    """Each factor's unweighted score summed over the assigned cadres, in the factor's unit."""
    pairs = assigned_pairs(scenario.instance, post_of_cadre)
    params = factor_params(policy)
    return {f"raw_{name}": float(factor.scores(pairs, params[name]).sum()) for name, factor in FACTORS.items()}
