"""Reading and validating scenario files: one test per kind of bad input, exact messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import placement_engine as pe
from placement_engine import io
from placement_engine.factors import FACTORS
from placement_engine.schema import TABLES, Policy, Rules, ScenarioFile

TINY = Path(__file__).parent / "fixtures" / "tiny"
TABLE_NAMES = ["posts", "cadres", "universities", "preferences", "partnerships", "history"]
RANKS = "one of staff, deputy_section, section, deputy_division, division"
# the key lists come from the models, so that a new key or factor does not break the message tests
SCENARIO_KEYS = "one of " + ", ".join(sorted(ScenarioFile.model_fields))
POLICY_KEYS = "one of " + ", ".join(sorted(Policy.model_fields))
FACTOR_NAMES = "one of " + ", ".join(sorted(FACTORS))
TABLE_KEYS = "one of " + ", ".join(TABLES)
RULE_KEYS = "one of " + ", ".join(sorted(Rules.model_fields))
WISH_TARGET = "a post_id, prefecture code or province code from posts.csv"


@pytest.fixture
def scn(tmp_path: Path) -> Path:
    """A private copy of the tiny scenario folder, to break one thing in."""
    folder = tmp_path / "scn"
    shutil.copytree(TINY, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def problems(scenario: Path, **kwargs) -> list[str]:
    with pytest.raises(pe.InputError) as caught:
        pe.load_scenario(scenario, **kwargs)
    return [str(p) for p in caught.value.problems]


# ---- the fixture itself ----------------------------------------------------------------------


def test_tiny_scenario_loads(scn: Path) -> None:
    scenario = pe.load_scenario(scn / "scenario.yaml")
    assert scenario.name == "tiny"
    assert scenario.counts() == {
        "posts": 6,
        "cadres": 6,
        "universities": 3,
        "preferences": 11,
        "partnerships": 2,
        "history": 2,
    }
    assert scenario.seed == 7
    assert set(scenario.hashes) == {"scenario", "policy", *TABLE_NAMES}


def test_input_error_lists_every_problem_under_a_count(scn: Path) -> None:
    append(scn / "scenario.yaml", "sead: 3\n")
    with pytest.raises(pe.InputError) as caught:
        pe.load_scenario(scn / "scenario.yaml")
    assert str(caught.value) == (
        "1 problem in the input:\n"
        f"  - scenario.yaml key sead: expected a known key ({SCENARIO_KEYS}); got unknown key 'sead'"
    )
    assert caught.value.exit_code == 2


# ---- scenario and policy YAML ----------------------------------------------------------------


def test_unknown_scenario_key(scn: Path) -> None:
    append(scn / "scenario.yaml", "sead: 3\n")
    assert problems(scn / "scenario.yaml") == [
        f"scenario.yaml key sead: expected a known key ({SCENARIO_KEYS}); got unknown key 'sead'"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "name: tiny-policy",
            "name: tiny-policy\nweights: {}",
            f"policy.yaml key weights: expected a known key ({POLICY_KEYS}); got unknown key 'weights'",
            id="top-level",
        ),
        pytest.param(
            "  pins: true",
            "  pin: true",
            f"policy.yaml key rules.pin: expected a known key ({RULE_KEYS}); got unknown key 'pin'",
            id="rule",
        ),
        pytest.param(
            "proximity: {weight: 0.05}",
            "proximity: {weight: 0.05, max_kms: 300}",
            "policy.yaml key factors.proximity.max_kms: expected a known key (one of max_km, weight); "
            "got unknown key 'max_kms'",
            id="factor-parameter",
        ),
    ],
)
def test_unknown_policy_key(scn: Path, old: str, new: str, message: str) -> None:
    edit(scn / "policy.yaml", old, new)
    assert problems(scn / "scenario.yaml") == [message]


def test_unknown_factor_name_lists_the_factors(scn: Path) -> None:
    edit(scn / "policy.yaml", "factors:\n", "factors:\n  prefs: {}\n")
    assert problems(scn / "scenario.yaml") == [
        f"policy.yaml key factors.prefs: expected a factor name ({FACTOR_NAMES}); got unknown key 'prefs'"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "rank_fit: {weight: 30}",
            "rank_fit: {weight: heavy}",
            "policy.yaml key factors.rank_fit.weight: expected a valid number; got 'heavy'",
            id="weight",
        ),
        pytest.param(
            "mode: soft",
            "mode: hard",
            "policy.yaml key factors.relay.mode: expected 'soft' or 'rule'; got 'hard'",
            id="choice",
        ),
        pytest.param(
            "  pins: true",
            "  pins: maybe",
            "policy.yaml key rules.pins: expected a valid boolean; got 'maybe'",
            id="boolean",
        ),
        pytest.param(
            "time_limit_s: 10",
            "time_limit_s: -1",
            "policy.yaml key solver.time_limit_s: expected a number greater than 0; got -1",
            id="bound",
        ),
        pytest.param(
            "points: [100, 80, 60]",
            "points: []",
            "policy.yaml key factors.preferences.points: expected at least one value; got []",
            id="empty-list",
        ),
    ],
)
def test_bad_value_in_policy(scn: Path, old: str, new: str, message: str) -> None:
    edit(scn / "policy.yaml", old, new)
    assert problems(scn / "scenario.yaml") == [message]


def test_missing_required_scenario_key(scn: Path) -> None:
    edit(scn / "scenario.yaml", "name: tiny\n", "")
    assert problems(scn / "scenario.yaml") == ["scenario.yaml key name: expected a value (required); got nothing"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "seed: 7",
            "seed: seven",
            "scenario.yaml key seed: expected a valid integer; got 'seven'",
            id="seed",
        ),
        pytest.param(
            "policy: policy.yaml",
            "policy: [policy.yaml]",
            "scenario.yaml key policy: expected a valid string or a valid dictionary; got ['policy.yaml']",
            id="policy-union",
        ),
        pytest.param(
            "posts: posts.csv",
            "posts: 5",
            "scenario.yaml key tables.posts: expected a valid string; got 5",
            id="table-file",
        ),
    ],
)
def test_bad_value_in_scenario(scn: Path, old: str, new: str, message: str) -> None:
    edit(scn / "scenario.yaml", old, new)
    assert problems(scn / "scenario.yaml") == [message]


def test_missing_required_table_key(scn: Path) -> None:
    edit(scn / "scenario.yaml", "  history: history.csv\n", "")
    assert problems(scn / "scenario.yaml") == [
        "scenario.yaml key tables.history: expected a file for this required table; got nothing"
    ]


def test_unknown_table_key(scn: Path) -> None:
    edit(scn / "scenario.yaml", "  history: history.csv\n", "  history: history.csv\n  pinz: pins.csv\n")
    assert problems(scn / "scenario.yaml") == [
        f"scenario.yaml key tables.pinz: expected a table name ({TABLE_KEYS}); got 'pinz'"
    ]


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param(
            "scenario.yaml",
            "name: tiny",
            "name: [tiny",
            "scenario.yaml line 3, column 12: expected valid YAML; got expected ',' or ']', but got ':'",
            id="scenario",
        ),
        pytest.param(
            "policy.yaml",
            "  rank: true",
            "  rank: true\n  - oops",
            "policy.yaml line 4, column 3: expected valid YAML; got expected <block end>, but found '-'",
            id="policy",
        ),
    ],
)
def test_invalid_yaml_syntax(scn: Path, name: str, old: str, new: str, message: str) -> None:
    edit(scn / name, old, new)
    assert problems(scn / "scenario.yaml") == [message]


@pytest.mark.parametrize(
    ("text", "got"),
    [
        pytest.param("- posts.csv\n- cadres.csv\n", "a list of 2 items", id="list"),
        pytest.param("", "an empty document", id="empty"),
        pytest.param("tiny\n", "a single value 'tiny'", id="scalar"),
    ],
)
def test_scenario_that_is_not_a_mapping(scn: Path, text: str, got: str) -> None:
    (scn / "scenario.yaml").write_text(text, encoding="utf-8")
    assert problems(scn / "scenario.yaml") == [f"scenario.yaml: expected a mapping of keys to values; got {got}"]


# ---- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["history.csv", "policy.yaml"])
def test_missing_file(scn: Path, name: str) -> None:
    (scn / name).unlink()
    assert problems(scn / "scenario.yaml") == [f"{name}: expected an existing file; got no such file"]


def test_missing_scenario_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "nowhere.yaml") == ["nowhere.yaml: expected an existing file; got no such file"]


@pytest.mark.parametrize(
    ("extra", "encoding", "note"),
    [
        ("", "gbk", "posts.csv, universities.csv read as GBK"),
        ("㐀", "gb18030", "posts.csv read as GB18030; universities.csv read as GBK"),  # 㐀 is in GB18030, not in GBK
    ],
)
def test_gbk_and_gb18030_files_are_read_and_reported(scn: Path, extra: str, encoding: str, note: str) -> None:
    # Excel on Chinese Windows saves CSV as GBK by default
    edit(scn / "posts.csv", "历下区", "历下区" + extra)
    expected = pe.load_scenario(scn / "scenario.yaml")
    for name in ("universities", "posts"):
        text = (scn / f"{name}.csv").read_text(encoding="utf-8")
        (scn / f"{name}.csv").write_bytes(text.encode("gb18030"))
    scenario = pe.load_scenario(scn / "scenario.yaml")
    assert scenario.table_encodings["posts"] == encoding
    assert scenario.table_encodings["universities"] == "gbk"
    assert scenario.table_encodings["cadres"] == "utf-8"
    for name in ("universities", "posts"):
        pd.testing.assert_frame_equal(scenario.tables[name], expected.tables[name])
    assert io.encoding_note(scenario) == f"encodings: {note} (not UTF-8; the text is the same)"
    assert io.encoding_note(expected) is None


def test_text_in_no_known_encoding(scn: Path) -> None:
    # 0x80 alone is no character in UTF-8, GBK or GB18030
    path = scn / "universities.csv"
    data = path.read_bytes()
    at = data.index(b"\n") + 1
    path.write_bytes(data[:at] + b"\x80" + data[at:])
    assert problems(scn / "scenario.yaml") == [
        f"universities.csv line 2 (byte {at}): expected text in UTF-8, GBK or GB18030; "
        "got byte 0x80, which none of them allows here (save the file as CSV UTF-8)"
    ]


def test_utf8_byte_order_mark_is_accepted(scn: Path) -> None:
    path = scn / "universities.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    scenario = pe.load_scenario(scn / "scenario.yaml")
    assert list(scenario.tables["universities"]["university_id"]) == ["sdu", "sdut", "ujn"]


def test_empty_csv_file(scn: Path) -> None:
    (scn / "history.csv").write_text("", encoding="utf-8")
    assert problems(scn / "scenario.yaml") == [
        "history.csv: expected a header row with the column names; got an empty file"
    ]


def test_header_only_csv_is_an_empty_table(scn: Path) -> None:
    (scn / "history.csv").write_text("batch,university_id,post_id\n", encoding="utf-8")
    assert len(pe.load_scenario(scn / "scenario.yaml").tables["history"]) == 0


def test_row_with_too_many_cells(scn: Path) -> None:
    append(scn / "posts.csv", "P370104,370104,槐荫区,370100,370000,116.9,36.65,1,staff,extra,cells\n")
    assert problems(scn / "scenario.yaml") == ["posts.csv row 8: expected 9 cells, as in the header row; got 11 cells"]


# ---- columns and cells -----------------------------------------------------------------------


def test_missing_column(scn: Path) -> None:
    edit(scn / "posts.csv", ",min_rank", ",minrank")
    assert problems(scn / "scenario.yaml") == [
        "posts.csv column min_rank: expected a column named 'min_rank'; "
        "got columns post_id, adcode, name, prefecture, province, lon, lat, capacity, minrank"
    ]


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param(
            "posts.csv",
            "117.076441",
            "east",
            "posts.csv row 2, column lon: expected a longitude inside China (73 to 136); got 'east'",
            id="lon-not-a-number",
        ),
        pytest.param(
            "posts.csv",
            ",36.666465,1,",
            ",36.666465,1.5,",
            "posts.csv row 2, column capacity: expected a whole number >= 0; got '1.5'",
            id="capacity-not-whole",
        ),
        pytest.param(
            "cadres.csv",
            "sdu-01,sdu,deputy_division,false",
            "sdu-01,sdu,deputy_division,maybe",
            "cadres.csv row 2, column cross_province_ok: expected true or false (or 是/否); got 'maybe'",
            id="not-a-boolean",
        ),
        pytest.param(
            "posts.csv",
            "P370102,370102,",
            "P370102,37010,",
            "posts.csv row 2, column adcode: expected a 6-digit administrative code; got '37010'",
            id="short-code",
        ),
        pytest.param(
            "preferences.csv",
            "sdu-01,2,370100",
            "sdu-01,0,370100",
            "preferences.csv row 3, column choice: expected a whole number >= 1; got '0'",
            id="choice-zero",
        ),
        pytest.param(
            "history.csv",
            "1,sdut,P370322",
            "first,sdut,P370322",
            "history.csv row 2, column batch: expected a whole number; got 'first'",
            id="batch",
        ),
        pytest.param(
            "cadres.csv",
            "ujn-02,ujn,",
            ",ujn,",
            # the blank id also leaves ujn-02's wish without its cadre
            [
                "cadres.csv row 7, column cadre_id: expected a non-empty id; got ''",
                "preferences.csv row 12, column cadre_id: expected a cadre_id from cadres.csv; got 'ujn-02'",
            ],
            id="blank-id",
        ),
    ],
)
def test_bad_cell(scn: Path, name: str, old: str, new: str, message) -> None:
    edit(scn / name, old, new)
    assert problems(scn / "scenario.yaml") == (message if isinstance(message, list) else [message])


@pytest.mark.parametrize(
    ("name", "row", "message"),
    [
        pytest.param(
            "posts.csv",
            "P370102,370103,市中区,370100,370000,116.99,36.65,1,staff\n",
            "posts.csv row 8, column post_id: expected a unique post_id; got 'P370102' again (first at row 2)",
            id="post_id",
        ),
        pytest.param(
            "cadres.csv",
            "sdu-01,sdu,staff,false\n",
            "cadres.csv row 8, column cadre_id: expected a unique cadre_id; got 'sdu-01' again (first at row 2)",
            id="cadre_id",
        ),
        pytest.param(
            "universities.csv",
            "sdut,山东理工大学,370303,118.0,36.8\n",
            "universities.csv row 5, column university_id: expected a unique university_id; "
            "got 'sdut' again (first at row 3)",
            id="university_id",
        ),
    ],
)
def test_duplicate_id_says_where_the_first_was(scn: Path, name: str, row: str, message: str) -> None:
    append(scn / name, row)
    assert problems(scn / "scenario.yaml") == [message]


def test_rows_after_a_blank_line_keep_their_file_row_numbers(scn: Path) -> None:
    edit(scn / "preferences.csv", "sdu-01,2,370100", "\nsdu-01,0,370100")  # a blank line before it
    append(scn / "cadres.csv", "\nsdu-01,sdu,staff,false\n")
    assert problems(scn / "scenario.yaml") == [
        "cadres.csv row 9, column cadre_id: expected a unique cadre_id; got 'sdu-01' again (first at row 2)",
        "preferences.csv row 4, column choice: expected a whole number >= 1; got '0'",
    ]


def test_blank_lines_alone_are_skipped(scn: Path) -> None:
    append(scn / "cadres.csv", "\n\n")
    edit(scn / "posts.csv", "P370102,370102,", "\nP370102,370102,")
    assert pe.load_scenario(scn / "scenario.yaml").instance.n_cadres == pe.load_scenario(TINY / "scenario.yaml").instance.n_cadres


@pytest.mark.parametrize(
    ("name", "old", "new", "messages"),
    [
        pytest.param(
            "preferences.csv",
            "sdu-01,1,P370102",
            "sdu-01,1,P999999",
            [f"preferences.csv row 2, column target: expected {WISH_TARGET}; got 'P999999'"],
            id="wish-for-unknown-post",
        ),
        pytest.param(
            "preferences.csv",
            "sdu-01,2,370100",
            "sdu-01,2,370900",
            [f"preferences.csv row 3, column target: expected {WISH_TARGET}; got '370900'"],
            id="wish-for-prefecture-without-posts",
        ),
        pytest.param(
            "preferences.csv",
            "ujn-02,1,",
            "ujn-99,1,",
            ["preferences.csv row 12, column cadre_id: expected a cadre_id from cadres.csv; got 'ujn-99'"],
            id="wish-of-unknown-cadre",
        ),
        pytest.param(
            "cadres.csv",
            "ujn-02,ujn,",
            "ujn-02,xyz,",
            ["cadres.csv row 7, column university_id: expected a university_id from universities.csv; got 'xyz'"],
            id="cadre-of-unknown-university",
        ),
        pytest.param(
            "history.csv",
            "1,ujn,P370124",
            "1,xyz,P999999",
            [
                "history.csv row 3, column university_id: expected a university_id from universities.csv; got 'xyz'",
                "history.csv row 3, column post_id: expected a post_id from posts.csv; got 'P999999'",
            ],
            id="history",
        ),
        pytest.param(
            "partnerships.csv",
            "ujn,P370126",
            "xyz,P999999",
            [
                "partnerships.csv row 3, column university_id: "
                "expected a university_id from universities.csv; got 'xyz'",
                "partnerships.csv row 3, column target: expected a post_id or prefecture code from posts.csv; "
                "got 'P999999'",
            ],
            id="partnership",
        ),
        pytest.param(
            "partnerships.csv",
            "sdu,370100",
            "sdu,370000",
            [
                "partnerships.csv row 2, column target: expected a post_id or prefecture code from posts.csv; "
                "got '370000'"
            ],
            id="partnership-with-a-province",
        ),
    ],
)
def test_dangling_reference(scn: Path, name: str, old: str, new: str, messages: list[str]) -> None:
    edit(scn / name, old, new)
    assert problems(scn / "scenario.yaml") == messages


def test_optional_pins_table_is_checked(scn: Path) -> None:
    edit(scn / "scenario.yaml", "  history: history.csv\n", "  history: history.csv\n  pins: pins.csv\n")
    (scn / "pins.csv").write_text("cadre_id,post_id,kind\nsdu-01,P370102,pinn\nzz,P1,pin\n", encoding="utf-8")
    assert problems(scn / "scenario.yaml") == [
        "pins.csv row 2, column kind: expected one of pin, forbid; got 'pinn'",
        "pins.csv row 3, column cadre_id: expected a cadre_id from cadres.csv; got 'zz'",
        "pins.csv row 3, column post_id: expected a post_id from posts.csv; got 'P1'",
    ]


def test_boolean_and_pin_kind_spellings(scn: Path) -> None:
    path = scn / "cadres.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    spellings = ["FALSE", "Yes", "n", "1", " no ", "True"]
    lines = [lines[0]] + [line.rsplit(",", 1)[0] + "," + word for line, word in zip(lines[1:], spellings)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    edit(scn / "scenario.yaml", "  history: history.csv\n", "  history: history.csv\n  pins: pins.csv\n")
    pins = "cadre_id,post_id,kind\nsdu-01,P370102,PIN\nujn-02,P370303,Forbid\n"
    (scn / "pins.csv").write_text(pins, encoding="utf-8")
    tables = pe.load_scenario(scn / "scenario.yaml").tables
    assert tables["cadres"]["cross_province_ok"].tolist() == [False, True, False, True, False, True]
    assert tables["pins"]["kind"].tolist() == ["pin", "forbid"]


def test_blank_pair_score_is_a_problem(scn: Path) -> None:
    # a blank score would reach the solver as NaN
    edit(scn / "scenario.yaml", "  history: history.csv\n", "  history: history.csv\n  pair_scores: scores.csv\n")
    (scn / "scores.csv").write_text("cadre_id,post_id,score\nsdu-01,P370102,5\nsdu-02,P370124,\n", encoding="utf-8")
    assert problems(scn / "scenario.yaml") == ["scores.csv row 3, column score: expected a number; got ''"]


def test_blank_budget_means_no_budget(scn: Path) -> None:
    path = scn / "universities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",budget_yuan", lines[1] + ",50000", lines[2] + ",", lines[3] + ","]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    budget = pe.load_scenario(scn / "scenario.yaml").tables["universities"]["budget_yuan"]
    assert budget.iloc[0] == 50000 and budget.iloc[1:].isna().all()


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param(
            "cadres.csv",
            "ujn-02,ujn,staff",
            "ujn-02,ujn,vice-director",
            f"cadres.csv row 7, column rank: expected {RANKS}; got 'vice-director'",
            id="cadre-rank",
        ),
        pytest.param(
            "posts.csv",
            "1,staff",
            "1,Staff",
            f"posts.csv row 7, column min_rank: expected {RANKS}; got 'Staff'",
            id="post-min-rank",
        ),
    ],
)
def test_rank_outside_the_ladder(scn: Path, name: str, old: str, new: str, message: str) -> None:
    edit(scn / name, old, new)
    assert problems(scn / "scenario.yaml") == [message]


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        pytest.param(
            "posts.csv",
            "99.987965",
            "9.987965",
            "posts.csv row 7, column lon: expected a longitude inside China (73 to 136); got '9.987965'",
            id="post-lon",
        ),
        pytest.param(
            "universities.csv",
            "36.651335",
            "-36.651335",
            "universities.csv row 4, column lat: expected a latitude inside China (3 to 54); got '-36.651335'",
            id="university-lat",
        ),
        pytest.param(
            # longitude and latitude swapped, a common slip
            "posts.csv",
            "117.076441,36.666465",
            "36.666465,117.076441",
            [
                "posts.csv row 2, column lon: expected a longitude inside China (73 to 136); got '36.666465'",
                "posts.csv row 2, column lat: expected a latitude inside China (3 to 54); got '117.076441'",
            ],
            id="swapped",
        ),
    ],
)
def test_coordinates_outside_china(scn: Path, name: str, old: str, new: str, message) -> None:
    edit(scn / name, old, new)
    assert problems(scn / "scenario.yaml") == (message if isinstance(message, list) else [message])


def test_negative_capacity(scn: Path) -> None:
    edit(scn / "posts.csv", ",36.666465,1,", ",36.666465,-1,")
    assert problems(scn / "scenario.yaml") == [
        "posts.csv row 2, column capacity: expected a whole number >= 0; got '-1'"
    ]


def test_blank_capacity_means_one(scn: Path) -> None:
    edit(scn / "posts.csv", ",36.666465,1,", ",36.666465,,")
    assert pe.load_scenario(scn / "scenario.yaml").tables["posts"]["capacity"].tolist() == [1] * 6


def test_post_province_must_match_its_adcode(scn: Path) -> None:
    edit(scn / "posts.csv", "370100,370000,117.076441", "370100,630000,117.076441")
    assert problems(scn / "scenario.yaml") == [
        "posts.csv row 2, column province: expected the province code of the post's adcode "
        "(its first two digits + 0000); got '630000'"
    ]


def test_wish_listed_twice(scn: Path) -> None:
    append(scn / "preferences.csv", "sdu-01,3,P370102\n")
    assert problems(scn / "scenario.yaml") == [
        "preferences.csv row 13, column target: expected each target once per cadre (a wish listed twice); "
        "got 'P370102' again (first at row 2)"
    ]


def test_choice_number_used_twice_by_one_cadre(scn: Path) -> None:
    edit(scn / "preferences.csv", "sdu-01,2,370100", "sdu-01,1,370100")
    assert problems(scn / "scenario.yaml") == [
        "preferences.csv row 3, column choice: expected each choice number once per cadre; "
        "got choice 1 again for cadre 'sdu-01' (first at row 2)"
    ]


def test_long_runs_of_bad_cells_are_summarised(scn: Path) -> None:
    rows = "".join(f"sdu-01,{i + 1},X{i}\n" for i in range(13))
    (scn / "preferences.csv").write_text("cadre_id,choice,target\n" + rows, encoding="utf-8")
    found = problems(scn / "scenario.yaml")
    assert found[:2] == [
        f"preferences.csv row 2, column target: expected {WISH_TARGET}; got 'X0'",
        f"preferences.csv row 3, column target: expected {WISH_TARGET}; got 'X1'",
    ]
    assert len(found) == 11
    assert found[-1] == (
        f"preferences.csv column target: expected {WISH_TARGET}; got 3 more rows like the above (not listed)"
    )


def test_factor_that_needs_a_missing_column(scn: Path) -> None:
    edit(scn / "policy.yaml", "cost: {weight: 0.001}", "cost: {weight: 0.001, budget: true}")
    assert problems(scn / "scenario.yaml") == [
        "universities column budget_yuan: expected a budget_yuan column (cost.budget is on); got none"
    ]


# ---- several problems at once ----------------------------------------------------------------


def test_problems_in_different_files_are_reported_together(scn: Path) -> None:
    edit(scn / "policy.yaml", "name: tiny-policy", "name: tiny-policy\nweights: {}")
    edit(scn / "cadres.csv", "ujn-02,ujn,staff", "ujn-02,ujn,boss")
    (scn / "history.csv").unlink()
    assert problems(scn / "scenario.yaml") == [
        f"policy.yaml key weights: expected a known key ({POLICY_KEYS}); got unknown key 'weights'",
        "history.csv: expected an existing file; got no such file",
        f"cadres.csv row 7, column rank: expected {RANKS}; got 'boss'",
    ]


def test_bad_cells_in_several_tables_are_reported_together(scn: Path) -> None:
    edit(scn / "posts.csv", "99.987965", "east")
    edit(scn / "cadres.csv", "ujn-02,ujn,staff", "ujn-02,ujn,boss")
    append(scn / "preferences.csv", "sdu-01,3,P370102\n")
    assert problems(scn / "scenario.yaml") == [
        "posts.csv row 7, column lon: expected a longitude inside China (73 to 136); got 'east'",
        f"cadres.csv row 7, column rank: expected {RANKS}; got 'boss'",
        "preferences.csv row 13, column target: expected each target once per cadre (a wish listed twice); "
        "got 'P370102' again (first at row 2)",
    ]


# ---- paths -----------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_scenario_folder(scn: Path, tmp_path: Path, monkeypatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = pe.load_scenario(Path("..") / "scn" / "scenario.yaml")
    assert scenario.counts()["posts"] == 6
    assert Path(scenario.files["posts"]).resolve() == (scn / "posts.csv").resolve()


def test_tables_in_a_subfolder_are_named_by_their_relative_path(scn: Path) -> None:
    (scn / "data").mkdir()
    text = (scn / "scenario.yaml").read_text(encoding="utf-8")
    for name in TABLE_NAMES:
        shutil.move(scn / f"{name}.csv", scn / "data" / f"{name}.csv")
        text = text.replace(f"{name}.csv", f"data/{name}.csv")
    (scn / "scenario.yaml").write_text(text, encoding="utf-8")
    assert pe.load_scenario(scn / "scenario.yaml").counts()["cadres"] == 6
    edit(scn / "data" / "cadres.csv", "ujn-02,ujn,staff", "ujn-02,ujn,boss")
    assert problems(scn / "scenario.yaml") == [f"data/cadres.csv row 7, column rank: expected {RANKS}; got 'boss'"]


def test_policy_argument_is_relative_to_the_working_folder(scn: Path, tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "models"
    other.mkdir()
    text = (scn / "policy.yaml").read_text(encoding="utf-8").replace("name: tiny-policy", "name: other-policy")
    (other / "other.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    scenario = pe.load_scenario(scn / "scenario.yaml", policy=Path("models") / "other.yaml")
    assert scenario.policy.name == "other-policy"


def test_policy_object_replaces_the_scenario_policy(scn: Path) -> None:
    (scn / "policy.yaml").unlink()  # never read
    scenario = pe.load_scenario(scn / "scenario.yaml", policy=pe.Policy(name="given"))
    assert scenario.policy.name == "given"


# ---- policy overrides ------------------------------------------------------------------------


def test_policy_overrides_are_applied(scn: Path) -> None:
    overrides = "policy_overrides:\n  factors: {relay: {weight: 5}}\n  rules: {fill_every_post: false}\n"
    append(scn / "scenario.yaml", overrides)
    policy = pe.load_scenario(scn / "scenario.yaml").policy
    assert policy.factors.relay.weight == 5
    assert policy.factors.relay.mode == "soft"  # untouched keys survive the merge
    assert policy.rules.fill_every_post is False
    assert policy.factors.partnership.weight == 25


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            "{factors: {relay: {wieght: 5}}}",
            "scenario.yaml policy_overrides key factors.relay.wieght: expected a known key "
            "(one of batches, mode, weight); got unknown key 'wieght'",
            id="factor-parameter",
        ),
        pytest.param(
            "{rulez: {}}",
            f"scenario.yaml policy_overrides key rulez: expected a known key ({POLICY_KEYS}); got unknown key 'rulez'",
            id="top-level",
        ),
        pytest.param(
            "{factors: {prefs: {weight: 1}}}",
            f"scenario.yaml policy_overrides key factors.prefs: expected a factor name ({FACTOR_NAMES}); "
            "got unknown key 'prefs'",
            id="factor-name",
        ),
    ],
)
def test_bad_policy_override_is_reported(scn: Path, overrides: str, message: str) -> None:
    append(scn / "scenario.yaml", f"policy_overrides: {overrides}\n")
    assert problems(scn / "scenario.yaml") == [message]


# ---- XLSX ------------------------------------------------------------------------------------


def write_workbook(folder: Path, path: Path, skip: tuple[str, ...] = ()) -> None:
    """The tiny tables as sheets of one workbook, with numbers as numeric cells."""
    with pd.ExcelWriter(path) as book:
        for name in TABLE_NAMES:
            if name not in skip:
                pd.read_csv(folder / f"{name}.csv").to_excel(book, sheet_name=name, index=False)


def use_workbook(scn: Path, book: str) -> None:
    text = (scn / "scenario.yaml").read_text(encoding="utf-8")
    start, end = text.index("tables:"), text.index("seed:")
    (scn / "scenario.yaml").write_text(text[:start] + f"tables: {book}\n" + text[end:], encoding="utf-8")


def test_xlsx_workbook_solves_like_the_csv_files(scn: Path) -> None:
    from_csv = pe.solve(pe.load_scenario(scn / "scenario.yaml"))
    write_workbook(scn, scn / "tiny.xlsx")
    use_workbook(scn, "tiny.xlsx")
    scenario = pe.load_scenario(scn / "scenario.yaml")
    assert scenario.counts() == {name: len(frame) for name, frame in from_csv.scenario.tables.items()}
    from_xlsx = pe.solve(scenario)
    assert from_xlsx.status == from_csv.status == "OPTIMAL"
    assert from_xlsx.objective == pytest.approx(from_csv.objective, abs=1e-9)
    assert from_xlsx.table["post_id"].tolist() == from_csv.table["post_id"].tolist()


def test_xlsx_workbook_without_a_required_sheet(scn: Path) -> None:
    write_workbook(scn, scn / "tiny.xlsx", skip=("history",))
    use_workbook(scn, "tiny.xlsx")
    assert problems(scn / "scenario.yaml") == [
        "tiny.xlsx sheet history: expected a sheet named 'history'; "
        "got sheets posts, cadres, universities, preferences, partnerships"
    ]


def test_xlsx_cell_problems_name_the_workbook(scn: Path) -> None:
    edit(scn / "cadres.csv", "ujn-02,ujn,staff", "ujn-02,ujn,boss")
    write_workbook(scn, scn / "tiny.xlsx")
    use_workbook(scn, "tiny.xlsx")
    assert problems(scn / "scenario.yaml") == [f"tiny.xlsx row 7, column rank: expected {RANKS}; got 'boss'"]


def test_unreadable_xlsx_is_reported_once(scn: Path) -> None:
    (scn / "tiny.xlsx").write_bytes(b"not a workbook")
    use_workbook(scn, "tiny.xlsx")
    assert problems(scn / "scenario.yaml") == [
        "tiny.xlsx: expected an Excel workbook (.xlsx, .xlsm or .xls) or a CSV file; "
        "got a file named as a workbook that is not one (a web page or text saved under an Excel name?)"
    ]


def test_missing_xlsx_is_reported_once(scn: Path) -> None:
    use_workbook(scn, "tiny.xlsx")
    assert problems(scn / "scenario.yaml") == ["tiny.xlsx: expected an existing file; got no such file"]


# ---- in-memory tables ------------------------------------------------------------------------


def tiny_frames() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(TINY / f"{name}.csv") for name in TABLE_NAMES}


def frame_problems(tables: dict[str, pd.DataFrame], policy=None) -> list[str]:
    with pytest.raises(pe.InputError) as caught:
        pe.scenario_from_tables(tables, policy)
    return [str(p) for p in caught.value.problems]


def test_scenario_from_tables_solves_like_the_files() -> None:
    policy = pe.load_policy(TINY / "policy.yaml")
    scenario = pe.scenario_from_tables(tiny_frames(), policy, name="tiny")
    from_files = pe.load_scenario(TINY / "scenario.yaml")
    assert pe.solve(scenario).objective == pytest.approx(pe.solve(from_files).objective, abs=1e-9)


def test_scenario_from_tables_reports_cell_problems() -> None:
    tables = tiny_frames()
    tables["cadres"].loc[0, "rank"] = "boss"
    tables["posts"] = pd.concat([tables["posts"], tables["posts"].iloc[:1]], ignore_index=True)
    tables["preferences"].loc[0, "target"] = "P999999"
    assert frame_problems(tables) == [
        "posts row 8, column post_id: expected a unique post_id; got 'P370102' again (first at row 2)",
        f"cadres row 2, column rank: expected {RANKS}; got 'boss'",
        "preferences row 2, column target: expected a post_id, prefecture code or province code from posts; "
        "got 'P999999'",
    ]


def test_scenario_from_tables_reports_missing_column_and_policy_problems() -> None:
    tables = tiny_frames()
    tables["posts"] = tables["posts"].drop(columns="lat")
    assert frame_problems(tables, {"factors": {"prefs": {}}}) == [
        f"policy key factors.prefs: expected a factor name ({FACTOR_NAMES}); got unknown key 'prefs'",
        "posts column lat: expected a column named 'lat'; "
        "got columns post_id, adcode, name, prefecture, province, lon, capacity, min_rank",
    ]


def test_scenario_from_tables_reports_missing_and_unknown_tables() -> None:
    tables = tiny_frames()
    tables["pinz"] = tables.pop("history")
    assert frame_problems(tables) == [
        f"pinz: expected a table name ({TABLE_KEYS}); got 'pinz'",
        "history: expected a data frame for this required table; got nothing",
    ]


# ---- budgets ----------------------------------------------------------------------------------


def with_budgets(scn: Path, *budgets: str) -> None:
    path = scn / "universities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",budget_yuan", *(f"{line},{b}" for line, b in zip(lines[1:], budgets))]) + "\n", encoding="utf-8")


def test_negative_budget_is_a_problem(scn: Path) -> None:
    with_budgets(scn, "50000", "-100", "")
    assert problems(scn / "scenario.yaml") == ["universities.csv row 3, column budget_yuan: expected a number >= 0; got '-100'"]


def test_negative_budget_is_a_problem_without_place_every_cadre(scn: Path) -> None:
    # the case that once reached the solver and crashed there
    with_budgets(scn, "-1", "0", "12.5")
    edit(scn / "policy.yaml", "  place_every_cadre: true\n", "  place_every_cadre: false\n")
    assert problems(scn / "scenario.yaml") == ["universities.csv row 2, column budget_yuan: expected a number >= 0; got '-1'"]


def test_zero_and_fractional_budgets_are_valid(scn: Path) -> None:
    with_budgets(scn, "0", "12.5", "")
    budget = pe.load_scenario(scn / "scenario.yaml").tables["universities"]["budget_yuan"]
    assert budget.iloc[:2].tolist() == [0, 12.5] and budget.isna().tolist() == [False, False, True]


def test_negative_budget_in_a_data_frame_is_a_problem() -> None:
    tables = tiny_frames()
    tables["universities"]["budget_yuan"] = [1000.0, -5.0, float("nan")]
    assert frame_problems(tables) == ["universities row 3, column budget_yuan: expected a number >= 0; got '-5'"]


def test_file_formats_documents_every_table_column_and_rule() -> None:
    from placement_engine.rules import switches

    text = (Path(__file__).resolve().parents[1] / "docs" / "file-formats.md").read_text(encoding="utf-8")
    for name, spec in TABLES.items():
        assert f"### `{name}`" in text, name
        for column in spec.columns:
            assert f"`{column.name}`" in text, (name, column.name)
    for key in switches():
        assert f"| `{key}` |" in text, key
    for key in ScenarioFile.model_fields:
        assert f"`{key}`" in text, key
