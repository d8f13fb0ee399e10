"""SMS PDU codec (3GPP TS 23.040 / 23.038): what AT+CMGS sends and what +CMGR/+CMT receive.

The decoder trusts no length field: every malformed PDU ends in `PduError`, never another error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from modem import gsm7
from modem.exceptions import PduError
from modem.pdu_fields import (
    Encoding,
    Reader,
    decode_address,
    decode_smsc,
    decode_timestamp,
    decode_validity,
    encode_address,
    encode_smsc,
    encode_timestamp,
    encode_validity,
    make_dcs,
    parse_dcs,
)

__all__ = [
    "Concat",
    "Deliver",
    "Encoding",
    "Segmentation",
    "StatusReport",
    "Submit",
    "SubmitPart",
    "decode",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "segment_info",
    "tpdu_length",
]

MAX_USER_DATA_OCTETS = 140
MAX_SEPTETS = 160  # 140 octets of packed GSM-7
MAX_PARTS = 255  # the concat IE counts parts in one octet
DEFAULT_SMSC = "+15140000000"  # the simulated network's service centre

MTI_DELIVER = 0x00
MTI_SUBMIT = 0x01
MTI_STATUS_REPORT = 0x02
MMS_NO_MORE = 0x04  # TP-MMS set: no more messages waiting (what networks usually send)
VPF_RELATIVE = 0x10
VPF_ABSOLUTE = 0x18
VPF_ENHANCED = 0x08
SRR = 0x20  # TP-SRR on SUBMIT, TP-SRI on DELIVER, same bit
UDHI = 0x40

IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


@dataclass(frozen=True)
class Concat:
    """Concatenated-SMS information element: which part of which message this is."""

    reference: int  # 0..255 for 8-bit IE (0x00), 0..65535 for 16-bit IE (0x08)
    total: int  # parts in the message, 1..255
    sequence: int  # 1-based
    ref_bits: int = 8  # 8 or 16


@dataclass(frozen=True)
class SubmitPart:
    """One encoded SMS-SUBMIT ready for AT+CMGS."""

    pdu: str  # uppercase hex, including the leading SMSC field ("00" = the SIM's SMSC)
    tpdu_length: int  # octets excluding the SMSC field: the <length> of AT+CMGS=<length>
    text: str  # the text carried by this part
    concat: Concat | None


@dataclass(frozen=True)
class Segmentation:
    """How a text will be sent, for the admin UI's character counter."""

    encoding: Encoding  # "gsm7" or "ucs2"
    parts: int
    units: int  # septets (gsm7, extension chars count 2) or UTF-16 code units (ucs2)
    per_part: int  # 160/153 or 70/67
    forcing_chars: str  # distinct chars that forced UCS-2 (empty for gsm7)


@dataclass(frozen=True)
class Deliver:
    """SMS-DELIVER: a message the modem received."""

    sender: str  # "+1514..." international, digits otherwise, text for alphanumeric senders
    sender_type: int  # raw type-of-address octet (0x91, 0x81, 0xD0, ...)
    text: str  # "" for 8-bit data
    data: bytes  # user data without UDH: septet values (gsm7, one per byte), UTF-16-BE, or octets
    encoding: Encoding
    timestamp: datetime  # TP-SCTS, aware, in the sender's offset
    concat: Concat | None
    smsc: str | None
    pid: int
    dcs: int
    message_class: int | None
    udh: bytes  # raw UDH including its length octet (b"" if none)


@dataclass(frozen=True)
class Submit:
    """SMS-SUBMIT, decoded: what the simulator received through AT+CMGS."""

    destination: str
    text: str
    data: bytes  # as in Deliver.data
    encoding: Encoding
    message_reference: int  # TP-MR
    status_report: bool  # TP-SRR
    concat: Concat | None
    dcs: int
    validity_minutes: int | None  # relative TP-VP only; None when absent, absolute or enhanced


@dataclass(frozen=True)
class StatusReport:
    """SMS-STATUS-REPORT: the SMSC's word on a submitted part."""

    message_reference: int  # TP-MR of the submitted part it reports on
    recipient: str
    service_centre_time: datetime
    discharge_time: datetime
    status: int  # TP-ST

    @property
    def delivered(self) -> bool:
        """Transaction completed (0x00..0x1F)."""
        return self.status < 0x20

    @property
    def pending(self) -> bool:
        """Temporary error, the SMSC is still trying (0x20..0x3F)."""
        return 0x20 <= self.status < 0x40

    @property
    def failed(self) -> bool:
        """Permanent error, or a temporary one the SMSC gave up on (0x40 and above)."""
        return self.status >= 0x40


@dataclass(frozen=True)
class _UserData:
    """Decoded TP-UD."""

    udh: bytes
    concat: Concat | None
    text: str
    data: bytes


