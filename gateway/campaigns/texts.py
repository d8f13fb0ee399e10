"""SMS cost of an alert's text, and its plain-GSM variant (one accent can double the cost)."""

from __future__ import annotations

import unicodedata
from typing import Final

from modem import gsm7
from modem.pdu import Segmentation, segment_info

# Typographic characters a word processor or phone keyboard slips in, and their GSM-7 twins.
_REPLACEMENTS: Final[dict[str, str]] = {
    "’": "'",
    "‘": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "\u00a0": " ",  # no-break space, common before French punctuation
    "\u202f": " ",  # narrow no-break space
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "•": "-",
}


def segments(text: str) -> Segmentation:
    """Encoding, parts and the characters that forced UCS-2."""
    return segment_info(text)


def plain_gsm(text: str) -> str:
    """The text with every non-GSM-7 character replaced: ç→c, ê→e, «→", unknown → ?."""
    out: list[str] = []
    for char in text:
        if gsm7.is_gsm7(char):
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(base if base and gsm7.is_gsm7(base) else "?")
    return "".join(out)
