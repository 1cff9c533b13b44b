"""Fairness and stability of an allocation.

- **Improving swap** (``rules/swap_free.py``): cadres c1 at p1 and c2 at p2 who
  would both meet a better wish by exchanging posts, where the pair rules allow
  it, the exchange keeps as many relay postings and every side row (budgets,
  ...) still holds.
- **Justified envy**: a cadre c who would meet a better wish at another cadre
  d's post p, may take p under the pair rules, and scores at least as many
  points at p as d on the post's side factors (relay + partnership + rank fit,
  weighted as in the policy).
- **Wish statistics per university**: shares of first and top-3 wishes, mean
  wish points, and how far each university's mean is from the overall one in
  standard errors; below -2 counts as systematically worse off.

``rules.forbid_improving_swaps`` makes "no improving swap" a hard rule; it
forbids every improving swap, whether or not a budget would allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..factors import FACTORS
from ..instance import expand_matches
from ..rules import allowed_pairs
from ..rules.swap_free import WishState, improving_swaps, wish_words
from ..schema import TABLES, Policy
from ..solve import Terms, build_terms

SIDE_FACTORS = ("relay", "partnership", "rank_fit")
WORSE_OFF_Z = -2.0
HEADLINE_NAMES = 6  # universities named on the terminal line


@dataclass
class Audit:
    swaps: pd.DataFrame  # one row per improving swap
    envy: pd.DataFrame  # one row per (envious cadre, envied cadre)
    universities: pd.DataFrame  # wish statistics, one row per university sending cadres
    spread: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The compact form for summary.json."""
        return {
            "improving_swaps": len(self.swaps),
            "swaps": self.swaps[["cadre_a", "post_a", "cadre_b", "post_b"]].to_dict("records"),
            "envy_pairs": len(self.envy),
            "envious_cadres": int(self.envy["cadre"].nunique()) if len(self.envy) else 0,
            "universities": self.spread,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "swaps": self.swaps.to_dict("records"),
            "envy": self.envy.to_dict("records"),
            "university_table": self.universities.to_dict("records"),
        }

    def write(self, out_dir: str | Path) -> None:
        """audit.json (everything) and audit.csv (the wish statistics per university)."""
        out = Path(out_dir)
        io.write_json(self.to_dict(), out / "audit.json")
        io.write_csv(self.universities, out / "audit.csv")

    def headline(self) -> str:
        summary = self.summary()
        names = list(self.spread["worse_off"])
        # a terminal line, not a report: audit.csv has them all
        worse = ", ".join(names[:HEADLINE_NAMES]) or "none"
        if len(names) > HEADLINE_NAMES:
            worse += f" and {len(names) - HEADLINE_NAMES} more (see audit.csv)"
        return (
            f"audit          {summary['improving_swaps']} improving swaps, {summary['envious_cadres']} cadres with "
            f"justified envy; universities worse off: {worse}"
        )

    def __str__(self) -> str:
        lines = [
            f"improving swaps: {len(self.swaps)}",
            *(f"  - {text}" for text in self.swaps["sentence"]),
            f"justified envy: {self.summary()['envious_cadres']} cadres, {len(self.envy)} pairs",
            *(f"  - {text}" for text in self.envy["sentence"].head(10)),
        ]
        if len(self.envy) > 10:
            lines.append(f"  ... and {len(self.envy) - 10} more (audit.json)")
        lines.append(_spread_text(self.spread))
        return "\n".join(lines)


def audit_output_dir(out_dir: str | Path) -> Audit:
    """Audit a solve output folder from its files alone (``inputs/`` and ``allocation.csv``);
    it is refused as ``check`` refuses it (``io.verified_solve_folder``)."""
    out = io.verified_solve_folder(out_dir)
    needed = [out / "allocation.csv", out / "inputs" / "policy.yaml"]
    tables = {name: io.read_csv(out / "inputs" / f"{name}.csv") for name in TABLES if (out / "inputs" / f"{name}.csv").is_file()}
    scenario = io.scenario_from_tables(tables, io.load_policy(needed[1]), name=out.name)
    inst = scenario.instance
    table = io.read_csv(needed[0])
    post_of_cadre = np.full(inst.n_cadres, -1, np.int64)
    post_of_cadre[inst.cadre_index(table["cadre_id"].astype(str))] = inst.post_index(table["post_id"].fillna("").astype(str))
    policy = scenario.policy
    return audit_terms(build_terms(allowed_pairs(inst, policy), policy), policy, post_of_cadre)


