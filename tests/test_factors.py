"""Per-factor and per-rule tests in penalised/unpenalised pairs, on 1-3-cadre instances.

Each expected score is computed here from the formula in the factor's docstring
(distances with the tests' own haversine), never by calling the factor.
"""

from __future__ import annotations

import math

import pytest

import placement_engine as pe
from tests.factories import QINGHAI_POST, distance_km, make_scenario, placed, row, scored, solved

FARE = 12 * 2 * 1.25 * 0.31  # round trips * both ways * rail detour * yuan per km (the cost defaults)
QINGHAI_COST = 12 * 1700 + 3000 + 200


def approx(value: float) -> pytest.approx:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


# ---- preferences ----------------------------------------------------------------------------


@pytest.mark.parametrize("wished, other", [("P370303", "P370124"), ("P370124", "P370303")])
def test_preferences_wished_post_scores_its_points_and_is_chosen(wished, other):
    scenario = make_scenario(wishes={"c1": [wished]}, policy={"factors": {"preferences": {"weight": 2}}})
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": wished}
    assert row(allocation)["score_preferences"] == 200.0
    assert row(allocation)["choice"] == 1
    assert row(scored(scenario, {"c1": other}))["score_preferences"] == 0.0


PREF_POSTS = ("P370102", "P370124", "P370303")
PREF_POLICY = {"factors": {"preferences": {"weight": 1, "points": [100, 80, 60]}}}


def test_preferences_the_best_ranked_wish_containing_the_post_counts():
    # Wish 1 is Shandong, wish 2 Jinan, wish 3 Lixia itself: every Shandong post meets wish 1.
    scenario = make_scenario(PREF_POSTS, wishes={"c1": ["370000", "370100", "P370102"]}, policy=PREF_POLICY)
    for post in PREF_POSTS:
        assert row(scored(scenario, {"c1": post}))["score_preferences"] == 100.0
        assert row(scored(scenario, {"c1": post}))["choice"] == 1


def test_preferences_a_post_named_before_its_areas_counts_first_then_the_areas():
    # Lixia first, then Jinan, then Shandong: each wish counts where it is the best-ranked one.
    scenario = make_scenario(PREF_POSTS, wishes={"c1": ["P370102", "370100", "370000"]}, policy=PREF_POLICY)
    expected = {"P370102": 100.0, "P370124": 80.0, "P370303": 60.0}
    for post, points in expected.items():
        assert row(scored(scenario, {"c1": post}))["score_preferences"] == points
    assert placed(solved(scenario)) == {"c1": "P370102"}


def test_preferences_without_a_post_wish_the_prefecture_wish_counts():
    scenario = make_scenario(PREF_POSTS, wishes={"c1": ["370100", "370000"]}, policy=PREF_POLICY)
    assert row(scored(scenario, {"c1": "P370102"}))["score_preferences"] == 100.0
    assert row(scored(scenario, {"c1": "P370303"}))["choice"] == 2


def test_preferences_wishes_past_the_end_of_points_score_the_last_value():
    policy = {"factors": {"preferences": {"weight": 1, "points": [100, 50]}}}
    posts = ("P370126", "P370124", "P370303")
    scenario = make_scenario(posts, wishes={"c1": ["P370126", "P370124", "P370303"]}, policy=policy)
    for post, points in {"P370126": 100.0, "P370124": 50.0, "P370303": 50.0}.items():
        assert row(scored(scenario, {"c1": post}))["score_preferences"] == points
    assert row(scored(scenario, {"c1": "P370303"}))["choice"] == 3
    assert placed(solved(scenario)) == {"c1": "P370126"}


# ---- proximity ------------------------------------------------------------------------------


def test_proximity_far_campus_is_penalised_by_its_distance():
    scenario = make_scenario(policy={"factors": {"proximity": {"weight": 1}}})
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": "P370124"}  # about 70 km from Shandong University, Zibo about 86
    assert row(allocation)["distance_km"] == approx(distance_km("sdu", "P370124"))
    assert row(allocation)["score_proximity"] == approx(-distance_km("sdu", "P370124"))
    assert row(scored(scenario, {"c1": "P370303"}))["score_proximity"] == approx(-distance_km("sdu", "P370303"))


