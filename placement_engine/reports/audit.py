"""Fairness and stability of an allocation, and the rule that forbids improving swaps.

- **Improving swap**: cadres c1 at p1 and c2 at p2 who would both meet a better
  wish by exchanging posts (a post that meets no wish is worse than any wish),
  where the pair rules allow (c1, p2) and (c2, p1), the exchange keeps as many
  relay postings (relay as a rule) and every side row (budgets, ...) still holds.
- **Justified envy**: a cadre c who would meet a better wish at another cadre
  d's post p, may take p under the pair rules, and scores at least as many
  points at p as d on the post's side factors (relay + partnership + rank fit,
  weighted as in the policy).
- **Wish statistics per university**: shares of first and top-3 wishes, mean
  wish points, and how far each university's mean is from the overall one in
  standard errors; below -2 counts as systematically worse off.

``rules.forbid_improving_swaps`` makes "no improving swap" a hard rule. It is
enforced lazily: solve, add ``x[c1, p1] + x[c2, p2] <= 1`` for every swap of
the optimum that the pair rules and relay allow, and solve again until there is
none. Budgets are not consulted, because whether a budget blocks an exchange
depends on the rest of the allocation: the rule forbids such an exchange too,
so an allocation that meets it has no improving swap in the sense above.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import io
from ..rules.candidates import _expand, allowed_pairs
from ..solve.diagnosis import diagnose, infeasible
from ..solve.feasibility import assignment_feasible
from ..errors import InfeasibleError, InputError, Problem
from ..factors import FACTORS, SideConstraints
from ..evaluate import assigned_pairs, posts_of
from ..instance import pair_lookup
from ..solve.model import Solution, Terms, build_terms, solve_terms
from ..schema import TABLES, Policy

SIDE_FACTORS = ("relay", "partnership", "rank_fit")
SWAP_RULE = "forbid_improving_swaps"
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
    """Audit a solve output folder from its files alone (``inputs/`` and ``allocation.csv``)."""
    out = Path(out_dir)
    needed = [out / "allocation.csv", out / "inputs" / "policy.yaml"]
    missing = [path for path in needed if not path.is_file()]
    if missing:
        raise InputError([Problem(str(p.relative_to(out)), "", "a file written by solve", "no such file") for p in missing])
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
    state = _State(terms, post_of_cadre)
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
        f"{r.cadre_a} ({r.post_a}, {_wish(r.wish_a_now)}) and {r.cadre_b} ({r.post_b}, {_wish(r.wish_b_now)}) would "
        f"both gain by exchanging posts: {r.cadre_a} would meet wish {r.wish_a_after}, {r.cadre_b} wish {r.wish_b_after}"
        for r in swap_table.itertuples()
    ]
    envy = _envy(state)
    universities, spread = _university_stats(state, policy, swap_table, envy)
    return Audit(swap_table, envy, universities, spread)


class _State:
    """Wish numbers over the allowed pairs and who holds what."""

    def __init__(self, terms: Terms, post_of_cadre: np.ndarray):
        pairs = terms.pairs
        inst = pairs.instance
        self.terms, self.pairs, self.post_of_cadre = terms, pairs, post_of_cadre
        self.keys = pairs.keys(inst.n_posts, pairs.post)
        self.choice = FACTORS["preferences"].matched_choice(pairs)
        placed = post_of_cadre >= 0
        self.own = np.full(inst.n_cadres, -1, np.int64)  # the cadre's pair among the allowed ones
        self.own[placed] = self.lookup(np.flatnonzero(placed), post_of_cadre[placed])
        self.own_choice = np.zeros(inst.n_cadres, np.int64)  # wish met now, 0 for none or unplaced
        self.own_choice[placed] = FACTORS["preferences"].matched_choice(assigned_pairs(inst, post_of_cadre))
        mine = self.own_choice[pairs.cadre]
        # the cadre would meet a better wish at this pair's post than at its own
        self.prefer = (self.choice > 0) & ((mine == 0) | (self.choice < mine)) & (pairs.post != post_of_cadre[pairs.cadre])
        holders = np.flatnonzero(self.own >= 0)
        order = np.argsort(post_of_cadre[holders], kind="stable")
        self.holder, self.held_post = holders[order], post_of_cadre[holders][order]

    def lookup(self, cadre: np.ndarray, post: np.ndarray) -> np.ndarray:
        """Index of each (cadre, post) among the allowed pairs, -1 where not allowed."""
        query = np.asarray(cadre, np.int64) * self.pairs.instance.n_posts + post
        return pair_lookup(query, self.keys, np.arange(len(self.keys)), -1)

    def holders_of(self, pair_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which, holder): every cadre holding the post of each given pair."""
        return _expand(self.held_post, self.holder, self.pairs.post[pair_index])