def audit_terms(terms: Terms, policy: Policy, post_of_cadre: np.ndarray) -> Audit:
    """Audit the allocation ``post_of_cadre`` over the allowed pairs and rows in ``terms``."""
    pairs = terms.pairs
    inst = pairs.instance
    state = WishState(terms, post_of_cadre)
    swaps = improving_swaps(state)
    chosen = np.zeros(len(pairs))
    chosen[state.own[state.own >= 0]] = 1
    swaps = {key: value[_side_rows_hold(terms, chosen, swaps)] for key, value in swaps.items()}
    swap_table = pd.DataFrame(
        {
            "cadre_a": inst.cadre_id[swaps["c1"]],
            "post_a": inst.post_id[pairs.post[swaps["a11"]]],
            "wish_a_now": state.choice[swaps["a11"]],
            "wish_a_after": state.choice[swaps["a12"]],
            "cadre_b": inst.cadre_id[swaps["c2"]],
            "post_b": inst.post_id[pairs.post[swaps["a22"]]],
            "wish_b_now": state.choice[swaps["a22"]],
            "wish_b_after": state.choice[swaps["a21"]],
        }
    )
    swap_table["sentence"] = [
        f"{r.cadre_a} ({r.post_a}, {wish_words(r.wish_a_now)}) and {r.cadre_b} ({r.post_b}, {wish_words(r.wish_b_now)}) would "
        f"both gain by exchanging posts: {r.cadre_a} would meet wish {r.wish_a_after}, {r.cadre_b} wish {r.wish_b_after}"
        for r in swap_table.itertuples()
    ]
    envy = _envy(state)
    universities, spread = _university_stats(state, policy, swap_table, envy)
    return Audit(swap_table, envy, universities, spread)


