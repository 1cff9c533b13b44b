"""Why a cadre got their post: the score factor by factor, each wish, and what granting it would cost.

For each wish (a post, a prefecture or a province) the explanation says whether
the hard pair rules allow any of the posts it names, and which rules block the
others. For a wish better than the one met, it gives the **price** of granting
it: the drop in the optimal objective when the cadre is restricted to the
allowed posts the wish names. The price comes from a re-solve over the same
allowed pairs and model terms (``Terms.subset``), with the same rules (budgets,
relay as a rule, the swap rule), so it equals a pinned re-solve from scratch;
the change per factor says who pays. The post the re-solve gives the cadre, who
holds it now and their score there, and where they would go, complete the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InfeasibleError, InputError, NoSolutionError, Problem
from ..evaluate import posts_of
from ..factors import FACTORS, SideConstraints
from ..i18n import _, ngettext
from ..instance import pair_lookup
from ..naming import plural, post_label, region_name, separator, word
from ..rules import allowed_pairs, mask_rules, must_place
from ..solve import Settings, build_terms, solve_model

GRANT = "granted wish"  # the side row that places the cadre when place_every_cadre is off
CADRE_COLUMNS = [
    "cadre_id", "university_id", "rank", "post_id", "post_name", "choice_met", "score_total", *(f"score_{name}" for name in FACTORS),
]  # fmt: skip
ALLOCATION_COLUMNS = {"choice_met": "choice"}  # where allocation.csv names a column otherwise
WISH_COLUMNS = [
    "wish", "target", "target_kind", "target_name", "posts_named", "posts_open", "blocked_by", "status",
    "granted_post", "price_points", "price_proven", "price_at_least", *(f"price_{name}" for name in FACTORS),
    "relay_kept_change", "cadres_moved", "holders", "holder_score", "holder_moves_to", "sentence",
]  # fmt: skip


@dataclass
class Explanation:
    """One cadre's explanation: plain sentences, and the same facts as a table (one row per wish)."""

    cadre_id: str
    sentences: list[str]
    table: pd.DataFrame

    def __str__(self) -> str:
        return "\n".join(self.sentences)


def explain(allocation, cadre_id: str, **solver: Any) -> Explanation:
    """Explain one cadre's posting; ``solver`` may set time_limit, workers and seed for the re-solves."""
    return Explainer(allocation, **solver).explain(cadre_id)


def least_satisfied(allocation, n: int) -> list[str]:
    """The ``n`` cadres with the worst wish met (none is worst; unplaced worse still), lowest score first."""
    table = allocation.table
    choice = table["choice"].to_numpy(dtype=float, na_value=np.inf)
    unplaced = (table["post_id"] == "").to_numpy().astype(int)
    order = np.lexsort((table["score_total"].to_numpy(float), -choice, -unplaced))
    return table["cadre_id"].to_numpy(str)[order[:n]].tolist()


