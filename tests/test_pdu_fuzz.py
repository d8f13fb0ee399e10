"""Fuzz the decoder: whatever arrives from a modem, only PduError may escape."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modem.exceptions import PduError
from modem.pdu import Deliver, StatusReport, Submit, decode, encode_deliver, encode_status_report
from modem.pdu import encode_submit as _encode_submit

MANY = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TEXTS = ["", "Bonjour", "Fête 😀", "x" * 200, "€" * 90, "ç" * 80, "a@" * 4]


def _valid_pdus() -> list[tuple[str, bool]]:
    """(hex, smsc_included) samples of every kind the codec produces."""
    pdus: list[tuple[str, bool]] = []
    for text in TEXTS:
        pdus += [(p.pdu, True) for p in _encode_submit("+15145550123", text, reference=300)]
        pdus += [(p, True) for p in encode_deliver("TOWN", text, timestamp=WHEN, reference=7)]
    report = encode_status_report(
        message_reference=1,
        recipient="5145550123",
        service_centre_time=WHEN,
        discharge_time=WHEN,
        status=0x41,
        smsc=None,
    )
    return [*pdus, (report, True), (report[2:], False)]


VALID = _valid_pdus()


def _decode_or_pdu_error(pdu_hex: str, smsc_included: bool = True) -> None:
    """Decode and accept either a message or a PduError; anything else fails the test."""
    try:
        result = decode(pdu_hex, smsc_included=smsc_included)
    except PduError:
        return
    assert isinstance(result, Deliver | Submit | StatusReport)


@MANY
@given(data=st.binary(max_size=200), smsc_included=st.booleans())
def test_random_octets(data: bytes, smsc_included: bool) -> None:
    _decode_or_pdu_error(data.hex(), smsc_included)


@SOME
@given(text=st.text(alphabet="0123456789abcdefABCDEF \t\r\n+,\"'xg", max_size=120))
def test_random_hex_like_text(text: str) -> None:
    _decode_or_pdu_error(text)


@SOME
@given(text=st.text(max_size=60))
def test_random_unicode_text(text: str) -> None:
    _decode_or_pdu_error(text)


@MANY
@given(
    sample=st.sampled_from(VALID),
    position=st.integers(0, 400),
    value=st.integers(0, 255),
    action=st.sampled_from(["flip", "set", "truncate", "extend", "delete", "insert"]),
    extra=st.binary(min_size=1, max_size=20),
)
def test_mutated_valid_pdus(
    sample: tuple[str, bool], position: int, value: int, action: str, extra: bytes
) -> None:
    pdu_hex, smsc_included = sample
    data = bytearray.fromhex(pdu_hex)
    index = position % len(data)
    if action == "flip":
        data[index] ^= 1 << (value % 8)
    elif action == "set":
        data[index] = value
    elif action == "truncate":
        del data[index:]
    elif action == "extend":
        data += extra
    elif action == "delete":
        del data[index]
    else:
        data[index:index] = extra
    _decode_or_pdu_error(data.hex(), smsc_included)


@SOME
@given(
    first=st.integers(0, 255),
    dcs=st.integers(0, 255),
    udl=st.integers(0, 255),
    body=st.binary(max_size=160),
)
def test_structured_headers_with_random_fields(first: int, dcs: int, udl: int, body: bytes) -> None:
    """Reach the user-data and UDH code more often than random octets would."""
    deliver = bytes([0, first & 0xFC, 4, 0x81, 0x21, 0x43, 0, dcs])
    deliver += bytes.fromhex("42105021000000") + bytes([udl]) + body
    _decode_or_pdu_error(deliver.hex())
    submit = bytes([0, (first & 0xFC) | 1, 0, 4, 0x81, 0x21, 0x43, 0, dcs, 0xA7, udl]) + body
    _decode_or_pdu_error(submit.hex())


def test_valid_samples_decode() -> None:
    for pdu_hex, smsc_included in VALID:
        assert isinstance(
            decode(pdu_hex, smsc_included=smsc_included), Deliver | Submit | StatusReport
        )
