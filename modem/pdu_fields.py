"""TPDU fields shared by every SMS type: addresses, timestamps, data coding, validity (TS 23.040).

Decoders read through `Reader`, which turns every short read into a `PduError` naming the octet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from modem import gsm7
from modem.exceptions import PduError

Encoding = Literal["gsm7", "ucs2", "8bit"]

TOA_INTERNATIONAL = 0x91
TOA_NATIONAL = 0x81  # "unknown" type of number, ISDN plan: what phones use for dialled digits
TOA_ALPHANUMERIC = 0xD0
TON_INTERNATIONAL = 1
TON_ALPHANUMERIC = 5

MAX_ADDRESS_DIGITS = 20  # TP-DA/OA address value is at most 10 octets
MAX_SMSC_OCTETS = 11  # RP address: type octet + 10 octets of digits (TS 24.011 §8.2.5)
MAX_ALPHANUMERIC_SEPTETS = 11  # 10 octets hold 11 septets
TIMESTAMP_OCTETS = 7
QUARTER_HOUR = timedelta(minutes=15)
CENTURY_PIVOT = 80  # two-digit years from 80 are 19xx: GSM did not exist before 1991

_BCD_DIGITS = "0123456789*#abc"  # semi-octet values 0..14; 15 is the filler
_DIGIT_VALUES = {ch: value for value, ch in enumerate(_BCD_DIGITS)}
_DIALLABLE = "0123456789*#"  # a..c exist in BCD but would swallow alphanumeric names like "abc"

# Relative TP-VP (TS 23.040 §9.2.3.12.1): (last octet value, minutes per step, minutes at 0).
_VP_MAX_5_MIN = 143
_VP_MAX_30_MIN = 167
_VP_MAX_DAYS = 196
_MINUTES_PER_DAY = 24 * 60
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY


class Reader:
    """Cursor over PDU octets that raises PduError (with the offset) instead of IndexError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def octet(self, what: str) -> int:
        """One octet, or PduError if the PDU ends first."""
        return self.take(1, what)[0]

    def take(self, count: int, what: str) -> bytes:
        """`count` octets, or PduError if the PDU ends first."""
        if self.pos + count > len(self.data):
            raise PduError(
                f"PDU ends at octet {len(self.data)} while reading {what} "
                f"(needs {count} octet(s) from octet {self.pos})"
            )
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def rest(self) -> bytes:
        """Every octet not read yet."""
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


@dataclass(frozen=True)
class DataCoding:
    """What a TP-DCS octet says about the user data."""

    encoding: Encoding
    message_class: int | None


