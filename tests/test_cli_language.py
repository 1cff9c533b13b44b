"""The command line in Chinese and English: --lang, the environment, the scenario's language key,
translated help for every argument, the cadre's notice, each problem once, and progress bars."""

from __future__ import annotations

import argparse
import io
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placement_engine.cli import main
from placement_engine.cli.parser import build_parser
from placement_engine.i18n import _, current_language, language
from placement_engine.progress import ProgressBar

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).parent / "fixtures" / "tiny"
DEFAULT = REPO / "scenarios" / "shandong-2011.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def actions(parser: argparse.ArgumentParser):
    """Every argument of the parser and of its commands, with the parser that holds it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from actions(command)
        else:
            yield parser, action


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_argument_has_help_in_the_language(lang: str) -> None:
    with language(lang):
        found = list(actions(build_parser()))
    assert len(found) > 60
    missing = [(parser.prog, action.dest) for parser, action in found if not action.help or action.help == argparse.SUPPRESS]
    assert not missing
    if lang == "zh":
        english = [(parser.prog, action.help) for parser, action in found if not CJK.search(action.help)]
        assert not english


def test_help_in_chinese_by_flag_or_environment(capsys, monkeypatch) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help", "--lang", "zh"])
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "方案文件（YAML）" in out and "位置参数" in out
    monkeypatch.setenv("PLACEMENT_ENGINE_LANG", "zh_CN")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "显示版本号并退出" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help", "--lang", "en"])  # the flag wins over the environment
    assert "print the version and exit" in capsys.readouterr().out
    assert current_language() == "en"  # main() leaves the caller's language as it was


def test_an_unknown_language_exits_2(capsys, monkeypatch) -> None:
    assert run(capsys, "validate", TINY / "scenario.yaml", "--lang", "fr")[0] == 2
    monkeypatch.setenv("PLACEMENT_ENGINE_LANG", "klingon")
    code, out, err = run(capsys, "validate", TINY / "scenario.yaml")
    assert code == 2 and "PLACEMENT_ENGINE_LANG" in err and out == ""


def test_solve_prints_chinese(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "solve", DEFAULT, "--lang", "zh", "--out", tmp_path / "out")
    assert code == 0
    assert re.search(r"^状态\s+最优（经网络流对偶证明）$", out, re.M), out
    assert re.search(r"^目标值\s+[\d,]+\.\d{3}分$", out, re.M)
    assert re.search(r"^已安排\s+156/156$", out, re.M)
    assert "已写入" in out


def test_the_scenario_language_key_speaks_unless_lang_says_otherwise(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    scenario = folder / "scenario.yaml"
    scenario.write_text(scenario.read_text(encoding="utf-8") + "language: zh\n", encoding="utf-8")
    code, out, _ = run(capsys, "validate", scenario)
    assert code == 0 and out.startswith("方案 tiny：有效\n政策 tiny-policy\n")
    code, out, _ = run(capsys, "validate", scenario, "--lang", "en")
    assert code == 0 and out.startswith("scenario tiny: valid\n")
    # the key is validated like any other
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("language: zh", "language: fr"), encoding="utf-8")
    code, _, err = run(capsys, "validate", scenario)
    assert code == 2 and "language" in err


def test_problems_are_told_in_chinese_and_each_once(capsys, tmp_path: Path) -> None:
    """A table problem is not repeated for each variant that shares the table."""
    folder = tmp_path / "sd"
    shutil.copytree(REPO / "scenarios" / "data" / "shandong-2011", folder / "data")
    text = DEFAULT.read_text(encoding="utf-8").replace("data/shandong-2011/", "data/")
    (folder / "scenario.yaml").write_text(text.replace("../models/", f"{(REPO / 'models').as_posix()}/"), encoding="utf-8")
    cadres = folder / "data" / "cadres.csv"
    lines = cadres.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace(",deputy_section,", ",vice,").replace(",section,", ",vice,")
    cadres.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "validate", folder / "scenario.yaml", "--lang", "zh")
    assert code == 2
    assert err.startswith("错误：输入中有1处问题：\n")
    assert err.count("'vice'") == 1 and "variant" not in err
    assert "应为" in err and "实为" in err


def test_the_notice_for_a_cadre(capsys, tmp_path: Path) -> None:
    notice = tmp_path / "notices" / "ouc-02.md"
    code, out, _ = run(capsys, "explain", DEFAULT, "--cadre", "ouc-02", "--notice", "--lang", "zh", "--out", notice)
    assert code == 0 and str(notice) in out
    text = notice.read_text(encoding="utf-8")
    assert text.startswith("# 关于ouc-02同志挂职岗位安排的告知书\n")
    assert "ouc-02同志（中国海洋大学，副科级）：" in text
    # the post by name, not code; the reasons; each wish with its price
    assert "团县委副书记" in text and "P632224" not in text
    assert "## 安排理由" in text and "## 本人志愿情况" in text
    wishes = re.findall(r"^- 第(\d)志愿（[^）]+）：若予满足(?:（安排至[^）]+）)?，全批次总体得分将下降([\d.]+)分", text, re.M)
    assert [number for number, _ in wishes] == ["1", "2", "3", "4", "5"]
    assert all(float(price) > 0 for _, price in wishes)
    code, out, _ = run(capsys, "explain", DEFAULT, "--cadre", "ouc-02", "--notice")
    assert code == 0 and out.startswith("Notice of posting for ouc-02\n") and "1. Why this post" in out


def test_a_notice_needs_a_cadre_and_a_text_file(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "explain", TINY / "scenario.yaml", "--all", "--notice", "--out", tmp_path / "notice.pdf")
    assert code == 2 and "--notice" in err and "--out" in err


def test_a_progress_bar_counts_the_runner_steps_and_prints_their_lines() -> None:
    from placement_engine.runner.tables import _Progress

    stream = io.StringIO()
    bar = ProgressBar(bar=True, file=stream)
    tick = _Progress(bar, 3)
    assert bar._current is not None and bar._current.total == 3
    for label in ("a", "b", "c"):
        tick(label, {"status": "OPTIMAL", "objective": 1.0, "wall_seconds": 0.1})
    text = stream.getvalue()
    assert "[1/3] a: OPTIMAL" in text and "[3/3] c: OPTIMAL" in text
    assert "3/3" in text and bar._current is None  # drawn to its end, then closed
    quiet = io.StringIO()
    plain = ProgressBar(bar=False, file=quiet)
    _Progress(plain, 2)("a", {"status": "OPTIMAL"})
    assert quiet.getvalue().startswith("[1/2] a: OPTIMAL")


def test_explain_all_goes_through_the_progress_bar(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "explain", TINY / "scenario.yaml", "--all", "--progress", "--out", tmp_path / "out")
    assert code == 0 and re.search(r"\d+/\d+", err)
    code, _, err = run(capsys, "explain", TINY / "scenario.yaml", "--all", "--quiet", "--out", tmp_path / "out")
    assert code == 0 and err == ""


def test_cp_sat_progress_speaks_in_points() -> None:
    """The last improving allocation CP-SAT reports is the allocation returned, in the summary's points."""
    import placement_engine as pe

    scenario = pe.load_scenario(TINY / "scenario.yaml")
    scenario = scenario.with_policy(solver={"method": "cpsat", "use_relaxation": False})
    lines: list[str] = []
    allocation = pe.solve(scenario, log=lines.append)
    found = [re.match(r"\s+[\d.]+ s\s+objective (-?[\d,]+\.\d\d) points, bound (-?[\d,]+\.\d\d)$", line) for line in lines]
    assert found and all(found), lines
    last = float(found[-1].group(1).replace(",", ""))
    assert last == pytest.approx(allocation.objective, abs=0.01 + allocation.summary["rounding_error_bound"])
    with language("zh"):
        lines.clear()
        pe.solve(scenario, log=lines.append)
    assert lines and all("目标值" in line and "分，上界" in line for line in lines)