def segment_info(text: str) -> Segmentation:
    """Encoding, size and part count of `text`, as `encode_submit` would send it (8-bit ref)."""
    encoding: Encoding = "gsm7" if gsm7.is_gsm7(text) else "ucs2"
    units = sum(_units(ch, encoding) for ch in text)
    single = _capacity(encoding, 0)
    per_part = single if units <= single else _capacity(encoding, _concat_udh_octets(8))
    parts = len(_split(text, encoding, 8))
    forcing = "" if encoding == "gsm7" else "".join(dict.fromkeys(_non_gsm7(text)))
    return Segmentation(encoding, parts, units, per_part, forcing)


def encode_submit(
    destination: str,
    text: str,
    *,
    reference: int = 0,
    status_report: bool = True,
    validity_minutes: int | None = 24 * 60,
    force_ucs2: bool = False,
    message_reference: int = 0,
    smsc: str | None = None,
) -> list[SubmitPart]:
    """SMS-SUBMIT PDUs for AT+CMGS; part i carries TP-MR `message_reference + i` (mod 256)."""
    if not 0 <= message_reference <= 0xFF:
        raise PduError(f"message reference {message_reference} is not an octet")
    address = encode_address(destination)
    smsc_field = encode_smsc(smsc)
    encoding = _choose_encoding(text, force_ucs2)
    first = MTI_SUBMIT | (SRR if status_report else 0)
    validity = b""
    if validity_minutes is not None:
        first |= VPF_RELATIVE
        validity = bytes([encode_validity(validity_minutes)])
    parts: list[SubmitPart] = []
    for index, (chunk, concat) in enumerate(_segments(text, encoding, reference)):
        udh = _concat_udh(concat)
        udl, user_data = _encode_user_data(chunk, encoding, udh)
        head = bytes([first | (UDHI if udh else 0), (message_reference + index) & 0xFF])
        tpdu = head + address + bytes([0, make_dcs(encoding)]) + validity + bytes([udl])
        tpdu += user_data
        parts.append(SubmitPart((smsc_field + tpdu).hex().upper(), len(tpdu), chunk, concat))
    return parts


def encode_deliver(
    sender: str,
    text: str,
    *,
    timestamp: datetime,
    reference: int = 0,
    smsc: str | None = DEFAULT_SMSC,
    status_report_indication: bool = False,
    force_ucs2: bool = False,
    more_messages: bool = False,
) -> list[str]:
    """SMS-DELIVER PDUs (hex, SMSC field included) as a network delivers them, one per part."""
    address = encode_address(sender, allow_alphanumeric=True)
    smsc_field = encode_smsc(smsc)
    encoding = _choose_encoding(text, force_ucs2)
    first = MTI_DELIVER | (SRR if status_report_indication else 0)
    first |= 0 if more_messages else MMS_NO_MORE
    scts = encode_timestamp(timestamp)
    pdus: list[str] = []
    for chunk, concat in _segments(text, encoding, reference):
        udh = _concat_udh(concat)
        udl, user_data = _encode_user_data(chunk, encoding, udh)
        tpdu = bytes([first | (UDHI if udh else 0)]) + address + bytes([0, make_dcs(encoding)])
        pdus.append((smsc_field + tpdu + scts + bytes([udl]) + user_data).hex().upper())
    return pdus


def encode_status_report(
    *,
    message_reference: int,
    recipient: str,
    service_centre_time: datetime,
    discharge_time: datetime,
    status: int,
    smsc: str | None = DEFAULT_SMSC,
) -> str:
    """An SMS-STATUS-REPORT PDU (hex, SMSC field included) for a submitted part."""
    if not 0 <= message_reference <= 0xFF or not 0 <= status <= 0xFF:
        raise PduError("message reference and status must each fit in one octet")
    tpdu = bytes([MTI_STATUS_REPORT | MMS_NO_MORE, message_reference])
    tpdu += encode_address(recipient) + encode_timestamp(service_centre_time)
    tpdu += encode_timestamp(discharge_time) + bytes([status])
    return (encode_smsc(smsc) + tpdu).hex().upper()


def decode(pdu_hex: str, *, smsc_included: bool = True) -> Deliver | Submit | StatusReport:
    """Decode a PDU as +CMGR/+CMT/+CDS show it; PduError says what is wrong and where."""
    reader = Reader(_parse_hex(pdu_hex))
    smsc = decode_smsc(reader) if smsc_included else None
    first = reader.octet("first octet")
    mti = first & 0x03
    if mti == MTI_DELIVER:
        return _decode_deliver(reader, first, smsc)
    if mti == MTI_SUBMIT:
        return _decode_submit(reader, first)
    if mti == MTI_STATUS_REPORT:
        return _decode_status_report(reader)
    raise PduError(f"reserved message type indicator 3 in first octet 0x{first:02X}")