def parse_dcs(dcs: int) -> DataCoding:
    """Alphabet and class of a TP-DCS (TS 23.038 §4); compressed text is refused."""
    group = dcs >> 4
    alphabets: tuple[Encoding, ...] = ("gsm7", "8bit", "ucs2", "8bit")  # reserved 11 → 8-bit
    if group <= 0x7:  # general data coding and automatic deletion groups
        if dcs & 0x20:
            raise PduError(f"compressed user data not supported (TP-DCS 0x{dcs:02X})")
        message_class = dcs & 0x03 if dcs & 0x10 else None
        return DataCoding(alphabets[(dcs >> 2) & 0x03], message_class)
    if group == 0xE:  # message waiting indication, store, UCS-2
        return DataCoding("ucs2", None)
    if group == 0xF:  # data coding / message class
        return DataCoding("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03)
    # 1100 and 1101 are MWI groups with GSM-7 text; 1000-1011 are reserved, read as GSM-7 (§4).
    return DataCoding("gsm7", None)


def make_dcs(encoding: Encoding) -> int:
    """TP-DCS for plain text without class: 0x00 GSM-7, 0x04 8-bit, 0x08 UCS-2."""
    return {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}[encoding]


def encode_address(address: str, *, allow_alphanumeric: bool = False) -> bytes:
    """TP-DA/TP-OA: length in semi-octets, type of address, swapped BCD or packed GSM-7."""
    toa, digits = _classify_address(address)
    if toa is None:
        if not allow_alphanumeric:
            raise PduError(f"address {address!r} is not a phone number")
        septets = gsm7.encode(digits)
        if not septets or len(septets) > MAX_ALPHANUMERIC_SEPTETS:
            raise PduError(f"alphanumeric address {address!r} must be 1..11 GSM-7 septets")
        semi_octets = math.ceil(len(septets) * gsm7.SEPTET_BITS / 4)
        return bytes([semi_octets, TOA_ALPHANUMERIC]) + gsm7.pack_septets(septets)
    if len(digits) > MAX_ADDRESS_DIGITS:
        raise PduError(f"address {address!r} has more than {MAX_ADDRESS_DIGITS} digits")
    return bytes([len(digits), toa]) + encode_bcd(digits)


def encode_smsc(address: str | None) -> bytes:
    """SMSC field: octet count (type octet included) then the address; `00` for none."""
    if not address:
        return b"\x00"
    toa, digits = _classify_address(address)
    if toa is None or not digits or len(digits) > MAX_ADDRESS_DIGITS:
        raise PduError(f"SMSC {address!r} is not a phone number")
    body = bytes([toa]) + encode_bcd(digits)
    return bytes([len(body)]) + body


def decode_address(reader: Reader, what: str) -> tuple[str, int]:
    """(address text, type-of-address octet) of a TP-OA/DA/RA."""
    start = reader.pos
    length = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type")
    if length > MAX_ADDRESS_DIGITS:
        raise PduError(f"{what} length {length} at octet {start} exceeds {MAX_ADDRESS_DIGITS}")
    raw = reader.take((length + 1) // 2, what)
    if (toa >> 4) & 0x07 == TON_ALPHANUMERIC:
        septets = gsm7.unpack_septets(raw, length * 4 // gsm7.SEPTET_BITS)
        return gsm7.decode(septets), toa
    return _with_plus(toa, decode_bcd(raw)[:length]), toa


def decode_smsc(reader: Reader) -> str | None:
    """The SMSC field: None when absent or empty."""
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    if length > MAX_SMSC_OCTETS:
        raise PduError(f"SMSC length {length} at octet 0 exceeds {MAX_SMSC_OCTETS} octets")
    toa = reader.octet("SMSC type")
    digits = decode_bcd(reader.take(length - 1, "SMSC address"))
    return _with_plus(toa, digits) if digits else None


def encode_bcd(digits: str) -> bytes:
    """Swapped semi-octets, padded with F: "12345" → 21 43 F5."""
    values = [_DIGIT_VALUES[ch] for ch in digits]
    if len(values) % 2:
        values.append(0xF)
    return bytes(values[i] | values[i + 1] << 4 for i in range(0, len(values), 2))


def decode_bcd(raw: bytes) -> str:
    """Digits of swapped semi-octets, stopping at the first F filler."""
    digits: list[str] = []
    for octet in raw:
        for nibble in (octet & 0x0F, octet >> 4):
            if nibble == 0xF:
                return "".join(digits)
            digits.append(_BCD_DIGITS[nibble])
    return "".join(digits)


def encode_timestamp(when: datetime) -> bytes:
    """TP-SCTS/DT: swapped BCD fields and a quarter-hour UTC offset (sign in bit 3)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    offset = when.utcoffset() or timedelta(0)
    quarters, remainder = divmod(abs(offset), QUARTER_HOUR)
    if remainder or quarters > 79:
        raise PduError(f"UTC offset {offset} is not a whole number of quarter hours below 20 h")
    if not 1900 + CENTURY_PIVOT <= when.year < 2000 + CENTURY_PIVOT:
        raise PduError(f"year {when.year} cannot be sent as two digits")
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    octets = [(value % 10) << 4 | value // 10 for value in fields]
    tz = (quarters % 10) << 4 | quarters // 10 | (0x08 if offset < timedelta(0) else 0)
    return bytes([*octets, tz])


def decode_timestamp(reader: Reader, what: str) -> datetime:
    """A TP-SCTS/DT as an aware datetime in the sender's own offset."""
    start = reader.pos
    raw = reader.take(TIMESTAMP_OCTETS, what)
    values: list[int] = []
    for index, octet in enumerate(raw):
        low = octet & 0x0F if index < TIMESTAMP_OCTETS - 1 else octet & 0x07
        high = octet >> 4
        if low > 9 or high > 9:
            raise PduError(f"{what} octet {start + index} (0x{octet:02X}) is not BCD")
        values.append(low * 10 + high)
    year, month, day, hour, minute, second, quarters = values
    sign = -1 if raw[-1] & 0x08 else 1
    try:
        return datetime(
            year + (1900 if year >= CENTURY_PIVOT else 2000),
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(sign * quarters * QUARTER_HOUR),
        )
    except ValueError as exc:
        raise PduError(f"{what} at octet {start} is not a valid date: {exc}") from None


def encode_validity(minutes: int) -> int:
    """Relative TP-VP for at least `minutes` (rounded up to the next step, capped at 63 weeks)."""
    if minutes < 0:
        raise PduError(f"validity of {minutes} minutes is negative")
    if minutes <= 720:
        return max(0, math.ceil(minutes / 5) - 1)
    if minutes <= _MINUTES_PER_DAY:
        return _VP_MAX_5_MIN + math.ceil((minutes - 720) / 30)
    if minutes <= 30 * _MINUTES_PER_DAY:
        return 166 + max(2, math.ceil(minutes / _MINUTES_PER_DAY))
    return min(0xFF, 192 + max(5, math.ceil(minutes / _MINUTES_PER_WEEK)))


def decode_validity(vp: int) -> int:
    """Minutes a relative TP-VP stands for."""
    if vp <= _VP_MAX_5_MIN:
        return (vp + 1) * 5
    if vp <= _VP_MAX_30_MIN:
        return 720 + (vp - _VP_MAX_5_MIN) * 30
    if vp <= _VP_MAX_DAYS:
        return (vp - 166) * _MINUTES_PER_DAY
    return (vp - 192) * _MINUTES_PER_WEEK


def _classify_address(address: str) -> tuple[int | None, str]:
    """(type of address, digits) for a phone number, or (None, text) for anything else."""
    text = address.strip()
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits or any(ch not in _DIALLABLE for ch in digits):
        return None, address
    return (TOA_INTERNATIONAL if international else TOA_NATIONAL), digits


def _with_plus(toa: int, digits: str) -> str:
    """Digits with a leading + when the type of number is international."""
    return "+" + digits if (toa >> 4) & 0x07 == TON_INTERNATIONAL and digits else digits
