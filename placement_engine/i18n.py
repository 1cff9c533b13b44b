"""Text a person reads, in Chinese or English, from gettext message catalogues.

Source strings are the English text, wrapped in ``_()``; the Chinese lives in
``locale/zh_CN/LC_MESSAGES/placement_engine.po`` and is compiled to ``.mo`` by
``python tools/i18n.py`` (Babel). A message without a translation falls back to
English, and a test keeps the catalogue complete. Machine column names in CSV and
JSON are never translated.

    from placement_engine.i18n import _, language
    with language("zh"):
        print(_("{count} cadres placed").format(count=3))
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

DOMAIN = "placement_engine"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")
_GETTEXT_LOCALE = {"en": "en", "zh": "zh_CN"}
_ENV = "PLACEMENT_ENGINE_LANG"



@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_GETTEXT_LOCALE[lang]], fallback=True)


def normalise(lang: str | None) -> str:
    """'zh', 'zh_CN', 'zh-Hans', 'ZH' -> 'zh'; 'en', 'en_GB' -> 'en'. Anything else is a ValueError."""
    if lang is None:
        return _current
    code = str(lang).strip().lower().replace("-", "_").split("_")[0]
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    return code


def _from_environment() -> str:
    """PLACEMENT_ENGINE_LANG ('zh', 'zh_CN', ...), English when unset or unknown (the command line reports an unknown one)."""
    try:
        return normalise(os.environ.get(_ENV) or "en")
    except ValueError:
        return "en"


_current = _from_environment()


def set_language(lang: str | None) -> str:
    """Make ``lang`` the language of every later message; returns the one in force."""
    global _current
    _current = normalise(lang)
    return _current


def current_language() -> str:
    return _current


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` inside the block (None keeps the current one)."""
    previous = _current
    set_language(lang)
    try:
        yield _current
    finally:
        set_language(previous)


def _(message: str) -> str:
    """The message in the current language."""
    return _catalogue(_current).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Singular or plural by ``count`` (Chinese has one form)."""
    return _catalogue(_current).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it now (module-level tables)."""
    return message
