"""Pins and forbids (hard): the analyst's fixed decisions, from the optional ``pins`` table.

    blocked(c, p) = (c, p) is a forbid
                    or (c has a pin and (c, p) is not it)

A pinned cadre must be placed (``seats.must_place``), even when
``place_every_cadre`` is off.
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_, _
from ..instance import PairTable, pair_lookup
from .base import Allocated, Rule, Switch


class Pins(Rule):
    name = "pins"
    summary = N_("a pinned cadre takes the pinned post; a forbidden pair is never used")
    blocks = N_("a pin sends the cadre elsewhere, or forbids this post")
    switches = {"pins": Switch(True, N_("honour the pins table (pin and forbid)"))}

    def blocked(self, pairs: PairTable, policy) -> np.ndarray:
        inst = pairs.instance
        pins = inst.pins
        if not len(pins.cadre):
            return np.zeros(len(pairs), bool)
        keys = pins.cadre * inst.n_posts + pins.post
        pair_keys = pairs.keys(inst.n_posts, pairs.post)
        forbidden = pair_lookup(pair_keys, keys[~pins.is_pin], np.ones(int((~pins.is_pin).sum()), bool), False)
        pinned_cadre = np.zeros(inst.n_cadres, bool)
        pinned_cadre[pins.cadre[pins.is_pin]] = True
        is_pin = pair_lookup(pair_keys, keys[pins.is_pin], np.ones(int(pins.is_pin.sum()), bool), False)
        return forbidden | (pinned_cadre[pairs.cadre] & ~is_pin)

    def violations(self, allocated: Allocated) -> list[str]:
        found = super().violations(allocated)
        if not allocated.policy.rules.place_every_cadre:  # else the seats rule reports every unplaced cadre
            inst = allocated.instance
            pins = inst.pins
            left_out = np.unique(pins.cadre[pins.is_pin & (allocated.post_of_cadre[pins.cadre] < 0)])
            found += [_("{cadre}: not placed, but a pin sends the cadre to a post").format(cadre=inst.cadre_id[i]) for i in left_out]
        return found
