"""Relay continuity: a university's new cadre goes where its last one served.

A relay target is a (university, post) pair such that the post was held, in
the latest batch of the ``history`` table that lists that post, by a cadre of
that university (``batches: all`` uses every earlier batch). A pair scores 1
when it places a cadre at a relay post of the cadre's own university:

    score(c, p) = 1 if (u(c), p) is a relay target else 0      unit: relay postings

``mode: soft`` only weights that score. ``mode: rule`` first maximises the
number of relay postings over all allocations that meet every other hard rule,
then optimises the weighted objective among the allocations that keep that many;
relay targets that still cannot be kept are reported with the reason.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..instance import Instance, PairTable, pair_lookup
from .base import Factor, FactorParams, Lexicographic


class RelayParams(FactorParams):
    weight: float = 40.0
    mode: Literal["soft", "rule"] = "soft"
    batches: Literal["latest", "all"] = "latest"


class Relay(Factor):
    name = "relay"
    unit = "relay postings"
    Params = RelayParams

    def targets(self, inst: Instance, params: RelayParams) -> tuple[np.ndarray, np.ndarray]:
        """(university, post) index arrays of the relay targets, sorted and unique."""
        history = inst.tables["history"]
        if len(history) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        post = inst.post_index(history["post_id"].to_numpy(str))
        uni = inst.university_index(history["university_id"].to_numpy(str))
        batch = history["batch"].to_numpy(np.int64)
        keep = (post >= 0) & (uni >= 0)
        if params.batches == "latest":
            latest = np.full(inst.n_posts, np.iinfo(np.int64).min)
            np.maximum.at(latest, post[keep], batch[keep])
            keep &= batch == latest[np.maximum(post, 0)]
        keys = np.unique(uni[keep] * inst.n_posts + post[keep])
        return keys // inst.n_posts, keys % inst.n_posts

    def indicator(self, pairs: PairTable, params: RelayParams) -> np.ndarray:
        inst = pairs.instance
        uni, post = self.targets(inst, params)
        pair_keys = pairs.university.astype(np.int64) * inst.n_posts + pairs.post
        return pair_lookup(pair_keys, uni * inst.n_posts + post, np.ones(len(uni), bool), False)

    def scores(self, pairs: PairTable, params: RelayParams) -> np.ndarray:
        return self.indicator(pairs, params).astype(float)

    def lexicographic(self, pairs: PairTable, params: RelayParams) -> Lexicographic | None:
        if params.mode != "rule":
            return None
        return Lexicographic(
            name="relay postings kept",
            indicator=self.indicator(pairs, params).astype(np.int64),
            description="maximised before the weighted objective (relay as a rule)",
        )

    def columns(self, pairs: PairTable, params: RelayParams) -> dict[str, np.ndarray]:
        return {"relay": self.indicator(pairs, params).astype(np.int8)}

    def open_targets(self, inst: Instance, params: RelayParams) -> tuple[np.ndarray, np.ndarray]:
        """Relay targets whose university sends at least one cadre this time."""
        uni, post = self.targets(inst, params)
        sending = np.bincount(inst.cadre_university, minlength=len(inst.university_id)) > 0
        mask = sending[uni]
        return uni[mask], post[mask]