def improving_swaps(state: _State) -> dict[str, np.ndarray]:
    """Swaps both cadres prefer, the pair rules allow and relay as a rule keeps (side rows unchecked)."""
    pairs = state.pairs
    wanted = np.flatnonzero(state.prefer & (state.own[pairs.cadre] >= 0))
    which, c2 = state.holders_of(wanted)
    a12 = wanted[which]
    c1 = pairs.cadre[a12].astype(np.int64)
    a21 = state.lookup(c2, state.post_of_cadre[c1])
    ok = (c1 < c2) & (a21 >= 0)
    ok[ok] &= state.prefer[a21[ok]]
    swaps = {"c1": c1[ok], "c2": c2[ok], "a12": a12[ok], "a21": a21[ok]}
    swaps["a11"], swaps["a22"] = state.own[swaps["c1"]], state.own[swaps["c2"]]
    for lex in state.terms.lexicographic:
        ind = lex.indicator
        keeps = ind[swaps["a12"]] + ind[swaps["a21"]] >= ind[swaps["a11"]] + ind[swaps["a22"]]
        swaps = {key: value[keeps] for key, value in swaps.items()}
    return swaps


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
        which, entry = _expand(rows.pair[order], order, query)
        key, inverse = np.unique(swap_id[which] * n_rows + rows.row[entry], return_inverse=True)
        delta = np.bincount(inverse, weights=sign[which] * rows.coef[entry], minlength=len(key))
        row = key % n_rows
        broken = rows.lhs(chosen)[row] + delta > rows.rhs[row] + 1e-9
        ok[np.unique(key[broken] // n_rows)] = False
    return ok


def _envy(state: _State) -> pd.DataFrame:
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
        f"{r.cadre} ({r.post or 'unplaced'}, {_wish(r.wish_now)}) ranks {r.envied}'s post {r.envied_post} as wish "
        f"{r.wish_there} and scores {r.side_points:.1f} side points there against {r.envied_side_points:.1f}"
        for r in table.itertuples()
    ]
    return table


def _university_stats(state: _State, policy: Policy, swaps: pd.DataFrame, envy: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
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


def _wish(number: int) -> str:
    return f"wish {number}" if number else "no wish"


# ---- the swap-free rule ----------------------------------------------------------------------


def solve_under_rules(
    terms: Terms,
    policy: Policy,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: Callable[[str], None] | None = None,
) -> tuple[Terms, Solution, dict[str, Any] | None]:
    """``solve_terms``; under ``rules.forbid_improving_swaps``, also the lazy swap rows until none is left.

    Returns the terms with the swap rows added, the solution, and what the rule cost.
    An infeasible model raises ``InfeasibleError`` carrying the diagnosis.
    """
    start = time.perf_counter()
    solver = dict(workers=workers, seed=seed)
    try:
        # CP-SAT would prove a counting conflict slowly; one flow finds it first.
        if (terms.has_side_constraints or policy.solver.method == "cpsat") and not assignment_feasible(terms.pairs, policy):
            raise InfeasibleError("the pair rules, capacities and place/fill rules admit no allocation")
        solution = solve_terms(terms, policy, time_limit=time_limit, log=log, **solver)
        if not policy.rules.forbid_improving_swaps:
            return terms, solution, None
        first = solution
        rounds = 0
        while True:
            swaps = improving_swaps(_State(terms, posts_of(terms.pairs, solution.chosen)))
            if not len(swaps["c1"]):
                break
            if solution.interrupted:
                raise KeyboardInterrupt  # no allocation found so far meets the rule
            terms = _with_swap_rows(terms, swaps)
            rounds += 1
            remaining = max(0.1, time_limit - (time.perf_counter() - start))
            solution = solve_terms(terms, policy, time_limit=remaining, log=log, **solver)
    except InfeasibleError:
        diagnosis = diagnose(terms.pairs.instance, policy, pairs=terms.pairs, terms=terms, time_limit=time_limit, **solver)
        raise infeasible(diagnosis) from None
    without = float(terms.total[first.chosen > 0].sum())
    with_rule = float(terms.total[solution.chosen > 0].sum())
    return terms, solution, {
        "rounds": rounds,
        "rows": len(terms.side[SWAP_RULE].labels) if SWAP_RULE in terms.side else 0,
        "objective_without_rule": without,
        "status_without_rule": first.status,
        "objective": with_rule,
        "cost": without - with_rule,
    }


def _with_swap_rows(terms: Terms, swaps: dict[str, np.ndarray]) -> Terms:
    """``terms`` with ``x[c1, p1] + x[c2, p2] <= 1`` added for each swap."""
    inst = terms.pairs.instance
    pairs = terms.pairs
    n = len(swaps["c1"])
    labels = [
        f"no improving swap {a}@{p} / {b}@{q}"
        for a, p, b, q in zip(
            inst.cadre_id[swaps["c1"]], inst.post_id[pairs.post[swaps["a11"]]], inst.cadre_id[swaps["c2"]], inst.post_id[pairs.post[swaps["a22"]]]
        )
    ]
    new = SideConstraints(labels, np.ones(n, np.int64), np.repeat(np.arange(n), 2), np.column_stack([swaps["a11"], swaps["a22"]]).ravel(), np.ones(2 * n, np.int64), "cadres")
    old = terms.side.get(SWAP_RULE)
    if old is not None:
        offset = len(old.labels)
        new = SideConstraints(
            old.labels + labels,
            np.concatenate([old.rhs, new.rhs]),
            np.concatenate([old.row, new.row + offset]),
            np.concatenate([old.pair, new.pair]),
            np.concatenate([old.coef, new.coef]),
            "cadres",
        )
    return replace(terms, side={**terms.side, SWAP_RULE: new})