def test_proximity_a_post_on_the_campus_is_not_penalised():
    scenario = make_scenario(cadres=[{"university_id": "sdut"}], policy={"factors": {"proximity": {"weight": 1}}})
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": "P370303"}
    assert row(allocation)["score_proximity"] == 0.0


def far_wish_policy(max_km):
    return {"factors": {"preferences": {"weight": 1}, "proximity": {"weight": 0, "max_km": max_km}}}


@pytest.mark.parametrize("max_km, expected", [(None, "P370602"), (500, "P370602"), (200, "P370124")])
def test_proximity_max_km_forbids_far_in_province_posts(max_km, expected):
    # Yantai is about 396 km from the campus, Pingyin about 70 km.
    scenario = make_scenario(("P370124", "P370602"), wishes={"c1": ["P370602"]}, policy=far_wish_policy(max_km))
    assert placed(solved(scenario)) == {"c1": expected}


@pytest.mark.parametrize("max_km", [None, 200])
def test_proximity_max_km_exempts_cross_province_posts(max_km):
    scenario = make_scenario(
        ("P370124", QINGHAI_POST),
        [{"cross_province_ok": True}],
        wishes={"c1": [QINGHAI_POST]},
        policy=far_wish_policy(max_km),
    )
    assert distance_km("sdu", QINGHAI_POST) > 1500
    assert placed(solved(scenario)) == {"c1": QINGHAI_POST}


# ---- partnership ----------------------------------------------------------------------------

PARTNER_POLICY = {"factors": {"partnership": {"weight": 25, "prefecture_share": 0.4}}}


@pytest.mark.parametrize(
    "agreements, expected, points",
    [
        ([("sdu", "P370303")], "P370303", 25.0),  # county agreement: full credit
        ([("sdu", "370300")], "P370303", 10.0),  # prefecture agreement: prefecture_share
        ([("sdu", "370100")], "P370124", 10.0),
        ([("sdu", "370300"), ("sdu", "P370124")], "P370124", 25.0),  # the county beats the prefecture
    ],
)
def test_partnership_county_and_prefecture_credit(agreements, expected, points):
    scenario = make_scenario(partnerships=agreements, policy=PARTNER_POLICY)
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": expected}
    assert row(allocation)["score_partnership"] == approx(points)
    assert row(allocation)["partnership"] == 1


def test_partnership_county_agreement_is_not_added_to_the_prefecture_one():
    scenario = make_scenario(partnerships=[("sdu", "370100"), ("sdu", "P370124")], policy=PARTNER_POLICY)
    assert row(scored(scenario, {"c1": "P370124"}))["score_partnership"] == 25.0


def test_partnership_of_another_university_gives_nothing():
    scenario = make_scenario(partnerships=[("sdut", "P370124"), ("sdut", "370300")], policy=PARTNER_POLICY)
    for post in ("P370124", "P370303"):
        table = scored(scenario, {"c1": post})
        assert row(table)["score_partnership"] == 0.0
        assert row(table)["partnership"] == 0


# ---- relay ----------------------------------------------------------------------------------

# Shandong University held both posts in batch 1; Shandong University of Technology took
# Pingyin in batch 2. A pair score of 0.5 leans towards Pingyin.
RELAY_HISTORY = [(1, "sdu", "P370124"), (1, "sdu", "P370303"), (2, "sdut", "P370124")]


@pytest.mark.parametrize("batches, expected, relay_points", [("latest", "P370303", 10.0), ("all", "P370124", 10.0)])
def test_relay_latest_batch_versus_all_batches(batches, expected, relay_points):
    scenario = make_scenario(
        history=RELAY_HISTORY,
        pair_scores=[("c1", "P370124", 0.5)],
        policy={"factors": {"relay": {"weight": 10, "batches": batches}, "pair_scores": {"weight": 1}}},
    )
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": expected}
    assert row(allocation)["score_relay"] == relay_points
    assert row(allocation)["relay"] == 1
    pingyin = row(scored(scenario, {"c1": "P370124"}))["score_relay"]
    assert pingyin == (10.0 if batches == "all" else 0.0)


def test_relay_counts_only_the_cadres_own_university():
    policy = {"factors": {"relay": {"weight": 10}}}
    scenario = make_scenario(history=[(1, "sdut", "P370303")], policy=policy)
    assert row(scored(scenario, {"c1": "P370303"}))["score_relay"] == 0.0
    scenario = make_scenario(cadres=[{"university_id": "sdut"}], history=[(1, "sdut", "P370303")], policy=policy)
    assert row(scored(scenario, {"c1": "P370303"}))["score_relay"] == 10.0