@given(st.lists(st.sampled_from([("a.csv", "row 2", "a number", "'x'"), ("a.csv", "row 3", "a number", "'y'"), ("b.yaml", "", "a key", "none")])))
def test_an_input_error_lists_each_problem_once_in_the_order_found(raw) -> None:
    from placement_engine.errors import InputError, Problem

    problems = [Problem(*fields) for fields in raw]
    error = InputError(problems)
    assert error.problems == list(dict.fromkeys(problems))
    with language("zh"):
        text = str(error)
    assert text.startswith(f"输入中有{len(error.problems)}处问题：") and text.count("\n  - ") == len(error.problems)


ARGPARSE_ERRORS = [
    (["solve"], "缺少必需的参数：scenario"),
    (["frob"], "参数 COMMAND：无效选项 'frob'（可选："),
    (["solve", "x.yaml", "--time-limit", "soon"], "参数 --time-limit：'soon' 不是有效的 float 值"),
    (["solve", "x.yaml", "--bogus"], "无法识别的参数：--bogus"),
    (["solve", "x.yaml", "--out"], "参数 --out：应给出一个值"),
    (["solve", "x.yaml", "--p"], "选项 --p 有歧义，可匹配 --policy, --progress"),
    (["compare", "x.yaml", "--backend", "cloud"], "参数 --backend：无效选项 'cloud'（可选："),
]


@pytest.mark.parametrize(("argv", "words"), ARGPARSE_ERRORS)
def test_argparse_words_its_errors_in_chinese(capsys, monkeypatch, argv, words) -> None:
    monkeypatch.setenv("PLACEMENT_ENGINE_LANG", "zh")
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("用法：") and words in err, err
    assert not re.search(r"\b(argument|invalid|expected|required|unrecognized|ambiguous|usage)\b", err), err


def test_argparse_keeps_english_in_english_and_elsewhere(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--lang", "zh"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["solve"])
    assert "the following arguments are required: scenario" in capsys.readouterr().err
    # outside the command line, argparse is stdlib gettext's again, whatever the engine speaks
    other = argparse.ArgumentParser(prog="other")
    other.add_argument("needed")
    with language("zh"), pytest.raises(SystemExit):
        other.parse_args([])
    assert "the following arguments are required: needed" in capsys.readouterr().err


def test_help_sections_end_in_a_full_width_colon_in_chinese(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help", "--lang", "zh"])
    out = capsys.readouterr().out
    assert "\n位置参数：\n" in out and "\n选项：\n" in out and ":\n" not in out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "\noptions:\n" in out and "\ncommands:\n" in out


def test_the_argparse_messages_in_the_catalogue_are_argparses_own() -> None:
    """A message misspelt here would stay English: each must be one argparse words (some only from Python 3.13)."""
    import ast

    from placement_engine.cli.parser import ARGPARSE_MESSAGES

    calls = [node for node in ast.walk(ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))) if isinstance(node, ast.Call)]
    worded = {arg.value for node in calls if getattr(node.func, "id", None) in ("_", "ngettext") for arg in node.args if isinstance(arg, ast.Constant)}
    newer = {"%(heading)s:", "show program's version number and exit"}
    assert set(ARGPARSE_MESSAGES) - worded <= newer
    with language("zh"):
        assert all(CJK.search(_(message)) or message == "%(heading)s:" for message in ARGPARSE_MESSAGES)
