"""The local_needs factor: posts' needs met by cadres' skills ("better serving local development")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import placement_engine as pe
from placement_engine.errors import InputError
from placement_engine.factors import FACTORS
from placement_engine.factors.local_needs import NAMES, VOCABULARY
from placement_engine.i18n import language
from tests.factories import make_scenario, make_tables, placed, row, scored, solved

ROOT = Path(__file__).resolve().parent.parent
NEEDS_POLICY = {"factors": {"local_needs": {"weight": 10}}}
POSTS = ("P370124", "P370126")


def needs_scenario(needs: dict[str, str], skills: list[str], policy=NEEDS_POLICY) -> pe.Scenario:
    posts = [{"post_id": post, "needs": needs.get(post, "")} for post in POSTS]
    cadres = [{"skills": cell} for cell in skills]
    return make_scenario(posts, cadres, policy=policy)


def input_problems(tables) -> list:
    with pytest.raises(InputError) as error:
        pe.scenario_from_tables(tables, NEEDS_POLICY)
    return error.value.problems


def test_a_pair_scores_the_priorities_of_the_needs_the_skills_cover():
    scenario = needs_scenario({"P370124": "法律:2;农业;教育"}, ["法律;农业", "教育", "文化"])
    assert row(scored(scenario, {"c1": "P370124"}))["score_local_needs"] == 30.0
    assert row(scored(scenario, {"c2": "P370124"}), "c2")["score_local_needs"] == 10.0
    assert row(scored(scenario, {"c3": "P370124"}), "c3")["score_local_needs"] == 0.0
    assert row(scored(scenario, {"c1": "P370126"}))["score_local_needs"] == 0.0
    table = scored(scenario, {"c1": "P370124"})
    assert row(table)["needs_listed"] == 3 and row(table)["needs_met"] == 2


def test_the_solver_sends_each_cadre_where_their_skills_are_asked_for():
    scenario = needs_scenario({"P370124": "农业", "P370126": "法律"}, ["法律", "农业"])
    assert placed(solved(scenario)) == {"c1": "P370126", "c2": "P370124"}
    off = needs_scenario({"P370124": "农业", "P370126": "法律"}, ["法律", "农业"], policy={"factors": {"local_needs": {"weight": 0}}})
    assert solved(off).factor_totals["local_needs"] == 0


def test_needs_met_share_counts_the_placements_at_posts_that_asked_for_something():
    scenario = needs_scenario({"P370124": "农业;法律"}, ["法律", "教育"])
    met = solved(scenario.with_policy(factors={"local_needs": {"weight": 0}}))
    assert met.metrics["needs_met_share"] in (0.0, 1.0)  # one placement at a post with needs
    assert solved(scenario).metrics["needs_met_share"] == 1.0
    assert solved(needs_scenario({}, ["法律", "教育"])).metrics["needs_met_share"] is None


def test_english_aliases_and_full_width_separators_are_stored_in_the_canonical_form():
    scenario = needs_scenario({"P370124": " Law : 2；e-commerce;", "P370126": "Ethnic Unity:1"}, ["AGRICULTURE；law"])
    assert scenario.tables["posts"]["needs"].tolist() == ["法律:2;电子商务", "民族团结"]
    assert scenario.tables["cadres"]["skills"].tolist() == ["农业;法律"]
    assert row(scored(scenario, {"c1": "P370124"}))["score_local_needs"] == 20.0


@pytest.mark.parametrize(
    "cell",
    ["lawyer", "法律;法律", "法律:0", "法律:-1", "法律:two", "法律:2:3", "law;Law"],
)
def test_a_bad_needs_cell_names_the_file_row_the_vocabulary_and_the_cell(cell):
    tables = make_tables([{"post_id": "P370124", "needs": "农业"}, {"post_id": "P370126", "needs": cell}])
    (problem,) = input_problems(tables)
    assert (problem.file, problem.location) == ("posts", "row 3, column needs")
    assert all(f"{name} ({alias})" in problem.expected for name, alias in VOCABULARY.items())
    assert problem.got == repr(cell)


@pytest.mark.parametrize("cell", ["engineering", "法律:2", "教育;education"])
def test_a_bad_skills_cell_is_an_input_error(cell):
    (problem,) = input_problems(make_tables(cadres=[{"skills": cell}]))
    assert (problem.file, problem.location, problem.got) == ("cadres", "row 2, column skills", repr(cell))
    assert "skills from the vocabulary 法律 (law)" in problem.expected


def test_tables_without_needs_or_skills_score_nothing():
    scenario = make_scenario(policy=NEEDS_POLICY)
    assert scenario.tables["posts"]["needs"].tolist() == ["", ""]
    assert solved(scenario).factor_totals["local_needs"] == 0


def test_describe_pair_says_what_the_county_asked_for_and_what_matches():
    scenario = needs_scenario({"P370124": "农业;法律:2"}, ["法律;教育", "文化;科技", ""])
    inst, local_needs = scenario.instance, FACTORS["local_needs"]
    with language("en"):
        assert local_needs.describe_pair(inst, 0, 0) == (
            "The county asked for law and agriculture; your background in law matches."
        )
        assert local_needs.describe_pair(inst, 1, 0) == (
            "The county asked for law and agriculture; your background in technology and culture does not match it."
        )
        assert local_needs.describe_pair(inst, 2, 0) == "The county asked for law and agriculture; no skills are recorded for you."
        assert local_needs.describe_pair(inst, 0, 1) is None


cells = st.lists(st.sampled_from(NAMES), unique=True, max_size=4)


@settings(derandomize=True, deadline=None, max_examples=40)
@given(
    needs=st.lists(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from([1, 2, 0.5])), max_size=4), min_size=2, max_size=2),
    skills=st.lists(cells, min_size=1, max_size=3),
)
def test_scores_equal_a_plain_python_sum_over_every_pair(needs, skills):
    post_needs = [dict(items) for items in needs]  # one priority per need
    cells_of_posts = {post: ";".join(f"{n}:{p:g}" for n, p in wanted.items()) for post, wanted in zip(POSTS, post_needs)}
    scenario = needs_scenario(cells_of_posts, [";".join(s) for s in skills])
    inst = scenario.instance
    cadre, post = np.divmod(np.arange(inst.n_cadres * inst.n_posts), inst.n_posts)
    scores = FACTORS["local_needs"].scores(inst.pairs(cadre, post), scenario.policy.factors.local_needs)
    expected = [sum(p for n, p in post_needs[k].items() if n in skills[c]) for c, k in zip(cadre, post)]
    assert scores.tolist() == pytest.approx(expected)


def test_the_default_scenario_lists_needs_and_weighs_them():
    scenario = pe.load_scenario(ROOT / "scenarios" / "shandong-2011.yaml")
    assert scenario.policy.factors.local_needs.weight == 10
    assert (scenario.tables["posts"]["needs"] != "").all()
    allocation = pe.solve(scenario)
    assert allocation.check().ok
    assert allocation.factor_totals["local_needs"] > 0
    assert "score_local_needs" in allocation.table and 0 < allocation.metrics["needs_met_share"] < 1
    heavier = pe.solve(scenario.with_policy(scenario.variants["needs-first"].policy))
    assert heavier.metrics["needs_met_share"] > allocation.metrics["needs_met_share"]
