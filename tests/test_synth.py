"""Tests of the synthetic pool generator (placement_engine.synth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from placement_engine import data
from placement_engine.factors.local_needs import NAMES, parse_needs
from placement_engine.factors.preferences import shadowed_wishes
from placement_engine.geo import haversine_km
from placement_engine.ranks import RANK_LEVEL, RANKS
from placement_engine.synth import (
    CADRE_COLUMNS,
    HISTORY_COLUMNS,
    PARTNERSHIP_COLUMNS,
    PREFERENCE_COLUMNS,
    SKILLS,
    SynthConfig,
    generate,
    post_needs,
)
from placement_engine.synth.needs import ETHNIC_PROVINCES

HOME, AWAY = "370000", "630000"
PROPERTY = settings(derandomize=True, deadline=None, max_examples=40)


# ---------------------------------------------------------------- builders


@st.composite
def scenarios(draw):
    """Posts in 2-4 prefectures of one province plus 1-2 of a cross-province one, and 1-4 universities.

    Every in-province prefecture has a deputy_section post, so every cadre of that rank or
    above has somewhere to go; cross-province posts take staff rank.
    """
    rows = []
    for province, n_pref, ranks in (
        (HOME, draw(st.integers(2, 4)), ["staff", "deputy_section", "deputy_division"]),
        (AWAY, draw(st.integers(1, 2)), ["staff"]),
    ):
        for i in range(n_pref):
            prefecture = f"{province[:2]}{i + 1:02d}00"
            lon, lat = draw(st.floats(76, 130)), draw(st.floats(22, 50))
            for j in range(draw(st.integers(1, 4))):
                adcode = f"{prefecture[:4]}{j + 1:02d}"
                rank = "deputy_section" if province == HOME and j == 0 else draw(st.sampled_from(ranks))
                rows.append(
                    {
                        "post_id": f"p{adcode}",
                        "adcode": adcode,
                        "name": f"unit {adcode}",
                        "prefecture": prefecture,
                        "province": province,
                        "lon": lon + draw(st.floats(-0.8, 0.8)),
                        "lat": lat + draw(st.floats(-0.8, 0.8)),
                        "capacity": draw(st.integers(1, 2)),
                        "min_rank": rank,
                        "kind": draw(st.sampled_from(["district", "city", "county"])),
                    }
                )
    posts = pd.DataFrame(rows)
    home_posts = posts[posts["province"] == HOME]
    n_uni = draw(st.integers(1, 4))
    at = draw(st.lists(st.integers(0, len(home_posts) - 1), min_size=n_uni, max_size=n_uni))
    universities = pd.DataFrame(
        {
            "university_id": [f"u{i}" for i in range(n_uni)],
            "name": [f"University {i}" for i in range(n_uni)],
            "adcode": home_posts["adcode"].to_numpy()[at],
            "lon": home_posts["lon"].to_numpy()[at] + 0.01,
            "lat": home_posts["lat"].to_numpy()[at] + 0.01,
            "size": draw(st.lists(st.integers(500, 50_000), min_size=n_uni, max_size=n_uni)),
        }
    )
    if draw(st.booleans()):
        universities["prefecture"] = home_posts["prefecture"].to_numpy()[at]
        universities["province"] = HOME
    return posts, universities


@st.composite
def feasible_cases(draw):
    """A scenario with exact rank counts that can fill every post, and a config drawn around it."""
    posts, universities = draw(scenarios())
    cap = posts["capacity"]
    cross = int(cap[posts["province"] == AWAY].sum())
    dd_places = int(cap[posts["min_rank"] == "deputy_division"].sum())
    dd = dd_places + draw(st.integers(0, 2))
    section = draw(st.integers(0, 3))
    n = int(cap.sum()) + (dd - dd_places) + section + draw(st.integers(0, 3))
    counts = {"staff": cross, "section": section, "deputy_division": dd}
    counts["deputy_section"] = n - sum(counts.values())
    wishes_min = draw(st.integers(1, 3))
    config = SynthConfig(
        n_cadres=n,
        rank_counts=counts,
        volunteer_share=draw(st.floats(0, 0.5)),
        wishes_min=wishes_min,
        wishes_max=draw(st.integers(wishes_min, 5)),
        partnerships_per_university=draw(st.floats(0, 4)),
        history_batches=draw(st.integers(0, 3)),
    )
    return posts, universities, config, draw(st.integers(0, 2**32 - 1))


def largest_remainder(exact: np.ndarray, total: int) -> np.ndarray:
    floor = np.floor(exact).astype(int)
    order = sorted(range(len(exact)), key=lambda i: (floor[i] - exact[i], i))
    floor[order[: total - floor.sum()]] += 1
    return floor


def shandong() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 2011 Shandong units plus 16 Qinghai units, as in the first batch."""
    units = pd.concat([data.shandong_2011(), data.qinghai_2011().head(16)], ignore_index=True)
    posts = units.rename(columns={"prefecture_code": "prefecture", "province_code": "province"})
    posts["post_id"] = posts["adcode"]
    posts["capacity"] = 1
    posts["min_rank"] = np.where(posts["province"] == AWAY, "staff", "deputy_section")
    sub_provincial = posts["prefecture"].isin(["370100", "370200"]) & (posts["kind"] == "district")
    posts.loc[sub_provincial, "min_rank"] = "deputy_division"
    universities = data.shandong_universities()
    universities = universities[universities["size"] > 0]
    return posts, universities.rename(columns={"prefecture_code": "prefecture", "province_code": "province"})