@pytest.mark.parametrize("mode, expected", [("soft", "P370124"), ("rule", "P370303")])
def test_relay_soft_yields_to_a_first_wish_but_the_rule_does_not(mode, expected):
    scenario = make_scenario(
        history=[(1, "sdu", "P370303")],
        wishes={"c1": ["P370124"]},
        policy={"factors": {"preferences": {"weight": 1}, "relay": {"weight": 40, "mode": mode}}},
    )
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": expected}
    assert row(allocation)["score_relay"] == (40.0 if mode == "rule" else 0.0)
    if mode == "rule":
        assert allocation.summary["lexicographic"] == {"relay postings kept": 1}
        assert allocation.summary["relay_lost"] == []


def test_relay_rule_reports_a_target_it_cannot_keep():
    # One cadre for two relay posts: one is kept, the other reported with the reason.
    scenario = make_scenario(
        history=[(1, "sdu", "P370303"), (1, "sdu", "P370124")],
        wishes={"c1": ["P370124"]},
        policy={"factors": {"preferences": {"weight": 1}, "relay": {"weight": 40, "mode": "rule"}}},
    )
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": "P370124"}
    lost = allocation.summary["relay_lost"]
    assert [(x["university_id"], x["post_id"]) for x in lost] == [("sdu", "P370303")]
    assert "sends 1 cadre(s) for 2 relay posts" in lost[0]["reason"]


# ---- rank fit -------------------------------------------------------------------------------

RANK_POSTS = (
    {"post_id": "P370102", "min_rank": "deputy_division"},
    {"post_id": "P370124", "min_rank": "deputy_section"},
)


@pytest.mark.parametrize("rank, steps_on_county", [("deputy_division", 2), ("deputy_section", 0), ("section", 1)])
def test_rank_fit_penalises_each_step_above_the_post(rank, steps_on_county):
    scenario = make_scenario(RANK_POSTS, [{"rank": rank}], policy={"factors": {"rank_fit": {"weight": 30}}})
    table = scored(scenario, {"c1": "P370124"})
    assert row(table)["score_rank_fit"] == -30.0 * steps_on_county
    assert row(table)["rank_excess"] == steps_on_county
    # Only a deputy-division cadre may take Lixia, where it fits exactly.
    expected, points = ("P370102", 0.0) if rank == "deputy_division" else ("P370124", -30.0 * steps_on_county)
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": expected}
    assert row(allocation)["score_rank_fit"] == points


def test_rank_fit_never_rewards_a_cadre_below_the_post():
    scenario = make_scenario(
        RANK_POSTS, [{"rank": "staff"}], policy={"rules": {"rank": False}, "factors": {"rank_fit": {"weight": 30}}}
    )
    assert row(scored(scenario, {"c1": "P370102"}))["score_rank_fit"] == 0.0


# ---- cost -----------------------------------------------------------------------------------


def other_city_cost(university: str, post: str) -> float:
    return 12 * 500 + FARE * distance_km(university, post)


def test_cost_same_city_is_cheapest_and_chosen():
    scenario = make_scenario(policy={"factors": {"cost": {"weight": 0.01}}})
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": "P370124"}  # Pingyin is in Jinan, like the campus
    assert row(allocation)["annual_cost_yuan"] == 3600
    assert row(allocation)["score_cost"] == approx(-36.0)


def test_cost_other_city_adds_the_round_trips_rounded_to_whole_yuan():
    scenario = make_scenario(policy={"factors": {"cost": {"weight": 0.01}}})
    raw = other_city_cost("sdu", "P370303")
    assert raw != round(raw)  # so the rounding is exercised
    table = scored(scenario, {"c1": "P370303"})
    assert row(table)["annual_cost_yuan"] == math.floor(raw + 0.5)
    assert row(table)["score_cost"] == approx(-0.01 * math.floor(raw + 0.5))


def test_cost_other_city_without_round_trips_is_the_allowance_alone():
    scenario = make_scenario(policy={"factors": {"cost": {"weight": 0.01, "round_trips_per_year": 0}}})
    assert row(scored(scenario, {"c1": "P370303"}))["annual_cost_yuan"] == 6000