def tpdu_length(pdu_hex: str, smsc_included: bool = True) -> int:
    """Octets after the SMSC field: the <length> that AT+CMGS and AT+CMGW expect."""
    octets = _parse_hex(pdu_hex)
    length = len(octets) - (octets[0] + 1 if smsc_included else 0)
    if length < 1:
        raise PduError(f"PDU of {len(octets)} octets has no TPDU after its SMSC field")
    return length


def _decode_deliver(reader: Reader, first: int, smsc: str | None) -> Deliver:
    """TP-OA, PID, DCS, SCTS, then user data."""
    sender, sender_type = decode_address(reader, "originating address")
    pid = reader.octet("TP-PID")
    dcs = reader.octet("TP-DCS")
    coding = parse_dcs(dcs)
    timestamp = decode_timestamp(reader, "TP-SCTS")
    ud = _decode_user_data(reader, first, coding.encoding)
    return Deliver(
        sender=sender,
        sender_type=sender_type,
        text=ud.text,
        data=ud.data,
        encoding=coding.encoding,
        timestamp=timestamp,
        concat=ud.concat,
        smsc=smsc,
        pid=pid,
        dcs=dcs,
        message_class=coding.message_class,
        udh=ud.udh,
    )


def _decode_submit(reader: Reader, first: int) -> Submit:
    """TP-MR, DA, PID, DCS, optional VP, then user data."""
    message_reference = reader.octet("TP-MR")
    destination, _ = decode_address(reader, "destination address")
    reader.octet("TP-PID")
    dcs = reader.octet("TP-DCS")
    coding = parse_dcs(dcs)
    validity: int | None = None
    vpf = first & VPF_ABSOLUTE
    if vpf == VPF_RELATIVE:
        validity = decode_validity(reader.octet("TP-VP"))
    elif vpf == VPF_ABSOLUTE:
        decode_timestamp(reader, "TP-VP")
    elif vpf == VPF_ENHANCED:
        reader.take(7, "enhanced TP-VP")
    ud = _decode_user_data(reader, first, coding.encoding)
    return Submit(
        destination=destination,
        text=ud.text,
        data=ud.data,
        encoding=coding.encoding,
        message_reference=message_reference,
        status_report=bool(first & SRR),
        concat=ud.concat,
        dcs=dcs,
        validity_minutes=validity,
    )


def _decode_status_report(reader: Reader) -> StatusReport:
    """TP-MR, RA, SCTS, DT, ST; the optional TP-PI tail is ignored (often just padding)."""
    message_reference = reader.octet("TP-MR")
    recipient, _ = decode_address(reader, "recipient address")
    service_centre_time = decode_timestamp(reader, "TP-SCTS")
    discharge_time = decode_timestamp(reader, "TP-DT")
    status = reader.octet("TP-ST")
    return StatusReport(message_reference, recipient, service_centre_time, discharge_time, status)


def _decode_user_data(reader: Reader, first: int, encoding: Encoding) -> _UserData:
    """TP-UDL and TP-UD; bytes after the UDL are ignored (modems pad)."""
    start = reader.pos + 1
    udl = reader.octet("TP-UDL")
    available = reader.rest()
    needed = math.ceil(udl * gsm7.SEPTET_BITS / 8) if encoding == "gsm7" else udl
    if len(available) < needed:
        raise PduError(
            f"user data from octet {start} is truncated: TP-UDL {udl} needs "
            f"{needed} octets, {len(available)} present"
        )
    if udl > (MAX_SEPTETS if encoding == "gsm7" else MAX_USER_DATA_OCTETS):
        raise PduError(f"TP-UDL {udl} at octet {start - 1} exceeds one SMS")
    user_data = available[:needed]
    udh = b""
    if first & UDHI and udl:  # some phones set UDHI on empty messages: nothing to read then
        udh_octets = user_data[0] + 1
        if udh_octets > needed:
            raise PduError(f"UDH of {udh_octets} octets at octet {start} overruns TP-UDL {udl}")
        udh = user_data[:udh_octets]
    concat = _parse_udh(udh, start)
    if encoding == "gsm7":
        header_septets = math.ceil(len(udh) * 8 / gsm7.SEPTET_BITS)
        septets = gsm7.unpack_septets(user_data, udl)[header_septets:]
        return _UserData(udh, concat, gsm7.decode(septets), bytes(septets))
    body = user_data[len(udh) :]
    if encoding == "8bit":
        return _UserData(udh, concat, "", body)
    if len(body) % 2:
        raise PduError(f"UCS-2 user data from octet {start + len(udh)} has an odd octet count")
    return _UserData(udh, concat, body.decode("utf-16-be", errors="replace"), body)


