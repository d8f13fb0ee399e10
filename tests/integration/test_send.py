"""Sending through the real Modem: encodings, concatenation, references and delivery reports."""

from __future__ import annotations

import pytest

from modem.modem import Modem
from modem.simulator import Simulator
from modem.types import SentSms
from tests.integration.conftest import Recorder, eventually, stored_count

UNKNOWN_NUMBER = "+15145550999"
TP_ST_UNKNOWN_DESTINATION = 0x41

TEXTS = {
    "short": ("Alerte: coupure d'eau rue Principale demain 9h-12h.", "gsm7", 1),
    "long": (
        " ".join(f"Consigne {i}: restez chez vous et suivez les avis." for i in range(8)),
        "gsm7",
        3,
    ),
    "french": ("Rappel : la réunion commence à 19 h, ça ira. Être à l'heure!", "ucs2", 1),
    "french_long": ("ça déborde, fête. " * 12, "ucs2", 4),
    "emoji": ("Alerte 🚨 feu 🔥 évacuez", "ucs2", 1),
    "emoji_on_part_boundary": ("a" * 66 + "😀" + "b" * 10, "ucs2", 2),
    "extension": ("Prix: 5€ [urgent] {x} ~ ^ \\ |", "gsm7", 1),
    "extension_on_part_boundary": ("x" * 152 + "€" + "y" * 10, "gsm7", 2),
}


@pytest.mark.parametrize("kind", sorted(TEXTS))
async def test_send_reaches_the_phone_and_reports_each_part(
    kind: str, sim: Simulator, modem: Modem, recorder: Recorder
) -> None:
    text, encoding, parts = TEXTS[kind]
    phone = sim.phones[0]
    sent = await modem.send_sms(phone.number, text)

    assert sent.destination == phone.number
    assert sent.encoding == encoding
    assert [p.sequence for p in sent.parts] == list(range(1, parts + 1))
    references = [p.message_reference for p in sent.parts]
    assert len(set(references)) == parts
    submits = [e for e in sim.network.log if e["event"] == "submit"]
    assert [e["mr"] for e in submits] == references  # what the network saw, part by part
    assert {e["reference"] for e in submits} == (
        {None} if parts == 1 else {submits[0]["reference"]}
    )

    inbox = await phone.wait_for_inbox(1, timeout=5.0)
    assert [(m.sender, m.text, m.parts) for m in inbox] == [(sim.modems[0].number, text, parts)]

    reports = await recorder.wait_reports(parts)
    assert sorted(r.message_reference for r in reports) == sorted(references)
    assert all(r.delivered and not r.failed for r in reports)
    assert all(r.recipient == phone.number for r in reports)
    assert all(r.modem == modem.name for r in reports)
    # Stored reports (+CDSI) are deleted once handled; inline ones (+CDS) never touch the SIM.
    await eventually(lambda: sim.modems[0].storages["SM"].used == 0)
    assert await stored_count(modem) == 0


async def test_references_differ_across_messages(sim: Simulator, modem: Modem) -> None:
    phone = sim.phones[0]
    first = await modem.send_sms(phone.number, "un")
    second = await modem.send_sms(phone.number, TEXTS["long"][0])
    third = await modem.send_sms(sim.phones[1].number, "trois")
    references = [p.message_reference for m in (first, second, third) for p in m.parts]
    assert len(references) == 5
    assert len(set(references)) == 5


async def test_consecutive_long_messages_use_different_concat_references(
    sim: Simulator, modem: Modem
) -> None:
    phone = sim.phones[0]
    texts = [TEXTS["long"][0], TEXTS["long"][0].upper()]
    for text in texts:
        await modem.send_sms(phone.number, text)
    concat_refs = [e["reference"] for e in sim.network.log if e["event"] == "submit"]
    assert len(set(concat_refs[:3])) == 1
    assert len(set(concat_refs[3:])) == 1
    assert concat_refs[0] != concat_refs[3]  # else the phone would mix the two messages
    inbox = await phone.wait_for_inbox(2, timeout=5.0)
    assert sorted(m.text for m in inbox) == sorted(texts)


async def test_on_part_sent_hears_every_part(sim: Simulator, modem: Modem) -> None:
    heard: list[int] = []
    sent: SentSms = await modem.send_sms(
        sim.phones[0].number, TEXTS["long"][0], on_part_sent=lambda p: heard.append(p.sequence)
    )
    assert heard == [1, 2, 3]
    assert len(sent.parts) == 3


async def test_send_without_status_report_gets_no_report(
    sim: Simulator, modem: Modem, recorder: Recorder
) -> None:
    phone = sim.phones[0]
    await modem.send_sms(phone.number, "sans accusé", status_report=False)
    await modem.send_sms(phone.number, "avec accusé")
    await phone.wait_for_inbox(2, timeout=5.0)
    reports = await recorder.wait_reports(1)
    await modem.ping()  # let anything else in flight arrive before counting
    assert len(reports) == 1
    assert [e["status_report"] for e in sim.network.log if e["event"] == "submit"] == [False, True]


@pytest.mark.parametrize("kind", ["short", "long"])
async def test_send_to_unknown_number_reports_failure(
    kind: str, sim: Simulator, modem: Modem, recorder: Recorder
) -> None:
    text, _encoding, parts = TEXTS[kind]
    sent = await modem.send_sms(UNKNOWN_NUMBER, text)
    assert len(sent.parts) == parts  # the SMSC accepted it: only the report tells
    reports = await recorder.wait_reports(parts)
    assert sorted(r.message_reference for r in reports) == sorted(
        p.message_reference for p in sent.parts
    )
    assert all(r.status == TP_ST_UNKNOWN_DESTINATION for r in reports)
    assert all(r.failed and not r.delivered and not r.pending for r in reports)
    assert all(r.recipient == UNKNOWN_NUMBER for r in reports)
    assert all(not p.inbox for p in sim.phones)