# ---------------------------------------------------------------- checks shared by the properties


def check_pool(posts, universities, config, out):
    cadres, prefs = out["cadres"], out["preferences"]
    assert list(cadres.columns) == CADRE_COLUMNS
    assert list(prefs.columns) == PREFERENCE_COLUMNS
    assert list(out["partnerships"].columns) == PARTNERSHIP_COLUMNS
    assert list(out["history"].columns) == HISTORY_COLUMNS
    assert cadres["cross_province_ok"].dtype == bool

    # cadres
    assert len(cadres) == config.n_cadres
    assert cadres["cadre_id"].is_unique
    assert (cadres["cadre_id"].str.rsplit("-", n=1).str[0] == cadres["university_id"]).all()
    assert set(cadres["rank"]) <= set(RANKS)
    senior_first = cadres["rank"].map(RANK_LEVEL).groupby(cadres["university_id"]).is_monotonic_decreasing
    assert senior_first.all()
    skills = cadres["skills"].str.split(";")
    assert skills.map(len).between(1, 2).all()
    assert skills.map(lambda s: set(s) <= set(SKILLS) and len(set(s)) == len(s)).all()
    places = set(posts["prefecture"]) | set(universities["adcode"].str[:4] + "00")
    assert set(cadres["home_prefecture"]) <= places

    # quotas: within 1 of the largest-remainder rounding of size, at least one each
    size = universities.set_index("university_id")["size"].astype(float)
    exact = config.n_cadres * size.to_numpy() / size.sum()
    lr = largest_remainder(exact, config.n_cadres)
    quota = cadres["university_id"].value_counts().reindex(size.index, fill_value=0).to_numpy()
    assert quota.sum() == config.n_cadres
    assert (quota <= lr + 1).all()
    if config.n_cadres >= len(size):
        assert (quota >= 1).all()
    if (lr == 0).sum() <= (lr >= 2).sum():
        assert (quota >= lr - 1).all()
    if (lr > 0).all():
        assert (quota == lr).all()

    # wishes: count, contiguous choices, real and distinct targets
    per = prefs.groupby("cadre_id")["choice"]
    assert set(per.groups) == set(cadres["cadre_id"])
    assert per.size().between(config.wishes_min, config.wishes_max).all()
    assert (per.min() == 1).all() and (per.max() == per.size()).all() and per.apply(lambda c: c.is_unique).all()
    assert not prefs.duplicated(["cadre_id", "target"]).any()
    assert set(prefs["target"]) <= set(posts["post_id"]) | set(posts["prefecture"]) | set(posts["province"])

    # wishes: never above the cadre's rank, never cross-province without volunteering
    uni_province = universities["adcode"].str[:2] + "0000"
    uni_province.index = universities["university_id"]
    w = prefs.merge(cadres, on="cadre_id")
    w["level"] = w["rank"].map(RANK_LEVEL)
    w["home"] = w["university_id"].map(uni_province)
    holdable = posts.assign(min_level=posts["min_rank"].map(RANK_LEVEL))
    for key in ("post_id", "prefecture", "province"):
        hits = w.merge(holdable, left_on="target", right_on=key, suffixes=("", "_post"))
        if key == "post_id":
            assert (hits["level"] >= hits["min_level"]).all()
        else:  # a place is fine if it has a post the cadre may hold
            fits = hits[hits["level"] >= hits["min_level"]]
            assert set(hits["cadre_id"] + hits["target"]) == set(fits["cadre_id"] + fits["target"])
        assert (hits["cross_province_ok"] | (hits["province"] == hits["home"])).all()

    # partnerships and history name real things
    part, hist = out["partnerships"], out["history"]
    assert set(part["university_id"]) <= set(universities["university_id"])
    assert set(part["target"]) <= set(posts["post_id"]) | set(posts["prefecture"])
    assert not part.duplicated().any()
    assert sorted(hist["batch"].unique()) == list(range(1, config.history_batches + 1))
    for _, batch in hist.groupby("batch"):
        assert sorted(batch["post_id"]) == sorted(posts["post_id"])
    assert set(hist["university_id"]) <= set(cadres["university_id"])


