"""Per-cadre explanations: the sentences, the table, and prices against from-scratch pinned re-solves."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings

import placement_engine as pe
from tests.factories import Reference, make_scenario, placed
from tests.strategies import scenarios

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def default() -> pe.Allocation:
    return pe.solve(REPO / "scenarios" / "shandong-2011.yaml")


def granted(scenario: pe.Scenario, cadre: str, open_posts: list[str]) -> pe.Allocation:
    """A from-scratch solve with the cadre pinned to one post, or forbidden every post outside the wish."""
    tables = {name: frame.copy() for name, frame in scenario.tables.items()}
    posts = tables["posts"]["post_id"].tolist()
    rows = [(cadre, open_posts[0], "pin")] if len(open_posts) == 1 else [(cadre, p, "forbid") for p in posts if p not in open_posts]
    new = pd.DataFrame(rows, columns=["cadre_id", "post_id", "kind"])
    # the scenario's own pins count only when its policy obeys them; ours must count either way
    old = tables.get("pins") if scenario.policy.rules.pins else None
    tables["pins"] = new if old is None else pd.concat([old[old["cadre_id"] != cadre], new])
    policy = scenario.policy.override({"rules": {"pins": True}})
    return pe.solve(pe.scenario_from_tables(tables, policy, name="granted"))


def open_posts_of(scenario: pe.Scenario, row) -> list[str]:
    """The allowed posts a wish names, recomputed from the tables."""
    posts = scenario.tables["posts"]
    target = row.target
    named = posts[(posts["post_id"] == target) | (posts["prefecture"] == target) | (posts["province"] == target)]
    ref = Reference(scenario)
    return [p for p in named["post_id"] if ref.allowed(row.cadre_id, p)]


def assert_prices_match_from_scratch(allocation: pe.Allocation, table: pd.DataFrame) -> int:
    scenario = allocation.scenario.with_policy(allocation.policy)
    # both objectives are within n * 0.5 / S of their (equal) integer optima
    tolerance = allocation.metrics["assigned"] / allocation.summary["objective_scale"]
    checked = 0
    for row in table.itertuples():
        if row.status not in ("priced", "impossible"):
            continue
        posts = open_posts_of(scenario, row)
        assert len(posts) == row.posts_open
        if row.status == "impossible":
            with pytest.raises(pe.InfeasibleError):
                granted(scenario, row.cadre_id, posts)
            continue
        scratch = granted(scenario, row.cadre_id, posts)
        assert scratch.status == "OPTIMAL" and row.price_proven
        assert row.price_points == pytest.approx(allocation.objective - scratch.objective, abs=tolerance)
        assert placed(scratch)[row.cadre_id] in posts
        checked += 1
    return checked


def test_five_least_satisfied_cadres_of_the_default_scenario(default: pe.Allocation) -> None:
    worst = pe.least_satisfied(default, 5)
    assert worst == ["ouc-02", "qau-04", "wfu-01", "hzu-02", "sdtbu-01"]
    explainer = pe.Explainer(default)
    table = default.table.set_index("cadre_id")
    for cadre in worst:
        explanation = explainer.explain(cadre)
        row = table.loc[cadre]
        # the county's needs, when it listed any, come between the posting and the score
        first, score, *wishes = [s for s in explanation.sentences if not s.startswith("The county asked for")]
        assert first.startswith(f"{cadre} ({row['university_id']}, {row['rank']}) is posted to {row['post_id']} {row['post_name']} in ")
        assert score.startswith(f"Score there: {row['score_total']:.2f} points")
        assert len(wishes) == len(explanation.table) == (default.scenario.tables["preferences"]["cadre_id"] == cadre).sum()
        for sentence, wish in zip(wishes, explanation.table.itertuples()):
            assert sentence.startswith(f"Wish {wish.wish}, ")
            if wish.status == "priced":
                assert f"The optimum would drop by {wish.price_points:.2f} points" in sentence
                assert np.isclose(wish.price_points, sum(getattr(wish, f"price_{name}") for name in pe.FACTORS))
    documented = (REPO / "docs" / "explanations.md").read_text(encoding="utf-8").split("```text\n", 1)[1].split("```", 1)[0]
    assert "\n\n".join(str(explainer.explain(cadre)) for cadre in worst) == documented.strip()
    ouc02 = str(explainer.explain("ouc-02"))
    assert "is posted to P632224 刚察县 in 海北藏族自治州, which meets none of their wishes." in ouc02
    assert "Wish 1, P370785 高密市: allowed. Granting it would give P370785 高密市, now held by qut-01, who scores 90.28 there" in ouc02
    # wfu-01 is one of the 14 deputy-division cadres the 14 Jinan and Qingdao posts need
    wfu = explainer.explain("wfu-01")
    assert wfu.table["status"].tolist() == ["impossible", "impossible", "priced"]
    first_wish = next(s for s in wfu.sentences if s.startswith("Wish 1, "))
    assert "Granting it would break the hard rules; with wfu-01 there, 14 posts in 济南市 and 青岛市 require deputy_division" in first_wish


def test_prices_match_from_scratch_pinned_solves(default: pe.Allocation) -> None:
    explainer = pe.Explainer(default)
    table = pd.concat([explainer.explain(c).table for c in pe.least_satisfied(default, 5)])
    assert assert_prices_match_from_scratch(default, table) >= 10


def test_holder_and_factor_shares(default: pe.Allocation) -> None:
    wish = pe.explain(default, "ouc-02").table.iloc[0]
    assert wish["holders"] == "qut-01" and wish["granted_post"] == "P370785"
    assert wish["holder_score"] == pytest.approx(default.table.set_index("cadre_id").loc["qut-01", "score_total"])
    assert wish["price_preferences"] == pytest.approx(20.0)  # the wish points the whole allocation loses


@settings(max_examples=30)
@given(scenarios(max_cadres=6, max_posts=6, place_fill=False))
def test_prices_match_from_scratch_on_random_scenarios(scenario: pe.Scenario) -> None:
    try:
        allocation = pe.solve(scenario)
    except (pe.InfeasibleError, pe.NoSolutionError):
        return
    if allocation.status != "OPTIMAL":
        return
    table = pe.Explainer(allocation).explain_all()
    checked = assert_prices_match_from_scratch(allocation, table) if len(table) else 0
    side = "side rows" if allocation.summary["side_constraints"] or allocation.summary["lexicographic"] else "flow"
    event(f"{side}: {'prices checked' if checked else 'nothing priced'}")


def test_blocked_wishes_name_their_rules() -> None:
    scenario = make_scenario(
        posts=("P370124", {"post_id": "P370202", "min_rank": "deputy_division"}, "P632524"),
        cadres=({"rank": "section"}, {"rank": "deputy_division"}, {"cross_province_ok": True}),
        wishes={"c1": ["P370202", "630000", "P370124"]},
    )
    explanation = pe.explain(pe.solve(scenario), "c1")
    table = explanation.table
    assert table["status"].tolist()[:2] == ["not allowed", "not allowed"]
    assert table["blocked_by"].tolist()[:2] == ["rank:1", "cross_province:1"]
    assert explanation.sentences[2] == (
        "Wish 1, P370202 市南区: not allowed: rank blocks 1 post (the cadre's rank is below the post's minimum rank)."
    )
    assert explanation.sentences[3].startswith("Wish 2, 青海省 (province 630000, 1 post): not allowed: cross_province blocks 1 post")
    assert {"cadre_id", "post_id", "score_total", "score_preferences", "wish", "status", "price_points"} <= set(table.columns)


def test_granting_a_wish_places_the_cadre_without_place_every_cadre() -> None:
    # c1 would rather not be placed at all (a negative pair score), but granting its wish places it
    scenario = make_scenario(
        posts=("P370124",),
        cadres=({}, {}),
        wishes={"c1": ["P370124"]},
        pair_scores=[("c1", "P370124", -50), ("c2", "P370124", 10)],
        policy={"rules": {"place_every_cadre": False}, "factors": {"preferences": {"weight": 0}, "pair_scores": {}}},
    )
    allocation = pe.solve(scenario)
    assert placed(allocation) == {"c1": "", "c2": "P370124"}
    wish = pe.explain(allocation, "c1").table.iloc[0]
    assert wish["status"] == "priced" and wish["granted_post"] == "P370124" and wish["holders"] == "c2"
    assert wish["price_points"] == pytest.approx(60.0)


def test_explain_all_covers_every_cadre_who_missed_the_first_wish(default: pe.Allocation) -> None:
    table = pe.Explainer(default).explain_all()
    missed = default.table.loc[default.table["choice"].fillna(0) != 1, "cadre_id"]
    assert set(table["cadre_id"]) == set(missed)
    assert re.fullmatch(r"Wish \d+, .+", table["sentence"].iat[0], re.S)


def test_chinese_sentences_and_the_same_table(default: pe.Allocation) -> None:
    """The sentences and the wish's words follow the language; the table's machine columns do not."""
    explainer = pe.Explainer(default)
    english = explainer.explain("ouc-02")
    with pe.language("zh"):
        chinese = explainer.explain("ouc-02")
    assert chinese.sentences[0].startswith("ouc-02（ouc，副科级）安排至海北藏族自治州")
    first_wish = next(s for s in chinese.sentences if s.startswith("第1志愿"))
    assert first_wish.startswith("第1志愿，P370785 高密市：符合规定。若满足该志愿，将安排至P370785 高密市")
    assert "最优目标值将下降" in first_wish
    words = ["sentence", "target_name"]
    pd.testing.assert_frame_equal(english.table.drop(columns=words), chinese.table.drop(columns=words))
    assert chinese.table["target_name"].iat[3] == "烟台市（地级 370600，12个岗位）"


def test_the_explanation_and_the_notice_say_what_the_county_asked_for(default: pe.Allocation) -> None:
    table = default.table
    matched = table.loc[(table["needs_met"] > 0) & (table["choice"] != 1), "cadre_id"].iat[0]
    explainer = pe.Explainer(default)
    sentences = explainer.explain(matched).sentences
    assert any(s.startswith("The county asked for") and s.endswith("matches.") for s in sentences)
    with pe.language("zh"):
        assert "该县需求为" in pe.notice(explainer, matched) and "方面的专长与之相符" in pe.notice(explainer, matched)
