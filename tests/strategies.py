"""Hypothesis strategies that build only valid scenarios (they always pass input validation).

Whether a drawn scenario admits an allocation is left to the tests, which check an
``InfeasibleError`` against an independent matching.
"""

from __future__ import annotations

from hypothesis import strategies as st

import placement_engine as pe
from tests.factories import POSTS, RANKS, UNIVERSITIES, make_tables

# Low minimum ranks are drawn more often, so most draws admit an allocation.
MIN_RANKS = ("staff", "staff", "staff", "deputy_section", "section", "deputy_division")
# Budgets per cadre sent: Jinan-Jinan costs 3,600 a year, another Shandong city 6,000-11,000, Qinghai 23,600.
BUDGETS_PER_CADRE = (10000, 8000, 6000, 15000, None)


def factor_policies(*, budget: bool, relay_rule: bool | None) -> st.SearchStrategy[dict]:
    """A ``factors`` section: each factor on or off, with a few parameters.

    Cost is always on with a budget. ``relay_rule``: None draws soft or rule, True forces
    relay on as a rule, False keeps it soft.
    """
    options = {
        "preferences": st.fixed_dictionaries(
            {
                "weight": st.sampled_from([0.5, 1, 2]),
                "points": st.lists(st.integers(0, 100), min_size=1, max_size=4),
            }
        ),
        "proximity": st.fixed_dictionaries(
            {"weight": st.sampled_from([0, 0.01, 0.05, 0.3]), "max_km": st.sampled_from([None, None, 150, 320])}
        ),
        "partnership": st.fixed_dictionaries(
            {"weight": st.sampled_from([10, 25]), "prefecture_share": st.sampled_from([0, 0.5, 1])}
        ),
        "relay": st.fixed_dictionaries(
            {
                "weight": st.sampled_from([0, 40]),
                "mode": st.sampled_from({None: ["soft", "rule"], True: ["rule"], False: ["soft"]}[relay_rule]),
                "batches": st.sampled_from(["latest", "all"]),
            }
        ),
        "rank_fit": st.fixed_dictionaries({"weight": st.sampled_from([5, 30])}),
        "cost": st.fixed_dictionaries(
            {"weight": st.sampled_from([0, 0.001, 0.01]), "budget": st.just(True) if budget else st.just(False)}
        ),
        "pair_scores": st.fixed_dictionaries({"weight": st.sampled_from([1, 2.5])}),
    }
    required = {"cost": options.pop("cost")} if budget else {}
    if relay_rule:
        required["relay"] = options.pop("relay")
    return st.fixed_dictionaries(required, optional=options)


@st.composite
def scenarios(
    draw,
    *,
    max_cadres: int = 8,
    max_posts: int = 8,
    budgets: bool | None = None,
    relay_rule: bool | None = None,
    place_fill: bool = True,
) -> pe.Scenario:
    """A random valid scenario: 2..max_cadres cadres, 2..max_posts posts, 1-3 universities.

    ``budgets``: None draws whether cost.budget is on; True or False forces it.
    ``relay_rule``: see ``factor_policies``.
    """
    unis = draw(st.lists(st.sampled_from(sorted(UNIVERSITIES)), min_size=1, max_size=3, unique=True))
    post_ids = draw(st.lists(st.sampled_from(sorted(POSTS)), min_size=2, max_size=max_posts, unique=True))
    posts = [
        {"post_id": p, "capacity": draw(st.integers(1, 2)), "min_rank": draw(st.sampled_from(MIN_RANKS))}
        for p in post_ids
    ]
    rules = {
        "rank": draw(st.booleans()),
        "cross_province_volunteers_only": draw(st.booleans()),
        "pins": draw(st.booleans()),
    }
    if place_fill:
        rules["place_every_cadre"] = draw(st.booleans())
        rules["fill_every_post"] = draw(st.sampled_from([False, False, False, True]))
    # Cadre numbers that the place and fill rules can meet, when there is such a number.
    seats = sum(p["capacity"] for p in posts)
    low, high = 2, max_cadres
    if rules.get("place_every_cadre", True):
        high = max(low, min(high, seats))
    if rules.get("fill_every_post", False):
        low = min(max(low, seats), high)
    n_cadres = draw(st.integers(low, high))
    cadres = [
        {
            "university_id": draw(st.sampled_from(unis)),
            "rank": draw(st.sampled_from(RANKS)),
            "cross_province_ok": draw(st.booleans()),
        }
        for _ in range(n_cadres)
    ]
    cadre_ids = [f"c{i + 1}" for i in range(n_cadres)]
    prefectures = sorted({POSTS[p][2] for p in post_ids})
    provinces = sorted({POSTS[p][0][:2] + "0000" for p in post_ids})
    wish_targets = post_ids + prefectures + provinces
    wishes = {c: draw(st.lists(st.sampled_from(wish_targets), max_size=3, unique=True)) for c in cadre_ids}
    partnerships = draw(
        st.lists(st.tuples(st.sampled_from(unis), st.sampled_from(post_ids + prefectures)), max_size=3, unique=True)
    )
    history = draw(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(unis), st.sampled_from(post_ids)), max_size=4))
    pair = st.tuples(st.sampled_from(cadre_ids), st.sampled_from(post_ids))
    pins = draw(
        st.lists(st.tuples(pair, st.sampled_from(["pin", "forbid"])), max_size=2, unique_by=lambda t: t[0])
    )
    pair_scores = draw(st.lists(st.tuples(pair, st.integers(-20, 20)), max_size=3, unique_by=lambda t: t[0]))
    use_budget = draw(st.booleans()) if budgets is None else budgets
    sent = {u: sum(c["university_id"] == u for c in cadres) for u in unis}
    budget = {u: draw(st.sampled_from(BUDGETS_PER_CADRE)) for u in unis} if use_budget else None
    policy = {
        "rules": rules,
        "factors": draw(factor_policies(budget=use_budget, relay_rule=relay_rule)),
        "solver": {
            "objective_scale": draw(st.sampled_from([1000, 1000, 7])),
            "method": draw(st.sampled_from(["auto", "auto", "cpsat"])),
            "time_limit_s": 20,
        },
    }
    tables = make_tables(
        posts,
        cadres,
        universities=unis,
        budgets={u: b * sent[u] for u, b in budget.items() if b is not None} if budget is not None else None,
        wishes=wishes,
        partnerships=partnerships,
        history=history,
        pins=[(c, p, kind) for (c, p), kind in pins],
        pair_scores=[(c, p, s) for (c, p), s in pair_scores],
    )
    return pe.scenario_from_tables(tables, policy, name="random")