# ---------------------------------------------------------------- properties


@PROPERTY
@given(feasible_cases())
def test_generated_pools_keep_every_rule(case):
    posts, universities, config, seed = case
    out = generate(posts, universities, config, seed)
    check_pool(posts, universities, config, out)
    cadres = out["cadres"]
    assert cadres["rank"].value_counts().reindex(list(RANKS), fill_value=0).to_dict() == config.rank_counts
    cross = int(posts.loc[posts["province"] == AWAY, "capacity"].sum())
    n_staff = config.rank_counts["staff"]
    expected = max(int(np.floor(config.volunteer_share * config.n_cadres + 0.5)), cross, n_staff)
    assert cadres["cross_province_ok"].sum() == expected
    assert cadres.loc[cadres["rank"] == "staff", "cross_province_ok"].all()


@PROPERTY
@given(feasible_cases())
def test_same_seed_same_tables(case):
    posts, universities, config, seed = case
    first, second = generate(posts, universities, config, seed), generate(posts, universities, config, seed)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


@PROPERTY
@given(scenarios(), st.dictionaries(st.sampled_from(RANKS), st.integers(1, 10), min_size=1), st.integers(0, 30))
def test_rank_shares_are_met_within_rounding(scenario, weights, extra):
    posts, universities = scenario
    posts = posts.assign(min_rank="staff")  # any rank mix can then fill the posts
    total = sum(weights.values())
    shares = {rank: w / total for rank, w in weights.items()}
    n = int(posts["capacity"].sum()) + extra
    config = SynthConfig(n_cadres=n, rank_shares=shares)
    cadres = generate(posts, universities, config, seed=extra)["cadres"]
    got = cadres["rank"].value_counts()
    for rank in RANKS:
        assert abs(got.get(rank, 0) - shares.get(rank, 0.0) * n) < 1


# ---------------------------------------------------------------- plain tests


def test_shandong_first_batch_shape_and_skews():
    posts, universities = shandong()
    config = SynthConfig(volunteer_cross_wish_prob=1.0)
    out = generate(posts, universities, config, seed=7)
    check_pool(posts, universities, config, out)
    cadres, prefs = out["cadres"], out["preferences"]
    assert cadres["rank"].value_counts().to_dict() == {
        "deputy_section": 86, "section": 40, "staff": 16, "deputy_division": 14,
    }
    assert cadres["cadre_id"].iloc[0].endswith("-01")
    w = prefs.merge(cadres, on="cadre_id")
    # every volunteer wishes for a cross-province target when the probability is 1
    away = w["target"].str.startswith("63")
    assert away.groupby(w["cadre_id"]).any()[cadres.loc[cadres["cross_province_ok"], "cadre_id"]].all()
    # deputy-division cadres wish mostly for the posts that need their rank
    dd_posts = set(posts.loc[posts["min_rank"] == "deputy_division", "post_id"])
    dd_wishes = w[(w["rank"] == "deputy_division") & w["target"].isin(posts["post_id"])]
    assert dd_wishes["target"].isin(dd_posts).mean() > 0.5
    # first wishes lie nearer than the average post the cadre could hold
    uni = universities.set_index("university_id")
    first = w[(w["choice"] == 1) & w["target"].isin(posts["post_id"]) & ~w["cross_province_ok"]]
    post = posts.set_index("post_id")
    d_first = _km(uni.loc[first["university_id"]], post.loc[first["target"]])
    home_posts = post[post["province"] == HOME]
    d_all = np.mean([_km(uni.loc[[u]], home_posts).mean() for u in first["university_id"]])
    assert d_first.mean() < 0.6 * d_all
    # home prefectures and partnerships lean to the university's own prefecture
    own = cadres["university_id"].map(uni["prefecture"])
    assert (cadres["home_prefecture"] == own).mean() > 0.25
    part = out["partnerships"]
    place = part["target"].map(post["prefecture"]).fillna(part["target"])
    assert (place == part["university_id"].map(uni["prefecture"])).mean() > 0.3


