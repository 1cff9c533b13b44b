"""``relay_lost``: the relay targets an allocation does not keep, each with its reason, against a plain loop."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.evaluate import allocation_table, relay_lost
from placement_engine.factors import FACTORS
from placement_engine.rules import allowed_pairs
from tests.factories import Reference
from tests.strategies import scenarios


def reference_lost(scenario: pe.Scenario, table, allowed_ids: set[tuple[str, str]]) -> list[dict]:
    """One target at a time, from the table's ids: the reasons in the order the relay factor lists the targets."""
    inst = scenario.instance
    uni, post = FACTORS["relay"].open_targets(inst, scenario.policy.factors.relay)
    held = {(u, p) for u, p in zip(table["university_id"], table["post_id"]) if p}
    university_of = dict(zip(scenario.tables["cadres"]["cadre_id"], scenario.tables["cadres"]["university_id"]))
    open_to = {(university_of[c], p) for c, p in allowed_ids}
    sent = Counter(scenario.tables["cadres"]["university_id"])
    targets = Counter(str(inst.university_id[u]) for u in uni)
    lost = []
    for u, p in zip(uni.tolist(), post.tolist()):
        university, post_id = str(inst.university_id[u]), str(inst.post_id[p])
        if (university, post_id) in held:
            continue
        if (university, post_id) not in open_to:
            reason = f"no cadre of {university} may take {post_id} under the hard rules (rank, volunteers, pins)"
        elif sent[university] < targets[university]:
            reason = f"{university} sends {sent[university]} cadre(s) for {targets[university]} relay posts"
        else:
            reason = "keeping it would cost another relay posting or break a hard rule (the maximum is kept)"
        lost.append({"university_id": university, "post_id": post_id, "reason": reason})
    return lost


@settings(max_examples=60, deadline=None)
@given(scenarios(relay_rule=True), st.data())
def test_relay_lost_matches_a_plain_loop(scenario: pe.Scenario, data) -> None:
    inst = scenario.instance
    uni, _ = FACTORS["relay"].open_targets(inst, scenario.policy.factors.relay)
    assume(len(uni))
    # any assignment, not only feasible ones: relay_lost only reads who holds what
    post_of_cadre = np.array(data.draw(st.lists(st.integers(-1, inst.n_posts - 1), min_size=inst.n_cadres, max_size=inst.n_cadres)))
    table = allocation_table(inst, scenario.policy, post_of_cadre)
    pairs = allowed_pairs(inst, scenario.policy)
    allowed = pairs.subset(np.array(data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs))), bool))
    allowed_ids = set(zip(inst.cadre_id[allowed.cadre].tolist(), inst.post_id[allowed.post].tolist()))

    lost = relay_lost(inst, scenario.policy, table, allowed)
    assert lost == reference_lost(scenario, table, allowed_ids)
    # the targets themselves, from the history: those of universities that send someone
    sending = set(scenario.tables["cadres"]["university_id"])
    targets = {(u, p) for u, p in Reference(scenario).relay_targets() if u in sending}
    held = set(zip(table["university_id"], table["post_id"]))
    assert {(x["university_id"], x["post_id"]) for x in lost} == targets - held
