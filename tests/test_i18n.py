"""The message catalogues: complete, compiled from the committed .po, and each translation fit for its message."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placement_engine import i18n
from placement_engine.i18n import _, language, ngettext

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def catalogue(tool):
    return tool.read(tool.catalogues()[0])


def test_the_committed_mo_is_the_compiled_po(tool, catalogue) -> None:
    mo = tool.catalogues()[0].with_suffix(".mo")
    assert mo.read_bytes() == tool.mo_bytes(catalogue), "run python tools/i18n.py"


def test_every_message_of_the_source_has_a_chinese_translation(tool, catalogue) -> None:
    wanted = tool.message_ids(tool.extract())
    missing = sorted(map(str, wanted - tool.message_ids(catalogue)))
    untranslated = sorted(map(str, set(tool.untranslated(catalogue)) & wanted))
    assert not missing, f"not in the catalogue (run python tools/i18n.py, then translate): {missing}"
    assert not untranslated, f"without a Chinese translation: {untranslated}"
    assert tool.check(tool.extract()) == []


def test_each_translation_uses_the_fields_of_its_message(catalogue) -> None:
    def fields(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)", text))

    wrong = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wrong += [(ids[-1], text) for text in strings if fields(text) != fields(ids[-1])]
    assert not wrong


def test_the_catalogue_is_part_of_the_package_data() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "locale/*/LC_MESSAGES/*.mo" in text and "locale/*/LC_MESSAGES/*.po" in text


def test_messages_speak_the_language_in_force_and_fall_back_to_english() -> None:
    with language("zh"):
        assert _("wall time") == "用时"
        assert ngettext("{count} post", "{count} posts", 3).format(count=3) == "3个岗位"
        assert _("a message no catalogue holds") == "a message no catalogue holds"
        with language("en"):
            assert _("wall time") == "wall time"
        assert _("wall time") == "用时"
    assert ngettext("{count} post", "{count} posts", 1).format(count=1) == "1 post"


@given(st.sampled_from(["zh", "ZH", "zh_CN", "zh-Hans", "zh-CN", "en", "en_GB", "EN-us"]))
def test_language_codes_are_normalised(code: str) -> None:
    assert i18n.normalise(code) == code[:2].lower()


@given(st.text(min_size=1).filter(lambda text: text.strip().lower().replace("-", "_").split("_")[0] not in ("en", "zh")))
def test_an_unknown_language_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="language must be one of en, zh"):
        i18n.normalise(code)
