"""Every msgid has an English translation, and the committed .mo files match the .po files."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from web.i18n import LANGUAGES, LOCALES, gettext_for
from web.i18n_tool import extract


def catalog(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_string_has_an_english_translation() -> None:
    english = catalog("en")
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = english.get(message.id)
        if found is None or not found.string or found.fuzzy:
            missing.append(message.id)
    assert missing == [], "run `python -m web.i18n_tool` and translate these"


def test_french_catalog_lists_every_string() -> None:
    french = catalog("fr")
    assert [m.id for m in extract() if m.id and french.get(m.id) is None] == []


def test_placeholders_survive_translation() -> None:
    for message in catalog("en"):
        for placeholder in re.findall(r"%\(\w+\)s", str(message.id or "")):
            assert placeholder in str(message.string), message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_are_up_to_date(language: str) -> None:
    compiled = BytesIO()
    write_mo(compiled, catalog(language))
    on_disk = Path(LOCALES / language / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert on_disk == compiled.getvalue(), "run `python -m web.i18n_tool`"


def test_lookup() -> None:
    assert gettext_for("en")("Nouvel usager") == "New user"
    assert gettext_for("fr")("Nouvel usager") == "Nouvel usager"
    assert gettext_for("de")("Nouvel usager") == "Nouvel usager"