class Explainer:
    """Explains cadres of one allocation, sharing its allowed pairs and terms across re-solves."""

    def __init__(self, allocation, *, time_limit: float | None = None, workers: int | None = None, seed: int | None = None):
        manifest = allocation.summary["manifest"]
        self.allocation = allocation
        self.policy = allocation.policy
        self.inst = allocation.scenario.instance
        self.terms = allocation.terms if allocation.terms is not None else build_terms(allowed_pairs(self.inst, self.policy), self.policy)
        self.settings = Settings.of(
            self.policy.solver,
            time_limit if time_limit is not None else manifest["time_limit_s"],
            workers if workers is not None else manifest["workers"],
            seed if seed is not None else manifest["seed"],
        )
        self.rules = mask_rules(self.policy)
        self.must = must_place(self.inst, self.policy.rules)
        self.keys = self.terms.pairs.keys(self.inst.n_posts, self.terms.pairs.post)
        wishes = self.inst.tables["preferences"]
        self.wishes = wishes.sort_values(["cadre_id", "choice"], kind="stable")
        self.table = allocation.table.set_index("cadre_id", drop=False)
        self.points = allocation.objective
        self.proven = allocation.status == "OPTIMAL"

    def explain(self, cadre_id: str) -> Explanation:
        cadre = int(self.inst.cadre_index([cadre_id])[0])
        if cadre < 0:
            raise InputError([Problem("--cadre", "", "a cadre_id of the scenario", repr(cadre_id))])
        row = self.table.loc[cadre_id]
        sentences = [self._posting_sentence(row), *self._needs_sentence(cadre, row), self._score_sentence(row)]
        wishes = self.wishes[self.wishes["cadre_id"] == cadre_id]
        records = [self._wish(cadre, row, int(w.choice), str(w.target)) for w in wishes.itertuples()]
        if not records:
            records = [{"status": "no wishes", "sentence": _("{cadre} stated no wishes.").format(cadre=cadre_id)}]
        sentences += [r["sentence"] for r in records]
        head = {column: row[ALLOCATION_COLUMNS.get(column, column)] for column in CADRE_COLUMNS}
        table = pd.DataFrame([{**head, **r} for r in records])
        return Explanation(cadre_id, sentences, table.reindex(columns=[*CADRE_COLUMNS, *WISH_COLUMNS]))

    def explain_all(self, progress: Any = None) -> pd.DataFrame:
        """One row per wish of every cadre who did not get their first wish.

        ``progress``: True for a bar with ETA (tqdm.auto: a widget in notebooks), or an object
        with ``iterate(items, total, label)`` such as ``placement_engine.ProgressBar``.
        """
        missed = self.table.index[self.table["choice"].fillna(0).to_numpy() != 1]
        frames = [self.explain(cadre_id).table for cadre_id in _steps(progress, missed, _("explaining"))]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*CADRE_COLUMNS, *WISH_COLUMNS])

    # ---- pieces ----------------------------------------------------------------------------

    def _posting_sentence(self, row) -> str:
        who = _("{cadre} ({university}, {rank})").format(cadre=row["cadre_id"], university=row["university_id"], rank=word(row["rank"]))
        if row["post_id"] == "":
            return _("{who} is not placed.").format(who=who)
        post = int(self.inst.post_index([row["post_id"]])[0])
        region = region_name(self.inst, str(row["prefecture"]))
        if pd.isna(row["choice"]):
            words = _("{who} is posted to {post} in {region}, which meets none of their wishes.")
        else:
            words = _("{who} is posted to {post} in {region}, which meets their wish {choice}.")
        return words.format(who=who, post=post_label(self.inst, post), region=region, choice=row["choice"])

    def _needs_sentence(self, cadre: int, row) -> list[str]:
        """What the county asked for and what of it the cadre brings (local_needs), when it asked anything."""
        if row["post_id"] == "":
            return []
        post = int(self.inst.post_index([row["post_id"]])[0])
        sentence = FACTORS["local_needs"].describe_pair(self.inst, cadre, post)
        return [] if sentence is None else [sentence]

    def _score_sentence(self, row) -> str:
        if row["post_id"] == "":
            return _("Score: 0 points, as for every cadre left unplaced.")
        parts = [f"{word(name)} {row[f'score_{name}']:+.2f}" for name in FACTORS if row[f"score_{name}"] != 0]
        if not parts:
            return _("Score there: {total:.2f} points.").format(total=row["score_total"])
        return _("Score there: {total:.2f} points ({parts}).").format(total=row["score_total"], parts=separator().join(parts))

    def _wish(self, cadre: int, row, number: int, target: str) -> dict[str, Any]:
        inst = self.inst
        kind, posts, name = _wish_posts(inst, target)
        index = pair_lookup(cadre * np.int64(inst.n_posts) + posts, self.keys, np.arange(len(self.keys)), -1)
        open_posts = posts[index >= 0]
        blocked = self._blocked(cadre, posts[index < 0])
        record: dict[str, Any] = {
            "wish": number,
            "target": target,
            "target_kind": kind,
            "target_name": name,
            "posts_named": len(posts),
            "posts_open": len(open_posts),
            "blocked_by": ";".join(f"{rule}:{count}" for rule, count in blocked.items()),
        }
        lead = _("Wish {number}, {target}").format(number=number, target=name)
        met = row["choice"]
        if not pd.isna(met) and number == met:
            return {**record, "status": "met", "sentence": _("{lead}: met.").format(lead=lead)}
        if not len(open_posts):
            why = _("; ").join(
                _("{rule} blocks {posts} ({reason})").format(rule=word(rule), posts=plural(count, "post"), reason=_(self.rules[rule].blocks))
                for rule, count in blocked.items()
            )
            sentence = _("{lead}: not allowed: {why}.").format(lead=lead, why=why or _("it names no post"))
            return {**record, "status": "not allowed", "sentence": sentence}
        by = separator().join(_("{count} by {rule}").format(count=count, rule=word(rule)) for rule, count in blocked.items())
        partly = ""
        if blocked:
            partly = _(" ({blocked} of {named} posts blocked: {by})").format(blocked=len(posts) - len(open_posts), named=len(posts), by=by)
        if not pd.isna(met) and number > met:
            sentence = _("{lead}: allowed{partly}; a better wish is met already.").format(lead=lead, partly=partly)
            return {**record, "status": "better wish met", "sentence": sentence}
        return {**record, **self._price(cadre, open_posts, _("{lead}: allowed{partly}.").format(lead=lead, partly=partly))}

    def _blocked(self, cadre: int, posts: np.ndarray) -> dict[str, int]:
        """Per rule, how many of these posts it blocks for the cadre."""
        pairs = self.inst.pairs(np.full(len(posts), cadre), posts)
        counts = {name: int(rule.blocked(pairs, self.policy).sum()) for name, rule in self.rules.items()}
        return {name: count for name, count in counts.items() if count}

    def _price(self, cadre: int, open_posts: np.ndarray, lead: str) -> dict[str, Any]:
        """Re-solve with the cadre restricted to ``open_posts``; what it costs and who moves."""
        inst, terms = self.inst, self.terms
        mask = (terms.pairs.cadre != cadre) | np.isin(terms.pairs.post, open_posts)
        sub = terms.subset(mask)
        if not self.must[cadre]:
            # granting means placing: without place_every_cadre the cadre could stay unplaced
            own = np.flatnonzero(sub.pairs.cadre == cadre)
            grant = SideConstraints([GRANT], np.array([-1]), np.zeros(len(own), np.int64), own, -np.ones(len(own), np.int64), "posts")
            sub = replace(sub, side={**sub.side, GRANT: grant})
        try:
            solution = solve_model(sub, self.policy, self.settings)
            sub = solution.terms
        except InfeasibleError as error:
            reasons = [c["message"] for c in error.diagnosis.get("conflicts", []) if c.get("factor") != GRANT]
            why = " ".join(reasons) or _("no allocation that meets the other rules places the cadre at a post of this wish.")
            words = _("{lead} Granting it would break the hard rules; with {cadre} there, {why}")
            return {"status": "impossible", "sentence": words.format(lead=lead, cadre=inst.cadre_id[cadre], why=why)}
        except NoSolutionError:
            words = _("{lead} The re-solve found no allocation within {seconds:g} s.")
            return {"status": "unpriced", "sentence": words.format(lead=lead, seconds=self.settings.time_limit)}
        if solution.interrupted:
            raise KeyboardInterrupt
        chosen = solution.chosen > 0
        moved_to = posts_of(sub.pairs, solution.chosen)
        granted = int(moved_to[cadre])
        deltas = {name: float(sub.weighted[name][chosen].sum()) - self.allocation.factor_totals[name] for name in sub.weighted}
        price = self.points - float(sub.total[chosen].sum())
        proven = self.proven and solution.status == "OPTIMAL"
        at_least = self.points - (solution.bound + 0.5 * int(chosen.sum())) / sub.scale
        record = {
            "status": "priced",
            "granted_post": inst.post_id[granted],
            "price_points": price,
            "price_proven": proven,
            "price_at_least": price if proven else at_least,
            **{f"price_{name}": -deltas.get(name, 0.0) for name in FACTORS},
            "cadres_moved": int((moved_to != self.allocation.post_of_cadre).sum()) - 1,
        }
        holders = np.flatnonzero(self.allocation.post_of_cadre == granted)
        holders = holders[holders != cadre]
        held = self._holders(holders, moved_to)
        record.update(held)
        kept = self.allocation.summary.get("lexicographic", {})
        relay = ""
        for key, value in solution.lexicographic.items():
            record["relay_kept_change"] = value - kept.get(key, value)
            if value != kept.get(key, value):
                change = abs(value - kept[key])
                if value < kept[key]:
                    relay = ngettext(" It would keep {count} relay posting fewer.", " It would keep {count} relay postings fewer.", change)
                else:
                    relay = ngettext(" It would keep {count} relay posting more.", " It would keep {count} relay postings more.", change)
                relay = relay.format(count=change)
        cost = _("The optimum would drop by {price:.2f} points").format(price=price)
        if not proven:
            cost = _(
                "Against this allocation the objective would change by {change:+.2f} points, and by at most "
                "{most:+.2f} (not proven: a solve stopped at its time limit)"
            ).format(change=-price, most=-at_least)
        by_factor = sorted(deltas.items(), key=lambda kv: kv[1])
        paid = separator().join(f"{word(name)} {delta:+.2f}" for name, delta in by_factor if abs(delta) >= 0.005)
        sentence = _("{lead} Granting it would give {post}{holders}. {cost}{paid}, and {moved} would move in the re-solved allocation.{relay}").format(
            lead=lead,
            post=post_label(inst, granted),
            holders=held["holder_text"],
            cost=cost,
            paid=_(" (change per factor: {paid})").format(paid=paid) if paid else "",
            moved=plural(record["cadres_moved"], "other cadre"),
            relay=relay,
        )
        record.pop("holder_text")
        return {**record, "sentence": sentence}

    def _holders(self, holders: np.ndarray, moved_to: np.ndarray) -> dict[str, Any]:
        if not len(holders):
            return {"holders": "", "holder_score": np.nan, "holder_moves_to": "", "holder_text": _(", which has a free seat")}
        inst = self.inst
        ids = inst.cadre_id[holders]
        scores = self.table.loc[ids, "score_total"].to_numpy(float)
        new = moved_to[holders]
        wishes = FACTORS["preferences"].matched_choice(inst.pairs(holders, np.maximum(new, 0)))
        # the table's column keeps machine words; the sentence speaks the reader's language
        where = [f"{inst.post_id[p]} ({'wish ' + str(w) if w else 'no wish'})" if p >= 0 else "no post" for p, w in zip(new, wishes)]
        said = [_moves_to(inst.post_id[p], int(w)) if p >= 0 else _("no post") for p, w in zip(new, wishes)]
        holder = _("{cadre}, who scores {score:.2f} there and would move to {post}")
        text = _("; ").join(holder.format(cadre=c, score=s, post=w) for c, s, w in zip(ids, scores, said))
        return {
            "holders": ";".join(ids),
            "holder_score": float(scores.sum()),
            "holder_moves_to": ";".join(where),
            "holder_text": _(", now held by {holders}").format(holders=text),
        }


def _wish_posts(inst, target: str) -> tuple[str, np.ndarray, str]:
    """(kind, post indices, words) for a wish target: a post, a prefecture or a province."""
    post = int(inst.post_index([target])[0])
    if post >= 0:
        return "post", np.array([post]), post_label(inst, post)
    region = int(inst.region_index([target])[0])
    kind = "province" if target.endswith("0000") else "prefecture"
    level = inst.post_province if kind == "province" else inst.post_prefecture
    posts = np.flatnonzero(level == region) if region >= 0 else np.zeros(0, np.int64)
    words = _("{region} ({kind} {code}, {posts})").format(region=region_name(inst, target), kind=word(kind), code=target, posts=plural(len(posts), "post"))
    return kind, posts, words


def _moves_to(post_id: str, wish: int) -> str:
    return (_("{post} (wish {wish})") if wish else _("{post} (no wish)")).format(post=post_id, wish=wish)


def _steps(progress: Any, items, label: str) -> Iterable:
    """``items`` through a progress bar: ``True`` for tqdm.auto's, an object with ``iterate``, or none."""
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(items, total=len(items), desc=label)
    if progress is not None and hasattr(progress, "iterate"):
        return progress.iterate(items, len(items), label)
    return items
