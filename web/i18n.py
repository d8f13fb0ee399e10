"""Page language: French by default, English complete; catalogs are Babel .po compiled to .mo.

Run `python -m web.i18n_tool` after editing a template or a marked string: it extracts the
messages, merges them into web/locales/*/LC_MESSAGES/messages.po and compiles the .mo files
(committed, so the app needs no build step). tests/web/test_i18n.py fails when a msgid has no
English translation or a .mo is stale.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable
from importlib import resources
from pathlib import Path

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
DOMAIN = "messages"
LOCALES = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (French msgids translate to themselves)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    path = resources.files("web").joinpath(f"locales/{language}/LC_MESSAGES/{DOMAIN}.mo")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return gettext.NullTranslations()
    return gettext.GNUTranslations(io.BytesIO(data))


def gettext_for(language: str) -> Callable[[str], str]:
    """The `_` templates and handlers call."""
    return translations(language).gettext


def pick_language(*candidates: str | None) -> str:
    """The first supported language among the candidates, else French."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