@pytest.mark.parametrize("volunteer_cost_weight, expected", [(0.0, QINGHAI_POST), (0.01, "P370303")])
def test_cost_cross_province_posting(volunteer_cost_weight, expected):
    # The volunteer wishes Qinghai (100 points); at 0.01 per yuan Qinghai costs 236 points.
    scenario = make_scenario(
        ("P370303", QINGHAI_POST),
        [{"cross_province_ok": True}],
        wishes={"c1": [QINGHAI_POST]},
        policy={"factors": {"preferences": {"weight": 1}, "cost": {"weight": volunteer_cost_weight}}},
    )
    assert row(scored(scenario, {"c1": QINGHAI_POST}))["annual_cost_yuan"] == QINGHAI_COST
    assert placed(solved(scenario)) == {"c1": expected}


BUDGET_POSTS = ({"post_id": QINGHAI_POST, "capacity": 2}, "P370124", "P370303")
VOLUNTEERS = [{"cross_province_ok": True}, {"cross_province_ok": True}]


def budget_scenario(budget, *, on=True, scale=1.0):
    return make_scenario(
        BUDGET_POSTS,
        VOLUNTEERS,
        budgets={"sdu": budget},
        wishes={"c1": [QINGHAI_POST], "c2": [QINGHAI_POST]},
        policy={"factors": {"preferences": {"weight": 1}, "cost": {"weight": 0, "budget": on, "budget_scale": scale}}},
    )


@pytest.mark.parametrize(
    "budget, on, scale",
    [(30000, True, 1.0), (60000, True, 0.5)],
)
def test_cost_budget_binds(budget, on, scale):
    # Two Qinghai postings cost 47,200; within 30,000 the other cadre must stay in Jinan (3,600),
    # as Zibo costs 6,000 plus the round trips.
    allocation = solved(budget_scenario(budget, on=on, scale=scale))
    assert sorted(placed(allocation).values()) == ["P370124", QINGHAI_POST]
    [budget_row] = allocation.summary["side_constraints"]["cost"]
    assert budget_row["value"] == QINGHAI_COST + 3600
    assert budget_row["limit"] == 30000


@pytest.mark.parametrize("budget, on", [(50000, True), (30000, False)])
def test_cost_budget_that_does_not_bind(budget, on):
    allocation = solved(budget_scenario(budget, on=on))
    assert placed(allocation) == {"c1": QINGHAI_POST, "c2": QINGHAI_POST}


@pytest.mark.parametrize("relay", [None, "soft", "rule"])
def test_cost_budget_below_any_allocation_is_infeasible(relay):
    # Infeasible, not "no solution within the time limit", also when relay is a rule.
    scenario = budget_scenario(7000)
    if relay is not None:
        scenario = scenario.with_policy(factors={"relay": {"mode": relay}})
    with pytest.raises(pe.InfeasibleError):
        pe.solve(scenario)


# ---- pair scores ----------------------------------------------------------------------------


@pytest.mark.parametrize("post, other", [("P370303", "P370124"), ("P370124", "P370303")])
def test_pair_scores_listed_pair_scores_unlisted_pairs_zero(post, other):
    scenario = make_scenario(pair_scores=[("c1", post, 7.5)], policy={"factors": {"pair_scores": {"weight": 2}}})
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": post}
    assert row(allocation)["score_pair_scores"] == 15.0
    assert row(scored(scenario, {"c1": other}))["score_pair_scores"] == 0.0


def test_pair_scores_factor_needs_its_table():
    with pytest.raises(pe.InputError, match="pair_scores"):
        make_scenario(policy={"factors": {"pair_scores": {"weight": 2}}})


# ---- hard pair rules ------------------------------------------------------------------------

WISH = {"factors": {"preferences": {"weight": 1}}}


def with_rules(**rules):
    return {"rules": rules, "factors": {"preferences": {"weight": 1}}}


@pytest.mark.parametrize("rank_rule, expected", [(True, "P370124"), (False, "P370102")])
def test_rank_rule(rank_rule, expected):
    scenario = make_scenario(
        RANK_POSTS, [{"rank": "section"}], wishes={"c1": ["P370102"]}, policy=with_rules(rank=rank_rule)
    )
    assert placed(solved(scenario)) == {"c1": expected}


