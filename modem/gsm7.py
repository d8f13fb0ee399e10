"""GSM 03.38 default alphabet and septet packing (3GPP TS 23.038 §6.1.2, TS 23.040 §9.2.3.24).

Septets are packed least significant bit first; `fill_bits` zero bits come first so that text
following a User Data Header starts on a septet boundary.
"""

from __future__ import annotations

from modem.exceptions import PduError

ESCAPE = 0x1B
"""Escape to the extension table: the next septet selects an extension character."""

SEPTET_BITS = 7

# Index = septet value. 0x1B is the escape, never a character by itself (decoded as a space).
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

EXTENSION = {
    "\f": 0x0A,  # page break
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_BASIC_CODES = {ch: code for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESCAPE}
_EXTENSION_CHARS = {code: ch for ch, code in EXTENSION.items()}


def is_gsm7(text: str) -> bool:
    """True when every character has a default-alphabet or extension-table code."""
    return all(ch in _BASIC_CODES or ch in EXTENSION for ch in text)


def char_septets(ch: str) -> int:
    """Septets one character costs: 2 for extension characters (escape + code), else 1."""
    return 2 if ch in EXTENSION else 1


def count_septets(text: str) -> int:
    """Septets `text` occupies once encoded (assumes `is_gsm7(text)`)."""
    return sum(char_septets(ch) for ch in text)


def encode(text: str) -> list[int]:
    """Septet values for `text`; extension characters become escape + code."""
    septets: list[int] = []
    for ch in text:
        code = _BASIC_CODES.get(ch)
        if code is not None:
            septets.append(code)
        elif ch in EXTENSION:
            septets += (ESCAPE, EXTENSION[ch])
        else:
            raise PduError(f"character {ch!r} is not in the GSM 7-bit alphabet")
    return septets


def decode(septets: list[int]) -> str:
    """Text for septet values, following 23.038 for unknown escapes (show the base character)."""
    chars: list[str] = []
    escaped = False
    for septet in septets:
        if escaped:
            escaped = False
            if septet in _EXTENSION_CHARS:
                chars.append(_EXTENSION_CHARS[septet])
            else:  # escape-escape selects a table we lack: a space, like an unknown code
                chars.append(" " if septet == ESCAPE else DEFAULT_ALPHABET[septet])
        elif septet == ESCAPE:
            escaped = True
        else:
            chars.append(DEFAULT_ALPHABET[septet])
    if escaped:
        chars.append(" ")
    return "".join(chars)


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first after `fill_bits` zero bits (0..6, for UDH alignment)."""
    value = 0
    for index, septet in enumerate(septets):
        value |= (septet & 0x7F) << (fill_bits + index * SEPTET_BITS)
    total_bits = fill_bits + len(septets) * SEPTET_BITS
    return value.to_bytes((total_bits + 7) // 8, "little")


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """`count` septets from `data`, skipping `fill_bits` leading bits; PduError if too short."""
    needed = (fill_bits + count * SEPTET_BITS + 7) // 8
    if len(data) < needed:
        raise PduError(f"user data holds {len(data)} octets, {count} septets need {needed}")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return [(value >> (index * SEPTET_BITS)) & 0x7F for index in range(count)]