def _parse_udh(udh: bytes, start: int) -> Concat | None:
    """Walk the information elements; return the concat IE when one is valid (§9.2.3.24.1)."""
    concat: Concat | None = None
    pos = 1
    while pos < len(udh):
        if pos + 2 > len(udh) or pos + 2 + udh[pos + 1] > len(udh):
            raise PduError(f"UDH information element at octet {start + pos} is truncated")
        iei, length = udh[pos], udh[pos + 1]
        body = udh[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if concat is not None:
            continue
        if iei == IEI_CONCAT_8 and length == 3:
            candidate = Concat(body[0], body[1], body[2], 8)
        elif iei == IEI_CONCAT_16 and length == 4:
            candidate = Concat(body[0] << 8 | body[1], body[2], body[3], 16)
        else:
            continue
        if 1 <= candidate.sequence <= candidate.total:  # else the IE is ignored, per the spec
            concat = candidate
    return concat


def _parse_hex(pdu_hex: str) -> bytes:
    """Octets of a hex string (any case, surrounding whitespace allowed)."""
    text = pdu_hex.strip()
    if not _HEX.fullmatch(text):
        raise PduError(f"PDU is not an even-length hex string: {text[:40]!r}")
    return bytes.fromhex(text)


def _choose_encoding(text: str, force_ucs2: bool) -> Encoding:
    """GSM-7 when every character has a code, else UCS-2."""
    return "ucs2" if force_ucs2 or not gsm7.is_gsm7(text) else "gsm7"


def _non_gsm7(text: str) -> list[str]:
    """Characters of `text` that GSM-7 cannot carry."""
    return [ch for ch in text if not gsm7.is_gsm7(ch)]


def _units(ch: str, encoding: Encoding) -> int:
    """Septets (gsm7) or UTF-16 code units (ucs2) one character costs."""
    if encoding == "gsm7":
        return gsm7.char_septets(ch)
    return 2 if ord(ch) > 0xFFFF else 1


def _concat_udh_octets(ref_bits: int) -> int:
    """UDH size including its length octet: 6 for an 8-bit reference, 7 for 16-bit."""
    return 6 if ref_bits == 8 else 7


def _capacity(encoding: Encoding, udh_octets: int) -> int:
    """Septets or UTF-16 units that fit beside a UDH of `udh_octets` (0 = no UDH)."""
    if encoding == "gsm7":
        return MAX_SEPTETS - math.ceil(udh_octets * 8 / gsm7.SEPTET_BITS)
    return (MAX_USER_DATA_OCTETS - udh_octets) // 2


def _split(text: str, encoding: Encoding, ref_bits: int) -> list[str]:
    """Text per part; never splits an escape sequence or a surrogate pair."""
    if sum(_units(ch, encoding) for ch in text) <= _capacity(encoding, 0):
        return [text]
    limit = _capacity(encoding, _concat_udh_octets(ref_bits))
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        cost = _units(ch, encoding)
        if used + cost > limit:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += cost
    chunks.append("".join(current))
    return chunks


def _segments(text: str, encoding: Encoding, reference: int) -> list[tuple[str, Concat | None]]:
    """(chunk, concat IE) per part; 16-bit reference IE when `reference` exceeds one octet."""
    if not 0 <= reference <= 0xFFFF:
        raise PduError(f"concatenation reference {reference} is outside 0..65535")
    ref_bits = 8 if reference <= 0xFF else 16
    chunks = _split(text, encoding, ref_bits)
    if len(chunks) == 1:
        return [(text, None)]
    if len(chunks) > MAX_PARTS:
        raise PduError(f"text needs {len(chunks)} parts, more than {MAX_PARTS}")
    total = len(chunks)
    return [(c, Concat(reference, total, i + 1, ref_bits)) for i, c in enumerate(chunks)]


def _concat_udh(concat: Concat | None) -> bytes:
    """The UDH (length octet included) carrying a concat IE, or b"" for a single part."""
    if concat is None:
        return b""
    if concat.ref_bits == 8:
        body = bytes([IEI_CONCAT_8, 3, concat.reference])
    else:
        body = bytes([IEI_CONCAT_16, 4, concat.reference >> 8, concat.reference & 0xFF])
    body += bytes([concat.total, concat.sequence])
    return bytes([len(body)]) + body


def _encode_user_data(text: str, encoding: Encoding, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD): GSM-7 text starts after fill bits that align the UDH on a septet."""
    if encoding == "gsm7":
        header_septets = math.ceil(len(udh) * 8 / gsm7.SEPTET_BITS)
        fill_bits = header_septets * gsm7.SEPTET_BITS - len(udh) * 8
        septets = gsm7.encode(text)
        return header_septets + len(septets), udh + gsm7.pack_septets(septets, fill_bits)
    payload = udh + text.encode("utf-16-be")
    return len(payload), payload