@pytest.mark.parametrize(
    "volunteer, rule, expected",
    [(False, True, "P370124"), (False, False, QINGHAI_POST), (True, True, QINGHAI_POST)],
)
def test_cross_province_volunteers_only_rule(volunteer, rule, expected):
    scenario = make_scenario(
        ("P370124", QINGHAI_POST),
        [{"cross_province_ok": volunteer}],
        wishes={"c1": ["630000"]},  # a province-level wish
        policy=with_rules(cross_province_volunteers_only=rule),
    )
    allocation = solved(scenario)
    assert placed(allocation) == {"c1": expected}
    assert row(allocation)["score_preferences"] == (100.0 if expected == QINGHAI_POST else 0.0)


@pytest.mark.parametrize(
    "pin, rule, expected",
    [
        (("c1", "P370303", "pin"), True, "P370303"),
        (("c1", "P370303", "pin"), False, "P370124"),
        (("c1", "P370124", "forbid"), True, "P370303"),
        (("c1", "P370124", "forbid"), False, "P370124"),
    ],
)
def test_pins_rule(pin, rule, expected):
    scenario = make_scenario(wishes={"c1": ["P370124"]}, pins=[pin], policy=with_rules(pins=rule))
    assert placed(solved(scenario)) == {"c1": expected}


@pytest.mark.parametrize("method", ["auto", "cpsat"])
def test_pin_places_the_cadre_even_when_not_every_cadre_must_be_placed(method):
    # Zibo scores -4.3 points; leaving the cadre out would score 0, but the pin says it must go.
    policy = {
        "rules": {"place_every_cadre": False},
        "factors": {"proximity": {"weight": 0.05}},
        "solver": {"method": method},
    }
    scenario = make_scenario(cadres=[{}, {}], pins=[("c1", "P370303", "pin")], policy=policy)
    assert placed(solved(scenario)) == {"c1": "P370303", "c2": ""}


def test_check_reports_a_pinned_cadre_left_out():
    scenario = make_scenario(pins=[("c1", "P370303", "pin")], policy={"rules": {"place_every_cadre": False}})
    report = pe.check_allocation(scenario, scored(scenario, {}))
    assert not report.ok
    assert any("c1" in v and "pin" in v for v in report.violations)


def test_pin_against_another_hard_rule_is_infeasible():
    scenario = make_scenario(RANK_POSTS, [{"rank": "section"}], pins=[("c1", "P370102", "pin")], policy=WISH)
    with pytest.raises(pe.InfeasibleError):
        pe.solve(scenario)


def test_place_every_cadre_rule():
    cadres = [{}, {}]
    wishes = {"c2": ["P370124"]}
    with pytest.raises(pe.InfeasibleError):
        pe.solve(make_scenario(("P370124",), cadres, wishes=wishes, policy=with_rules(place_every_cadre=True)))
    allocation = solved(make_scenario(("P370124",), cadres, wishes=wishes, policy=with_rules(place_every_cadre=False)))
    assert placed(allocation) == {"c1": "", "c2": "P370124"}


def test_fill_every_post_rule():
    # Everyone wishes Pingyin; the distance makes an unwished Zibo posting worse than none.
    cadres = [{}, {}, {}]
    wishes = {"c1": ["P370124"], "c2": ["P370124"], "c3": ["P370124"]}
    policy = with_rules(place_every_cadre=False, fill_every_post=False)
    policy["factors"]["proximity"] = {"weight": 0.05}
    assert sorted(placed(solved(make_scenario(cadres=cadres, wishes=wishes, policy=policy))).values()) == [
        "",
        "",
        "P370124",
    ]
    policy["rules"]["fill_every_post"] = True
    assert sorted(placed(solved(make_scenario(cadres=cadres, wishes=wishes, policy=policy))).values()) == [
        "",
        "P370124",
        "P370303",
    ]
    with pytest.raises(pe.InfeasibleError):
        pe.solve(make_scenario(cadres=[{}], policy=with_rules(fill_every_post=True)))


def test_every_registered_factor_has_a_row_in_the_docs_formula_table():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "objective.md").read_text(encoding="utf-8")
    table = text.split("| factor | s_f(c, p) | unit | default weight |", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[3:5] for line in table.splitlines()[2:]}
    assert list(rows) == list(pe.FACTORS)
    for name, (unit, weight) in rows.items():
        assert unit.strip().split(" (")[0] == pe.FACTORS[name].unit
        assert float(weight) == pe.FACTORS[name].Params().weight