def _side_rows_hold(terms: Terms, chosen: np.ndarray, swaps: dict[str, np.ndarray]) -> np.ndarray:
    """Per swap: does every side row still hold after the exchange? (vectorised over swaps and rows)"""
    n = len(swaps["c1"])
    ok = np.ones(n, bool)
    query = np.concatenate([swaps["a12"], swaps["a21"], swaps["a11"], swaps["a22"]])
    sign = np.repeat([1.0, 1.0, -1.0, -1.0], n)
    swap_id = np.tile(np.arange(n), 4)
    for rows in terms.side.values():
        n_rows = len(rows.labels)
        if not n_rows or not n:
            continue
        order = np.argsort(rows.pair, kind="stable")
        which, entry = expand_matches(rows.pair[order], order, query)
        key, inverse = np.unique(swap_id[which] * n_rows + rows.row[entry], return_inverse=True)
        delta = np.bincount(inverse, weights=sign[which] * rows.coef[entry], minlength=len(key))
        row = key % n_rows
        broken = rows.lhs(chosen)[row] + delta > rows.rhs[row] + 1e-9
        ok[np.unique(key[broken] // n_rows)] = False
    return ok


def _envy(state: WishState) -> pd.DataFrame:
    pairs, terms = state.pairs, state.terms
    inst = pairs.instance
    side = sum((terms.weighted[name] for name in SIDE_FACTORS if name in terms.weighted), np.zeros(len(pairs)))
    wanted = np.flatnonzero(state.prefer)
    which, holder = state.holders_of(wanted)
    pair = wanted[which]
    theirs = state.own[holder]
    justified = side[pair] >= side[theirs] - 1e-9
    pair, holder, theirs = pair[justified], holder[justified], theirs[justified]
    cadre = pairs.cadre[pair]
    own = state.own[cadre]
    table = pd.DataFrame(
        {
            "cadre": inst.cadre_id[cadre],
            "post": np.where(own >= 0, inst.post_id[pairs.post[np.maximum(own, 0)]], ""),
            "wish_now": state.own_choice[cadre],
            "envied": inst.cadre_id[holder],
            "envied_post": inst.post_id[pairs.post[pair]],
            "wish_there": state.choice[pair],
            "side_points": side[pair],
            "envied_side_points": side[theirs],
        }
    )
    table["sentence"] = [
        f"{r.cadre} ({r.post or 'unplaced'}, {wish_words(r.wish_now)}) ranks {r.envied}'s post {r.envied_post} as wish "
        f"{r.wish_there} and scores {r.side_points:.1f} side points there against {r.envied_side_points:.1f}"
        for r in table.itertuples()
    ]
    return table


def _university_stats(state: WishState, policy: Policy, swaps: pd.DataFrame, envy: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    inst = state.pairs.instance
    params = policy.active_factors().get("preferences") or FACTORS["preferences"].Params()
    placed = state.post_of_cadre >= 0
    choice = state.own_choice
    values = np.asarray([0.0, *params.points])[np.minimum(choice, len(params.points))]
    frame = pd.DataFrame(
        {
            "university_id": inst.university_id[inst.cadre_university],
            "cadre_id": inst.cadre_id,
            "placed": placed,
            "first": placed & (choice == 1),
            "top3": placed & (choice >= 1) & (choice <= 3),
            "no_wish": placed & (choice == 0),
            "points": np.where(placed, values, np.nan),
        }
    )
    frame["in_swap"] = frame["cadre_id"].isin(np.concatenate([swaps["cadre_a"], swaps["cadre_b"]]))
    frame["envious"] = frame["cadre_id"].isin(envy["cadre"])
    table = frame.groupby("university_id", sort=True).agg(
        cadres=("cadre_id", "size"),
        placed=("placed", "sum"),
        first_choice=("first", "sum"),
        top3=("top3", "sum"),
        no_wish_met=("no_wish", "sum"),
        mean_wish_points=("points", "mean"),
        cadres_in_swaps=("in_swap", "sum"),
        envious_cadres=("envious", "sum"),
    )
    table["first_choice_share"] = table["first_choice"] / table["placed"].where(table["placed"] > 0)
    table["top3_share"] = table["top3"] / table["placed"].where(table["placed"] > 0)
    points = frame["points"].dropna()
    overall, sd = (float(points.mean()), float(points.std(ddof=0))) if len(points) else (0.0, 0.0)
    # how many standard errors the university's mean lies from the overall mean
    table["z"] = (table["mean_wish_points"] - overall) / (sd / np.sqrt(table["placed"].clip(lower=1))) if sd else 0.0
    table["worse_off"] = table["z"] < WORSE_OFF_Z
    table = table.reset_index()
    spread = {"overall_mean_wish_points": overall}
    for column in ("first_choice_share", "mean_wish_points"):
        known = table.dropna(subset=[column])
        if len(known):
            low, high = known.loc[known[column].idxmin()], known.loc[known[column].idxmax()]
            spread[column] = {
                "min": float(low[column]),
                "max": float(high[column]),
                "spread": float(high[column] - low[column]),
                "lowest": str(low["university_id"]),
                "highest": str(high["university_id"]),
            }
    spread["worse_off"] = table.loc[table["worse_off"], "university_id"].tolist()
    return table, spread


def _spread_text(spread: dict) -> str:
    lines = ["wish statistics per university:"]
    for column, label, fmt in (("first_choice_share", "first-choice share", "{:.0%}"), ("mean_wish_points", "mean wish points", "{:.1f}")):
        if column in spread:
            s = spread[column]
            lines.append(
                f"  {label} from {fmt.format(s['min'])} ({s['lowest']}) to {fmt.format(s['max'])} ({s['highest']}), "
                f"a spread of {fmt.format(s['spread'])}"
            )
    worse = spread["worse_off"]
    lines.append(
        f"  systematically worse off (mean wish points more than 2 standard errors below the overall "
        f"{spread['overall_mean_wish_points']:.1f}): {', '.join(worse) if worse else 'none'}"
    )
    return "\n".join(lines)
