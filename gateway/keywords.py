"""SMS keywords (STOP/ARRET, START/REPRENDRE, AIDE/HELP): recognised whole, in either language.

Carriers and residents expect these to work however they are typed: " Arrêt!", "stop.",
"A I D E". The whole message must be the keyword, so "stop the truck on Main St" is a
neighbour alert, not an opt-out.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import Final

from modem.pdu import segment_info


class Keyword(enum.Enum):
    STOP = "stop"  # no more SMS alerts or neighbour alerts to this number
    START = "start"  # back in
    HELP = "help"  # who we are, how to stop, whom to call


@dataclass(frozen=True)
class KeywordMatch:
    keyword: Keyword
    language: str | None  # "fr" / "en", or None when the word is the same in both


_KEYWORDS: Final[dict[str, KeywordMatch]] = {
    "stop": KeywordMatch(Keyword.STOP, None),
    "arret": KeywordMatch(Keyword.STOP, "fr"),
    "end": KeywordMatch(Keyword.STOP, "en"),
    "cancel": KeywordMatch(Keyword.STOP, "en"),
    "unsubscribe": KeywordMatch(Keyword.STOP, "en"),
    "quit": KeywordMatch(Keyword.STOP, "en"),
    "start": KeywordMatch(Keyword.START, "en"),
    "reprendre": KeywordMatch(Keyword.START, "fr"),
    "aide": KeywordMatch(Keyword.HELP, "fr"),
    "help": KeywordMatch(Keyword.HELP, "en"),
    "info": KeywordMatch(Keyword.HELP, None),
}


def normalise(text: str) -> str:
    """Case, accents, punctuation and spaces removed: " Arrêt!" → "arret"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and ch.isascii())


def match_keyword(text: str) -> KeywordMatch | None:
    """The keyword the whole message is, if it is one."""
    return _KEYWORDS.get(normalise(text))


_REPLIES: Final[dict[tuple[Keyword, str], str]] = {
    (Keyword.STOP, "fr"): (
        "{town}: vous ne recevrez plus d'alertes par SMS. Pour les reprendre, repondez REPRENDRE."
    ),
    (Keyword.STOP, "en"): (
        "{town}: you will no longer receive SMS alerts. To receive them again, reply START."
    ),
    (Keyword.START, "fr"): (
        "{town}: vous recevrez de nouveau les alertes par SMS. Pour arreter, repondez ARRET."
    ),
    (Keyword.START, "en"): "{town}: you will receive SMS alerts again. To stop, reply STOP.",
    (Keyword.HELP, "fr"): (
        "{town}, alertes aux citoyens. ARRET pour ne plus recevoir de SMS. Aide: {contact}"
    ),
    (Keyword.HELP, "en"): "{town} resident alerts. Reply STOP to end SMS alerts. Help: {contact}",
}

# A reply must fit one SMS: a second segment costs money and can arrive out of order.
MAX_REPLY_SEPTETS: Final = 160


def reply_text(keyword: Keyword, language: str, *, town: str, contact: str) -> str:
    """The confirmation or help text, one SMS long; the town's name is cut if it must be."""
    template = _REPLIES[(keyword, language if language in ("fr", "en") else "fr")]
    text = template.format(town=town, contact=contact or "-")
    while segment_info(text).parts > 1 and len(town) > 8:
        town = town[: max(8, len(town) - 4)]
        text = template.format(town=town, contact=contact or "-")
    return text