def test_target_levels_follow_the_shares():
    posts, universities = shandong()
    config = SynthConfig(n_cadres=600, rank_shares={"staff": 0.1, "deputy_section": 0.8, "deputy_division": 0.1},
                         min_volunteers=0)
    posts = posts.assign(capacity=4)
    prefs = generate(posts, universities, config, seed=3)["preferences"]
    level = np.where(prefs["target"].isin(posts["post_id"]), "post",
                     np.where(prefs["target"].str.endswith("0000"), "province", "prefecture"))
    share = pd.Series(level).value_counts(normalize=True)
    assert share["post"] == pytest.approx(0.80, abs=0.05)
    assert share["prefecture"] == pytest.approx(0.15, abs=0.05)
    assert share["province"] == pytest.approx(0.05, abs=0.03)


def _km(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    return haversine_km(a["lon"].to_numpy(), a["lat"].to_numpy(), b["lon"].to_numpy(), b["lat"].to_numpy())


def test_quotas_take_one_from_each_before_two_from_any():
    posts, universities = shandong()
    # largest remainder gives 3, 0, 2, 0; the two zeros are paid by the two biggest, one each
    universities = universities.head(4).assign(size=[81, 7, 81, 9])
    config = SynthConfig(n_cadres=5, min_volunteers=0, rank_counts={"deputy_section": 5})
    cadres = generate(posts, universities, config, seed=0)["cadres"]
    quota = cadres["university_id"].value_counts().reindex(universities["university_id"]).tolist()
    assert quota == [2, 1, 1, 1]


def test_different_seeds_give_different_pools():
    posts, universities = shandong()
    one, two = (generate(posts, universities, SynthConfig(), seed=s) for s in (1, 2))
    for name in ("cadres", "preferences", "partnerships", "history"):
        assert not one[name].equals(two[name])


def test_no_history_gives_an_empty_table_with_the_columns():
    posts, universities = shandong()
    history = generate(posts, universities, SynthConfig(history_batches=0), seed=0)["history"]
    assert history.empty and list(history.columns) == HISTORY_COLUMNS


def test_full_relay_repeats_the_first_batch():
    posts, universities = shandong()
    history = generate(posts, universities, SynthConfig(history_batches=3, history_relay_share=1.0), seed=0)["history"]
    holders = history.pivot(index="post_id", columns="batch", values="university_id")
    assert (holders[2] == holders[1]).all() and (holders[3] == holders[1]).all()


def test_university_filter():
    posts, universities = shandong()
    chosen = ["sdu", "ouc", "upc"]
    config = SynthConfig(n_cadres=30, universities=chosen, min_volunteers=0, rank_counts={"deputy_section": 30})
    cadres = generate(posts, universities, config, seed=0)["cadres"]
    assert set(cadres["university_id"]) == set(chosen)
    with pytest.raises(ValueError, match="unknown ids"):
        generate(posts, universities, SynthConfig(universities=["nowhere"]), seed=0)


def test_too_few_senior_cadres_is_an_error():
    posts, universities = shandong()
    counts = {"staff": 16, "deputy_section": 132, "deputy_division": 8}
    with pytest.raises(ValueError, match="rank >= deputy_division offer 13 places but only 8"):
        generate(posts, universities, SynthConfig(rank_counts=counts), seed=0)


def test_too_few_volunteers_is_an_error():
    posts, universities = shandong()
    config = SynthConfig(rank_counts={"deputy_section": 142, "deputy_division": 14}, volunteer_share=0.05,
                         min_volunteers=3)
    with pytest.raises(ValueError, match="offer 16 places but only 8 cadres volunteer"):
        generate(posts, universities, config, seed=0)


def test_more_volunteers_than_cadres_is_an_error():
    posts, universities = shandong()
    with pytest.raises(ValueError, match="16 volunteers are required but n_cadres is only 10"):
        generate(posts, universities, SynthConfig(n_cadres=10), seed=0)


def test_cadre_with_nothing_to_wish_for_is_an_error():
    posts, universities = shandong()
    # staff cadres who do not volunteer: no post in Shandong takes staff rank
    config = SynthConfig(n_cadres=200, rank_counts={"staff": 20, "deputy_section": 166, "deputy_division": 14},
                         staff_only_volunteers=False, volunteer_share=0.5)
    with pytest.raises(ValueError, match="rank staff, volunteer False"):
        generate(posts, universities, config, seed=0)


def test_bad_tables_are_errors():
    posts, universities = shandong()
    with pytest.raises(ValueError, match="missing columns"):
        generate(posts.drop(columns="min_rank"), universities, SynthConfig(), seed=0)
    with pytest.raises(ValueError, match="min_rank must be one of"):
        generate(posts.assign(min_rank="vice-director"), universities, SynthConfig(), seed=0)
    with pytest.raises(ValueError, match="size must be a positive number"):
        generate(posts, universities.assign(size=0), SynthConfig(), seed=0)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"n_cadre": 10}, "Extra inputs are not permitted"),
        ({"rank_shares": {"staff": 0.5, "captain": 0.5}}, "unknown keys"),
        ({"rank_shares": {"staff": 0.5}}, "add up to 1"),
        ({"target_level_shares": {"post": 0.9, "county": 0.1}}, "unknown keys"),
        ({"rank_counts": {"staff": 156}, "rank_shares": {"staff": 1.0}}, "not both"),
        ({"rank_counts": {"staff": 10}}, "n_cadres is 156"),
        ({"wishes_min": 4, "wishes_max": 3}, "above wishes_max"),
        ({"kind_weights": {"district": 0}}, "must be > 0"),
    ],
)
def test_config_rejects_bad_values(fields, message):
    with pytest.raises(ValidationError, match=message):
        SynthConfig(**fields)


