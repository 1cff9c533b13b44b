"""Seats (hard): one post per cadre, at most a post's capacity, and the place/fill rules.

    sum_p x[c, p] <= 1          for every cadre c   (= 1 when c must be placed)
    sum_c x[c, p] <= cap_p      for every post p    (= cap_p under fill_every_post)

A cadre must be placed under ``place_every_cadre``, and whenever a pin sends
it somewhere. These rows are the assignment structure itself, so the model
always has them; whether any allocation can meet them is a counting question
(``solve/feasibility.py``).
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_, _
from ..instance import Instance
from .base import Allocated, Rule, Switch


def must_place(inst: Instance, rules) -> np.ndarray:
    """Cadres that must get a post: every cadre under place_every_cadre, else those a pin sends somewhere."""
    must = np.full(inst.n_cadres, bool(rules.place_every_cadre))
    if rules.pins:
        pins = inst.pins
        must[pins.cadre[pins.is_pin]] = True
    return must


class Seats(Rule):
    name = "seats"
    summary = N_("each cadre takes at most one post (exactly one when placed by rule), each post at most its capacity")
    switches = {
        "place_every_cadre": Switch(True, N_("every cadre gets exactly one post")),
        "fill_every_post": Switch(False, N_("every post gets exactly its capacity")),
    }

    def active(self, policy) -> bool:
        return True  # the switches only tighten it

    def violations(self, allocated: Allocated) -> list[str]:
        inst, policy = allocated.instance, allocated.policy
        post_of_cadre = allocated.post_of_cadre
        found = []
        if policy.rules.place_every_cadre:
            unplaced = _("{cadre}: not placed, but every cadre must be")
            found += [unplaced.format(cadre=inst.cadre_id[i]) for i in np.flatnonzero(post_of_cadre < 0)]
        load = np.bincount(allocated.pairs.post, minlength=inst.n_posts)
        over = _("{post}: {load} cadres for capacity {capacity}")
        found += [over.format(post=inst.post_id[p], load=load[p], capacity=inst.post_capacity[p]) for p in np.flatnonzero(load > inst.post_capacity)]
        if policy.rules.fill_every_post:
            short = np.flatnonzero(load < inst.post_capacity)
            unfilled = _("{post}: {load} cadres, but it must be filled ({capacity})")
            found += [unfilled.format(post=inst.post_id[p], load=load[p], capacity=inst.post_capacity[p]) for p in short]
        return found
