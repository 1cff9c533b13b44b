"""Fairness and stability of an allocation.

- **Improving swap** (``rules/swap_free.py``): cadres c1 at p1 and c2 at p2 who
  would both meet a better wish by exchanging posts, where the pair rules allow
  it, the exchange keeps as many relay postings and every side row (budgets,
  ...) still holds.
- **Blocking pair** (``rules/stable.py``, docs/stability.md): a cadre c who would
  meet a better wish at a post p the pair rules allow, where p has an empty seat
  or ranks c strictly above one of its holders (the ``post_priorities`` table,
  else relay + partnership + rank fit points). Through a holder it is
  **justified envy**; through an empty seat, a wasted seat.
- **Wish statistics per university**: shares of first and top-3 wishes, mean
  wish points, and how far each university's mean is from the overall one in
  standard errors; below -2 counts as systematically worse off.

``rules.forbid_improving_swaps`` makes "no improving swap" a hard rule (it
forbids every improving swap, whether or not a budget would allow it), and
``rules.stable`` "no blocking pair".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..factors import FACTORS
from ..i18n import N_, _
from ..instance import expand_matches
from ..rules import allowed_pairs
from ..rules.stable import Blocking, blocking_pairs
from ..rules.swap_free import WishState, improving_swaps, swap_sentences
from ..schema import TABLES, Policy
from ..solve import Terms, build_terms

WORSE_OFF_Z = -2.0
HEADLINE_NAMES = 6  # universities named on the terminal line
LISTED = 10  # blocking pairs printed; audit.json has them all


@dataclass
class Audit:
    swaps: pd.DataFrame  # one row per improving swap
    blocking: pd.DataFrame  # one row per blocking pair (cadre, post)
    universities: pd.DataFrame  # wish statistics, one row per university sending cadres
    spread: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The compact form for summary.json."""
        envy = self.blocking[~self.blocking["empty_seat"]]
        return {
            "improving_swaps": len(self.swaps),
            "swaps": self.swaps[["cadre_a", "post_a", "cadre_b", "post_b"]].to_dict("records"),
            "blocking_pairs": len(self.blocking),
            "through_empty_seats": int(self.blocking["empty_seat"].sum()),
            "justified_envy": len(envy),
            "envious_cadres": int(envy["cadre"].nunique()),
            "cadres_in_blocking_pairs": int(self.blocking["cadre"].nunique()),
            "universities": self.spread,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "swaps": self.swaps.to_dict("records"),
            "blocking": self.blocking.replace({np.nan: None, np.inf: None, -np.inf: None}).to_dict("records"),
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
        worse = ", ".join(names[:HEADLINE_NAMES]) or _("none")
        if len(names) > HEADLINE_NAMES:
            worse += _(" and {count} more (see audit.csv)").format(count=len(names) - HEADLINE_NAMES)
        return "\n".join(
            [
                _("audit          {swaps} improving swaps, {envious} cadres with justified envy; universities worse off: {worse}").format(
                    swaps=summary["improving_swaps"], envious=summary["envious_cadres"], worse=worse
                ),
                _("stability      {pairs} blocking pairs, {empty} of them through an empty seat").format(
                    pairs=summary["blocking_pairs"], empty=summary["through_empty_seats"]
                ),
            ]
        )

    def __str__(self) -> str:
        summary = self.summary()
        lines = [
            _("improving swaps: {count}").format(count=len(self.swaps)),
            *(f"  - {text}" for text in self.swaps["sentence"]),
            _("blocking pairs: {pairs} ({envy} justified envy by {envious} cadres, {empty} through an empty seat)").format(
                pairs=summary["blocking_pairs"],
                envy=summary["justified_envy"],
                envious=summary["envious_cadres"],
                empty=summary["through_empty_seats"],
            ),
            *(f"  - {text}" for text in self.blocking["sentence"].head(LISTED)),
        ]
        if len(self.blocking) > LISTED:
            lines.append("  " + _("... and {count} more (audit.json)").format(count=len(self.blocking) - LISTED))
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
    keep = side_rows_hold(terms, chosen, [swaps["a12"], swaps["a21"]], [swaps["a11"], swaps["a22"]])
    swaps = {key: value[keep] for key, value in swaps.items()}
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
    swap_table["sentence"] = swap_sentences(state, swaps)
    blocking = _blocking_table(blocking_pairs(state, policy))
    universities, spread = _university_stats(state, policy, swap_table, blocking)
    return Audit(swap_table, blocking, universities, spread)


def side_rows_hold(terms: Terms, chosen: np.ndarray, added: list[np.ndarray], removed: list[np.ndarray]) -> np.ndarray:
    """Per change k (pairs ``added[i][k]`` taken, ``removed[i][k]`` left; -1 for none): does every side row still hold?

    Vectorised over changes and rows.
    """
    n = len(added[0]) if added else 0
    ok = np.ones(n, bool)
    query = np.concatenate([*added, *removed]).astype(np.int64)
    sign = np.repeat(np.r_[np.ones(len(added)), -np.ones(len(removed))], n)
    change = np.tile(np.arange(n), len(added) + len(removed))
    for rows in terms.side.values():
        n_rows = len(rows.labels)
        if not n_rows or not n:
            continue
        order = np.argsort(rows.pair, kind="stable")
        which, entry = expand_matches(rows.pair[order], order, query)
        key, inverse = np.unique(change[which] * n_rows + rows.row[entry], return_inverse=True)
        delta = np.bincount(inverse, weights=sign[which] * rows.coef[entry], minlength=len(key))
        row = key % n_rows
        broken = rows.lhs(chosen)[row] + delta > rows.rhs[row] + 1e-9
        ok[np.unique(key[broken] // n_rows)] = False
    return ok


def _blocking_table(blocking: Blocking) -> pd.DataFrame:
    state = blocking.state
    pairs = state.pairs
    inst = pairs.instance
    cadre = pairs.cadre[blocking.pair]
    own = state.post_of_cadre[cadre]
    table = pd.DataFrame(
        {
            "cadre": inst.cadre_id[cadre],
            "post": np.where(own >= 0, inst.post_id[np.maximum(own, 0)], ""),
            "wish_now": state.own_choice[cadre],
            "blocking_post": inst.post_id[pairs.post[blocking.pair]],
            "wish_there": state.choice[blocking.pair],
            "empty_seat": blocking.displaced < 0,
            "displaced": np.where(blocking.displaced >= 0, inst.cadre_id[np.maximum(blocking.displaced, 0)], ""),
            "priority": blocking.priority,
            "displaced_priority": blocking.displaced_priority,
        }
    )
    table["sentence"] = blocking.sentences()
    return table


def _university_stats(state: WishState, policy: Policy, swaps: pd.DataFrame, blocking: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
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
    frame["blocking"] = frame["cadre_id"].isin(blocking["cadre"])
    table = frame.groupby("university_id", sort=True).agg(
        cadres=("cadre_id", "size"),
        placed=("placed", "sum"),
        first_choice=("first", "sum"),
        top3=("top3", "sum"),
        no_wish_met=("no_wish", "sum"),
        mean_wish_points=("points", "mean"),
        cadres_in_swaps=("in_swap", "sum"),
        cadres_in_blocking_pairs=("blocking", "sum"),
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
    lines = [_("wish statistics per university:")]
    labels = {"first_choice_share": (N_("first-choice share"), "{:.0%}"), "mean_wish_points": (N_("mean wish points"), "{:.1f}")}
    for column, (label, fmt) in labels.items():
        if column in spread:
            s = spread[column]
            lines.append(
                "  "
                + _("{label} from {low} ({lowest}) to {high} ({highest}), a spread of {spread}").format(
                    label=_(label),
                    low=fmt.format(s["min"]),
                    lowest=s["lowest"],
                    high=fmt.format(s["max"]),
                    highest=s["highest"],
                    spread=fmt.format(s["spread"]),
                )
            )
    worse = spread["worse_off"]
    lines.append(
        "  "
        + _("systematically worse off (mean wish points more than 2 standard errors below the overall {mean}): {names}").format(
            mean=f"{spread['overall_mean_wish_points']:.1f}", names=", ".join(worse) if worse else _("none")
        )
    )
    return "\n".join(lines)
