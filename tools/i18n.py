"""The message catalogues: extract, update, compile (Babel's Python API).

    python tools/i18n.py            # extract into the .pot, update every .po, compile every .mo
    python tools/i18n.py --check    # exit 1 if a message of the source is missing or untranslated, or a .mo is stale

Messages are the English text passed to ``_()``, ``ngettext()`` and ``N_()`` in
``placement_engine/``. Extraction writes ``placement_engine/locale/placement_engine.pot``;
updating merges it into each ``locale/<lang>/LC_MESSAGES/placement_engine.po`` (new
messages arrive untranslated, messages gone from the source are dropped), where a
person translates them; compiling writes the ``.mo`` the runtime reads with stdlib
``gettext``. The ``.po`` and ``.mo`` files are committed, so an installed package
needs no Babel.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "placement_engine"
LOCALE = PACKAGE / "locale"
DOMAIN = "placement_engine"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PROJECT = "placement_engine"
LANGUAGES = ("zh_CN",)  # the catalogues kept; English is the source text itself


def extract() -> Catalog:
    """Every message of the package's source, with the files that use it."""
    # a fixed date: the template changes only when its messages do
    catalog = Catalog(project=PROJECT, version="0.1", charset="utf-8", creation_date=datetime(2026, 1, 1, tzinfo=UTC), fuzzy=False)
    found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",))
    for filename, lineno, message, comments, context in found:
        catalog.add(message, locations=[(f"placement_engine/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def catalogues() -> list[Path]:
    return [LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po" for language in LANGUAGES]


def read(path: Path) -> Catalog:
    if not path.is_file():
        return Catalog(
            locale=path.parts[-3],
            project=PROJECT,
            version="0.1",
            copyright_holder="the placement_engine authors",
            header_comment="# Translations of placement_engine's messages.\n# Distributed under the same license as placement_engine (MIT).\n#",
            last_translator="placement_engine authors",
            language_team="placement_engine authors",
            fuzzy=False,
            charset="utf-8",
        )
    with path.open("rb") as file:
        return read_po(file, locale=path.parts[-3])


def po_bytes(catalog: Catalog, **options) -> bytes:
    buffer = io.BytesIO()
    # no line numbers: a message moving within a file does not churn the catalogues
    write_po(buffer, catalog, width=0, include_lineno=False, sort_output=True, **options)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def message_ids(catalog: Catalog) -> set:
    return {message.id for message in catalog if message.id}


def untranslated(catalog: Catalog) -> list:
    """Messages with an empty or fuzzy translation (``gettext`` would show the English)."""
    def empty(message) -> bool:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return message.fuzzy or not all(strings)

    return [message.id for message in catalog if message.id and empty(message)]


def update(template: Catalog) -> None:
    TEMPLATE.write_bytes(po_bytes(template))
    for path in catalogues():
        catalog = read(path)
        # no fuzzy guesses from similar messages: a wrong translation is worse than English
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog, ignore_obsolete=True))
        path.with_suffix(".mo").write_bytes(mo_bytes(read(path)))
        missing = untranslated(read(path))
        print(f"{path.relative_to(ROOT)}: {len(message_ids(catalog))} messages, {len(missing)} untranslated")


def check(template: Catalog) -> list[str]:
    """What is out of date, in words; empty when the catalogues are complete."""
    problems = []
    wanted = message_ids(template)
    for path in catalogues():
        catalog = read(path)
        shown = path.relative_to(ROOT)
        problems += [f"{shown}: missing {message!r}" for message in sorted(wanted - message_ids(catalog), key=str)]
        problems += [f"{shown}: untranslated {message!r}" for message in untranslated(catalog) if message in wanted]
        mo = path.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != mo_bytes(catalog):
            problems.append(f"{mo.relative_to(ROOT)}: not the compiled {path.name} (run python tools/i18n.py)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report missing or untranslated messages and stale .mo files; change nothing")
    args = parser.parse_args(argv)
    template = extract()
    if args.check:
        problems = check(template)
        print("\n".join(problems) or "catalogues complete", file=sys.stderr if problems else sys.stdout)
        return 1 if problems else 0
    update(template)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