# ---------------------------------------------------------------- wishes that nest, and needs


@PROPERTY
@given(feasible_cases())
def test_specific_wishes_first_reorders_so_that_every_wish_can_count(case):
    posts, universities, config, seed = case
    drawn = generate(posts, universities, config, seed)["preferences"]
    reordered = generate(posts, universities, config.model_copy(update={"specific_wishes_first": True}), seed)["preferences"]
    tables = {"preferences": reordered, "posts": posts}
    assert shadowed_wishes(tables) == []
    same_targets = lambda prefs: prefs.groupby("cadre_id")["target"].apply(frozenset)  # noqa: E731
    assert same_targets(drawn).equals(same_targets(reordered))
    numbers = reordered.groupby("cadre_id", sort=False)["choice"].apply(list)
    assert all(choices == list(range(1, len(choices) + 1)) for choices in numbers)


def test_the_skills_vocabulary_is_the_local_needs_one():
    assert SKILLS == NAMES


def test_post_needs_are_seeded_valid_and_follow_the_kind_of_unit():
    posts = national_like_posts()
    needs = post_needs(posts, seed=11)
    assert (needs == post_needs(posts, seed=11)).all() and not (needs == post_needs(posts, seed=12)).all()
    values, bad, _ = parse_needs(needs.astype(str))
    assert not bad.any() and (values == needs).all()  # already canonical
    items = pd.Series(needs).str.split(";")
    assert items.map(len).between(1, 3).all()
    names = items.map(lambda cell: {item.split(":")[0] for item in cell})
    ethnic = names.map(lambda s: "民族团结" in s)
    assert not ethnic[~posts["province"].isin(ETHNIC_PROVINCES) & ~posts["kind"].str.startswith("autonomous")].any()
    assert ethnic[posts["province"] == "630000"].mean() > 0.2
    farming = names.map(lambda s: "农业" in s)
    assert farming[posts["kind"] == "county"].mean() > 2 * farming[posts["kind"] == "district"].mean()
    assert pd.Series(needs).str.contains(":2").mean() == pytest.approx(0.3, abs=0.1)


def national_like_posts() -> pd.DataFrame:
    units = data.counties()
    return pd.DataFrame(
        {
            "post_id": "P" + units["adcode"],
            "name": units["name"],
            "kind": units["kind"],
            "province": units["province_code"],
        }
    )


def test_post_needs_rejects_impossible_counts():
    with pytest.raises(ValueError, match="needs_min"):
        post_needs(national_like_posts().head(3), seed=1, needs_min=2, needs_max=1)
