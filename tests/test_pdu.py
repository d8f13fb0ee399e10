"""SMS PDU codec: round trips, segment limits, known vectors, and python-gsmmodem as an oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modem import gsm7
from modem.exceptions import PduError
from modem.pdu import (
    Concat,
    Deliver,
    StatusReport,
    Submit,
    decode,
    encode_deliver,
    encode_status_report,
    encode_submit,
    segment_info,
    tpdu_length,
)

DEST = "+15145550123"
WHEN = datetime(2024, 5, 1, 12, 30, 15, tzinfo=timezone(timedelta(hours=-4)))
EXTENSION_CHARS = "€[]{}^~|\\"
GSM7_CHARS = "".join(ch for ch in gsm7.DEFAULT_ALPHABET if ch != "\x1b") + EXTENSION_CHARS + "\f"
FRENCH_FORCING = "çêâîôû"
EMOJI = "😀🚨🔥"

gsm7_text = st.text(alphabet=GSM7_CHARS, max_size=500)
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
ucs2_text = st.builds(
    lambda a, b, c: a + b + c,
    st.text(alphabet=GSM7_CHARS + FRENCH_FORCING + EMOJI, max_size=150),
    st.sampled_from(FRENCH_FORCING + EMOJI),
    any_text,
)
references = st.one_of(st.integers(0, 255), st.integers(256, 65535))
quarters = st.integers(-79, 79)
timestamps = st.builds(
    lambda dt, q: dt.replace(tzinfo=timezone(timedelta(minutes=15 * q))),
    st.datetimes(datetime(1980, 1, 1), datetime(2079, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    quarters,
)
numbers = st.one_of(
    st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
)
alphanumeric = st.text(alphabet=GSM7_CHARS, min_size=1, max_size=11).filter(
    lambda s: gsm7.count_septets(s) <= 11 and not s.strip().lstrip("+").isdigit()
)
SCTS = "42105021000000"  # 2024-01-05 12:00:00 +00:00
HEAD = "00040481214300"  # no SMSC, DELIVER (no more messages), from 1234, PID 0
HEAD_UDH = "00440481214300"  # same with UDHI
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _submits(parts: list[str]) -> list[Submit]:
    decoded = [decode(p) for p in parts]
    assert all(isinstance(d, Submit) for d in decoded)
    return decoded  # type: ignore[return-value]


def _delivers(parts: list[str]) -> list[Deliver]:
    decoded = [decode(p) for p in parts]
    assert all(isinstance(d, Deliver) for d in decoded)
    return decoded  # type: ignore[return-value]


# --- round trips -------------------------------------------------------------------------------


@FAST
@given(
    text=st.one_of(gsm7_text, gsm7_text.map(lambda s: s + "@"), ucs2_text, any_text), ref=references
)
def test_submit_round_trip(text: str, ref: int) -> None:
    parts = encode_submit(DEST, text, reference=ref, message_reference=250)
    decoded = _submits([p.pdu for p in parts])
    assert "".join(d.text for d in decoded) == text
    expected_encoding = "gsm7" if gsm7.is_gsm7(text) else "ucs2"
    for index, (part, sub) in enumerate(zip(parts, decoded, strict=True)):
        assert sub.destination == DEST
        assert sub.encoding == expected_encoding
        assert sub.text == part.text
        assert sub.concat == part.concat
        assert sub.message_reference == (250 + index) % 256
        assert sub.status_report
        assert sub.validity_minutes == 24 * 60
        assert part.tpdu_length == len(part.pdu) // 2 - 1 == tpdu_length(part.pdu)
        assert part.pdu == part.pdu.upper()
    if len(parts) > 1:
        assert {p.concat.ref_bits for p in parts if p.concat} == {8 if ref <= 255 else 16}
        assert [p.concat.sequence for p in parts if p.concat] == list(range(1, len(parts) + 1))
    if ref <= 255:
        assert len(parts) == segment_info(text).parts


@FAST
@given(
    sender=st.one_of(numbers, alphanumeric),
    text=st.one_of(gsm7_text, ucs2_text),
    ref=references,
    when=timestamps,
    sri=st.booleans(),
)
def test_deliver_round_trip(sender: str, text: str, ref: int, when: datetime, sri: bool) -> None:
    pdus = encode_deliver(sender, text, timestamp=when, reference=ref, status_report_indication=sri)
    decoded = _delivers(pdus)
    assert "".join(d.text for d in decoded) == text
    for d in decoded:
        assert d.sender == sender
        assert d.timestamp == when
        assert d.timestamp.utcoffset() == when.utcoffset()
        assert d.smsc == "+15140000000"
        assert (d.concat is None) == (len(pdus) == 1)


@FAST
@given(
    mr=st.integers(0, 255),
    recipient=numbers,
    sct=timestamps,
    dt=timestamps,
    status=st.integers(0, 255),
)
def test_status_report_round_trip(
    mr: int, recipient: str, sct: datetime, dt: datetime, status: int
) -> None:
    pdu = encode_status_report(
        message_reference=mr,
        recipient=recipient,
        service_centre_time=sct,
        discharge_time=dt,
        status=status,
    )
    report = decode(pdu)
    assert isinstance(report, StatusReport)
    assert (report.message_reference, report.recipient, report.status) == (mr, recipient, status)
    assert report.service_centre_time == sct
    assert report.discharge_time == dt
    assert [report.delivered, report.pending, report.failed].count(True) == 1


@pytest.mark.parametrize(
    ("status", "state"),
    [(0x00, "delivered"), (0x1F, "delivered"), (0x20, "pending"), (0x3F, "pending"),
     (0x40, "failed"), (0x60, "failed"), (0x7F, "failed")],
)  # fmt: skip
def test_status_report_states(status: int, state: str) -> None:
    report = StatusReport(0, DEST, WHEN, WHEN, status)
    assert getattr(report, state)


# --- segmentation ------------------------------------------------------------------------------


def test_segment_info_examples() -> None:
    bonjour = segment_info("Bonjour")
    assert (bonjour.encoding, bonjour.parts, bonjour.units, bonjour.per_part) == ("gsm7", 1, 7, 160)
    assert segment_info("a" * 161).parts == 2
    assert segment_info("a" * 161).per_part == 153
    ebullition = segment_info("Avis d'ébullition")
    assert ebullition.encoding == "gsm7"
    assert ebullition.forcing_chars == ""
    fete = segment_info("Fête")
    assert (fete.encoding, fete.forcing_chars, fete.per_part) == ("ucs2", "ê", 70)
    assert segment_info("çê ça ê").forcing_chars == "çê"
    assert segment_info("😀").units == 2
    assert segment_info("€").units == 2
    assert segment_info("").parts == 1


@pytest.mark.parametrize(
    ("text", "parts", "sizes"),
    [
        ("a" * 160, 1, [160]),
        ("a" * 161, 2, [153, 8]),
        ("a" * 306, 2, [153, 153]),
        ("a" * 307, 3, [153, 153, 1]),
        ("€" * 80, 1, [80]),
        ("€" * 80 + "a", 2, [76, 5]),  # 76 € = 152 septets: the 77th escape pair would not fit
        ("a" * 152 + "€" + "a" * 10, 2, [152, 11]),  # never split an escape sequence
        ("ç" * 70, 1, [70]),
        ("ç" * 71, 2, [67, 4]),
        ("😀" * 35, 1, [35]),  # 70 UTF-16 units
        ("😀" * 36, 2, [33, 3]),  # 66 units per part: an odd limit never splits a pair
        ("ç" * 66 + "😀" + "ç" * 5, 2, [66, 6]),
    ],
)
def test_segment_limits(text: str, parts: int, sizes: list[int]) -> None:
    encoded = encode_submit(DEST, text)
    assert [len(p.text) for p in encoded] == sizes
    assert segment_info(text).parts == parts
    for part in encoded:
        raw = bytes.fromhex(part.pdu)
        assert len(raw) - 1 == part.tpdu_length
        user_data_octets = part.tpdu_length - 14  # first, MR, DA (2+6), PID, DCS, VP, UDL
        assert user_data_octets <= 140


def test_sixteen_bit_reference_costs_one_unit_per_part() -> None:
    gsm = encode_submit(DEST, "a" * 400, reference=4000)
    assert [len(p.text) for p in gsm] == [152, 152, 96]
    assert gsm[0].concat == Concat(4000, 3, 1, 16)
    ucs = encode_submit(DEST, "ç" * 140, reference=300)
    assert [len(p.text) for p in ucs] == [66, 66, 8]
    assert "".join(d.text for d in _submits([p.pdu for p in ucs])) == "ç" * 140


def test_eight_bit_reference_masks_nothing() -> None:
    parts = encode_submit(DEST, "x" * 200, reference=255)
    assert parts[0].concat == Concat(255, 2, 1, 8)
    assert "050003FF0201" in parts[0].pdu


# --- encoder details ---------------------------------------------------------------------------


def test_submit_known_vector() -> None:
    # "hellohello" to +27838890001, no status report, no validity, from a worked PDU example.
    [part] = encode_submit("+27838890001", "hellohello", status_report=False, validity_minutes=None)
    assert part.pdu == "0001000B917238880900F100000AE8329BFD4697D9EC37"
    assert part.tpdu_length == 22


def test_submit_flags_and_national_number() -> None:
    [part] = encode_submit("5145550123", "hi", validity_minutes=7 * 24 * 60)
    raw = bytes.fromhex(part.pdu)
    assert raw[1] == 0x31  # SUBMIT, relative VPF, SRR
    assert raw[3:5] == bytes([10, 0x81])
    sub = decode(part.pdu)
    assert isinstance(sub, Submit)
    assert sub.validity_minutes == 7 * 24 * 60
    assert sub.destination == "5145550123"


@pytest.mark.parametrize(
    ("minutes", "decoded"),
    [(0, 5), (5, 5), (6, 10), (720, 720), (721, 750), (1440, 1440), (1441, 2880),
     (30 * 1440, 30 * 1440), (30 * 1440 + 1, 35 * 1440), (10**9, 63 * 7 * 1440)],
)  # fmt: skip
def test_validity_rounds_up(minutes: int, decoded: int) -> None:
    sub = decode(encode_submit(DEST, "x", validity_minutes=minutes)[0].pdu)
    assert isinstance(sub, Submit)
    assert sub.validity_minutes == decoded


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_submit("TOWN", "x"),
        lambda: encode_submit("+" + "1" * 21, "x"),
        lambda: encode_submit("", "x"),
        lambda: encode_submit(DEST, "x", reference=65536),
        lambda: encode_submit(DEST, "x", reference=-1),
        lambda: encode_submit(DEST, "x", message_reference=256),
        lambda: encode_submit(DEST, "x", validity_minutes=-1),
        lambda: encode_submit(DEST, "a" * 153 * 256),
        lambda: encode_deliver("A VERY LONG NAME", "x", timestamp=WHEN),
        lambda: encode_deliver("Fête", "x", timestamp=WHEN),
        lambda: encode_deliver(DEST, "x", timestamp=datetime(2100, 1, 1, tzinfo=UTC)),
        lambda: encode_deliver(
            DEST, "x", timestamp=WHEN.replace(tzinfo=timezone(timedelta(minutes=20)))
        ),
    ],
)
def test_encoder_rejects_bad_input_with_pdu_error(call: object) -> None:
    with pytest.raises(PduError):
        call()  # type: ignore[operator]


def test_deliver_alphanumeric_sender_and_flags() -> None:
    [pdu] = encode_deliver("TOWN", "Avis", timestamp=WHEN, status_report_indication=True)
    raw = bytes.fromhex(pdu)
    assert raw[8] == 0x24  # DELIVER, no more messages, SRI
    assert raw[9:11] == bytes([7, 0xD0])
    d = decode(pdu)
    assert isinstance(d, Deliver)
    assert (d.sender, d.sender_type, d.text) == ("TOWN", 0xD0, "Avis")


def test_negative_timezone_uses_bit_three() -> None:
    [pdu] = encode_deliver(DEST, "x", timestamp=WHEN, smsc=None)
    assert pdu[:2] == "00"
    scts = bytes.fromhex(pdu)[-9:-2]
    assert scts[-1] == 0x69  # 4 h = 16 quarters: tens 1 with sign 0x08 in the low nibble, units 6
    d = decode(pdu)
    assert isinstance(d, Deliver)
    assert d.timestamp.utcoffset() == timedelta(hours=-4)
    assert d.smsc is None


def test_status_report_encoding_is_a_plain_report() -> None:
    pdu = encode_status_report(
        message_reference=7,
        recipient=DEST,
        service_centre_time=WHEN,
        discharge_time=WHEN + timedelta(seconds=5),
        status=0x00,
        smsc=None,
    )
    assert pdu.startswith("000607")  # no SMSC, report (no more messages), MR 7
    assert tpdu_length(pdu) == len(pdu) // 2 - 1
    assert tpdu_length(pdu[2:], smsc_included=False) == len(pdu) // 2 - 1


# --- decoder details ---------------------------------------------------------------------------


def test_decode_accepts_lowercase_and_whitespace() -> None:
    pdu = encode_deliver(DEST, "Salut", timestamp=WHEN)[0]
    assert decode(f"  {pdu.lower()}\r\n") == decode(pdu)
    tpdu = pdu[2 + 2 * int(pdu[:2], 16) :]
    assert decode(tpdu, smsc_included=False).text == "Salut"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        (0x00, "gsm7", None),
        (0x04, "8bit", None),
        (0x08, "ucs2", None),
        (0x0C, "8bit", None),  # reserved alphabet 11
        (0x10, "gsm7", 0),
        (0x18, "ucs2", 0),
        (0x11, "gsm7", 1),
        (0x48, "ucs2", None),  # automatic deletion group, UCS-2
        (0x40, "gsm7", None),
        (0xC0, "gsm7", None),  # MWI discard
        (0xD0, "gsm7", None),  # MWI store
        (0xE0, "ucs2", None),  # MWI store, UCS-2
        (0xF0, "gsm7", 0),
        (0xF3, "gsm7", 3),
        (0xF4, "8bit", 0),
        (0xF5, "8bit", 1),
        (0xF7, "8bit", 3),
    ],
)
def test_data_coding_schemes(dcs: int, encoding: str, message_class: int | None) -> None:
    payload = {"gsm7": gsm7.pack_septets(gsm7.encode("Hoo")).hex(), "ucs2": "004800E9"}
    udl = {"gsm7": "03", "ucs2": "04", "8bit": "02"}[encoding]
    pdu = f"{HEAD}{dcs:02X}{SCTS}{udl}{payload.get(encoding, 'DEAD')}"
    d = decode(pdu)
    assert isinstance(d, Deliver)
    assert (d.encoding, d.message_class, d.dcs) == (encoding, message_class, dcs)
    assert d.text == {"gsm7": "Hoo", "ucs2": "Hé", "8bit": ""}[encoding]
    if encoding == "8bit":
        assert d.data == bytes.fromhex("DEAD")


def test_compressed_is_refused() -> None:
    with pytest.raises(PduError, match="compressed"):
        decode(f"{HEAD}21{SCTS}03C8F71B")


def test_udhi_on_empty_user_data_is_ignored() -> None:
    d = decode(f"{HEAD_UDH}00{SCTS}00")
    assert isinstance(d, Deliver)
    assert (d.text, d.udh, d.concat) == ("", b"", None)


def test_other_information_elements_are_kept_and_skipped() -> None:
    # UDH: port addressing (IE 05) then concat 8-bit; UCS-2 text "ok".
    pdu = f"{HEAD_UDH}08{SCTS}10" + "0B0504157800000003AA0201" + "006F006B"
    d = decode(pdu)
    assert isinstance(d, Deliver)
    assert d.text == "ok"
    assert d.concat == Concat(0xAA, 2, 1, 8)
    assert d.udh == bytes.fromhex("0B0504157800000003AA0201")


@pytest.mark.parametrize("ie", ["0003AA0200", "0003AA0203", "0003AA0001", "0002AA02"])
def test_invalid_concat_ie_is_ignored(ie: str) -> None:
    udh = f"{len(ie) // 2:02X}{ie}"
    body = udh + "0041"
    d = decode(f"{HEAD_UDH}08{SCTS}{len(body) // 2:02X}{body}")
    assert isinstance(d, Deliver)
    assert d.concat is None
    assert d.text == "A"


@pytest.mark.parametrize(
    ("pdu", "message"),
    [
        ("", "hex"),
        ("0", "hex"),
        ("zz", "hex"),
        ("00", "first octet"),
        ("0003", "reserved"),
        ("0C91" + "00" * 12, "SMSC length"),
        ("0004", "originating address"),
        ("00041581", "exceeds"),
        (f"{HEAD}00{SCTS}", "TP-UDL"),
        (f"{HEAD}00{SCTS}05C8F7", "truncated"),
        (f"{HEAD}08{SCTS}03004800", "odd"),
        (f"{HEAD}08{SCTS}A0" + "00" * 160, "exceeds one SMS"),
        (f"{HEAD}00{SCTS}A2" + "00" * 160, "exceeds one SMS"),
        (f"{HEAD}004213502100000001C8", "not a valid date"),
        (f"{HEAD}0042A0502100000001C8", "not BCD"),
        (f"{HEAD_UDH}08{SCTS}0406000341", "overruns"),
        (f"{HEAD_UDH}08{SCTS}0403000341", "truncated"),
    ],
)
def test_malformed_pdus_raise_pdu_error(pdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        decode(pdu)


def test_gsm7_udh_with_sixteen_bit_reference_keeps_first_character() -> None:
    parts = encode_deliver(DEST, "Hello " * 40, timestamp=WHEN, reference=1000)
    d = _delivers(parts)
    assert d[0].text.startswith("Hello")
    assert d[0].concat == Concat(1000, 2, 1, 16)


def test_trailing_at_filling_the_last_octet_is_kept() -> None:
    for text in ("abcdefg@", "@" * 8, "x" * 159 + "@"):
        [part] = encode_submit(DEST, text)
        assert decode(part.pdu).text == text  # type: ignore[union-attr]
    # 7 septets leave one spare bit: exactly 7 characters, no phantom '@'.
    [part] = encode_submit(DEST, "abcdefg")
    assert decode(part.pdu).text == "abcdefg"  # type: ignore[union-attr]


def test_emoji_survive_both_directions() -> None:
    text = "Alerte 🚨 eau potable 💧 à bouillir"
    [part] = encode_submit(DEST, text)
    assert decode(part.pdu).text == text  # type: ignore[union-attr]
    assert segment_info(text).units == len(text.encode("utf-16-be")) // 2


def test_lone_surrogates_decode_to_replacement() -> None:
    d = decode(f"{HEAD}08{SCTS}04D83D0041")
    assert d.text == "\ufffdA"  # type: ignore[union-attr]


def test_unknown_extension_shows_base_character() -> None:
    assert gsm7.decode([0x1B, 0x41, 0x1B, 0x1B, 0x41, 0x1B]) == "A A "


# --- python-gsmmodem as an oracle ---------------------------------------------------------------

# gsmmodem maps 0x5F to '`' (the standard has '§'), and mangles form feed and a trailing '@'.
ORACLE_GSM7 = "".join(ch for ch in GSM7_CHARS if ch not in "§`\f")
oracle_gsm7_text = st.text(alphabet=ORACLE_GSM7, max_size=400).filter(lambda s: not s.endswith("@"))
oracle_ucs2_text = st.builds(
    lambda a, b: a + b,
    # U+00FF crashes gsmmodem's encoder (TypeError from ord()): a defect of theirs, not ours.
    st.text(
        alphabet=st.characters(
            max_codepoint=0xFFFF, exclude_categories=["Cs"], exclude_characters="\u00ff"
        ),
        max_size=200,
    ),
    st.sampled_from(FRENCH_FORCING),
)


@settings(max_examples=80, deadline=None)
@given(text=st.one_of(oracle_gsm7_text, oracle_ucs2_text), ref=st.integers(0, 255))
def test_gsmmodem_agrees_both_ways(text: str, ref: int) -> None:
    from gsmmodem import pdu as gpdu

    theirs = [str(p) for p in gpdu.encodeSmsSubmitPdu(DEST, text, reference=ref)]
    assert "".join(d.text for d in _submits(theirs)) == text
    ours = encode_submit(DEST, text, reference=ref)
    decoded = [gpdu.decodeSmsPdu(p.pdu) for p in ours]
    assert "".join(d["text"] for d in decoded) == text
    assert all(d["number"] == DEST for d in decoded)
    if len(ours) > 1:
        concat = [d["udh"][0] for d in decoded]
        assert [(c.reference, c.parts, c.number) for c in concat] == [
            (ref, len(ours), i + 1) for i in range(len(ours))
        ]


def test_gsmmodem_defect_emoji() -> None:
    from gsmmodem import pdu as gpdu

    with pytest.raises(ValueError, match="byte must be in range"):  # one unit per code point
        gpdu.encodeSmsSubmitPdu(DEST, "Alerte 🚨")
    [part] = encode_submit(DEST, "Alerte 🚨")
    assert decode(part.pdu).text == "Alerte 🚨"  # type: ignore[union-attr]


@pytest.mark.parametrize("dcs", [0x48, 0xE0])
def test_gsmmodem_defect_ucs2_dcs_groups(dcs: int) -> None:
    from gsmmodem import pdu as gpdu

    pdu = f"{HEAD}{dcs:02X}{SCTS}08004600EA00740065"
    assert gpdu.decodeSmsPdu(pdu)["text"] != "Fête"
    assert decode(pdu).text == "Fête"  # type: ignore[union-attr]


@pytest.mark.parametrize("dcs", [0xF4, 0xF5])
def test_gsmmodem_defect_eight_bit_class_groups(dcs: int) -> None:
    from gsmmodem import pdu as gpdu

    pdu = f"{HEAD}{dcs:02X}{SCTS}030A0B0C"
    assert gpdu.decodeSmsPdu(pdu)["text"] != ""  # it reads 8-bit data as GSM-7 text
    d = decode(pdu)
    assert isinstance(d, Deliver)
    assert (d.encoding, d.text, d.data) == ("8bit", "", b"\x0a\x0b\x0c")


def test_gsmmodem_defect_sixteen_bit_concat_loses_first_character() -> None:
    from gsmmodem import pdu as gpdu

    first = encode_deliver(DEST, "Hello " * 40, timestamp=WHEN, reference=1000)[0]
    assert not gpdu.decodeSmsPdu(first)["text"].startswith("Hello")
    assert decode(first).text.startswith("Hello")  # type: ignore[union-attr]


def test_gsmmodem_defect_reference_above_255() -> None:
    from gsmmodem import pdu as gpdu

    with pytest.raises(ValueError, match="byte must be in range"):
        gpdu.encodeSmsSubmitPdu(DEST, "a" * 200, reference=1000)
    parts = encode_submit(DEST, "a" * 200, reference=1000)
    assert [p.concat for p in parts] == [Concat(1000, 2, 1, 16), Concat(1000, 2, 2, 16)]


def test_gsmmodem_defect_trailing_at() -> None:
    from gsmmodem import pdu as gpdu

    [part] = encode_submit(DEST, "abcdefg@")
    assert gpdu.decodeSmsPdu(part.pdu)["text"] == "abcdefg"
    assert decode(part.pdu).text == "abcdefg@"  # type: ignore[union-attr]


@pytest.mark.parametrize("pdu", ["0791", "00", f"{HEAD}00{SCTS}", "0004"])
def test_gsmmodem_defect_malformed_input(pdu: str) -> None:
    from gsmmodem import pdu as gpdu

    with pytest.raises(Exception) as theirs:  # noqa: PT011 - whatever it raises is the point
        gpdu.decodeSmsPdu(pdu)
    assert not isinstance(theirs.value, PduError)
    with pytest.raises(PduError):
        decode(pdu)
