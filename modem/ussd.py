"""USSD answers (`+CUSD: <m>[,<str>[,<dcs>]]`, 3GPP TS 27.007 §7.15) as modules print them.

The text arrives plain (SIMCom, Quectel with AT+CSCS="GSM"/"IRA"), as packed GSM-7 hex (Huawei
sticks), or as UCS-2 hex when the network coded it so (dcs 72, or 17 with a language prefix);
it may hold commas, quotes and line breaks ("Votre solde est de 12,34 $").
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from modem import gsm7
from modem.exceptions import ModemError, PduError

DCS_GSM7: Final = 15  # GSM-7, language unspecified (TS 23.038 §5)
_HEAD: Final = re.compile(r"^\+CUSD:\s*(\d+)\s*(?:,\s*(.*))?$", re.DOTALL)
_QUOTED: Final = re.compile(r'^"(.*)"\s*(?:,\s*(\d+)\s*)?$', re.DOTALL)
_BARE: Final = re.compile(r"^([^,]*?)\s*(?:,\s*(\d+)\s*)?$", re.DOTALL)
_HEX: Final = re.compile(r"(?:[0-9A-Fa-f]{2})+")


class UssdStatus(enum.IntEnum):
    """<m> of +CUSD (TS 27.007 §7.15)."""

    DONE = 0  # no further user action required
    MORE = 1  # the network waits for a reply (a menu): we close the session
    TERMINATED = 2  # the network ended the session
    OTHER_CLIENT = 3  # another local client answered
    NOT_SUPPORTED = 4  # operation not supported (unknown code, barred)
    NETWORK_TIMEOUT = 5


class UssdError(ModemError):
    """The network gave no usable USSD answer."""


class UssdTimeoutError(UssdError, TimeoutError):
    """No +CUSD arrived in time."""


@dataclass(frozen=True, slots=True)
class UssdAnswer:
    status: UssdStatus
    text: str
    dcs: int


def is_complete(line: str) -> bool:
    """Whether a +CUSD line so far holds its whole text (a quoted text may span lines)."""
    match = _HEAD.match(line)
    if match is None or match.group(2) is None:
        return True
    rest = match.group(2).lstrip()
    if not rest.startswith('"'):
        return True
    return _QUOTED.match(rest) is not None


def parse_cusd(line: str, *, packed: bool) -> UssdAnswer:
    """The status, text and dcs of a +CUSD line; `packed`: the family sends GSM-7 hex."""
    match = _HEAD.match(line.strip())
    if match is None:
        raise UssdError(f"unreadable USSD answer: {line!r}")
    try:
        status = UssdStatus(int(match.group(1)))
    except ValueError:
        raise UssdError(f"unknown USSD status in {line!r}") from None
    rest = (match.group(2) or "").strip()
    if not rest:
        return UssdAnswer(status, "", DCS_GSM7)
    body = _QUOTED.match(rest) or _BARE.match(rest)
    if body is None:
        raise UssdError(f"unreadable USSD answer: {line!r}")
    raw = body.group(1)
    dcs = int(body.group(2)) if body.group(2) else DCS_GSM7
    return UssdAnswer(status, decode_text(raw, dcs, packed=packed, line=line), dcs)


def decode_cusd(line: str, *, packed: bool) -> str:
    """The text of a final USSD answer; raises `UssdError` when the network gave none."""
    return decode_answer(parse_cusd(line, packed=packed))


def decode_answer(answer: UssdAnswer) -> str:
    """The answer's text, or `UssdError` for the statuses that carry none."""
    if answer.status is UssdStatus.NOT_SUPPORTED:
        raise UssdError("the network does not support this USSD operation")
    if answer.status is UssdStatus.OTHER_CLIENT:
        raise UssdError("another client answered the USSD session")
    if answer.status is UssdStatus.NETWORK_TIMEOUT:
        raise UssdError("the network timed the USSD session out")
    if answer.status is UssdStatus.TERMINATED and not answer.text:
        raise UssdError("the network ended the USSD session without an answer")
    return answer.text


def decode_text(raw: str, dcs: int, *, packed: bool, line: str = "") -> str:
    """Plain text, packed GSM-7 hex or UCS-2 hex, by the data coding scheme (TS 23.038 §5)."""
    is_hex = bool(_HEX.fullmatch(raw))
    alphabet = _alphabet(dcs)
    try:
        if alphabet == "ucs2" and is_hex:
            data = bytes.fromhex(raw)
            if dcs == 0x11:  # UCS-2 preceded by a two-character language indication
                data = data[2:]
            return data.decode("utf-16-be")
        if alphabet == "gsm7" and packed and is_hex:
            data = bytes.fromhex(raw)
            count = len(data) * 8 // 7
            septets = gsm7.unpack_septets(data, count)
            if count and septets[-1] == 0x0D and len(data) % 7 == 0:
                septets = septets[:-1]  # TS 23.038 §6.1.2.3.1: CR pads a full last octet
            return gsm7.decode(septets).rstrip("@")
    except (ValueError, UnicodeDecodeError, PduError) as exc:
        raise UssdError(f"unreadable USSD answer: {line or raw!r}") from exc
    return raw


def _alphabet(dcs: int) -> str:
    """ "gsm7", "8bit" or "ucs2" for a CBS data coding scheme."""
    group = dcs >> 4
    if dcs == 0x11:
        return "ucs2"
    if group in (0x4, 0x5, 0x6, 0x7, 0x9):  # general data coding, bits 3-2 the alphabet
        return {0: "gsm7", 1: "8bit", 2: "ucs2"}.get((dcs >> 2) & 0x3, "gsm7")
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"
