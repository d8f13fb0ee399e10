"""Receiving through the real Modem: single, multipart, out of order, stored, lost parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modem.modem import Modem
from modem.pdu import encode_deliver, tpdu_length
from modem.simulator import SimulatedModem, Simulator
from tests.integration.conftest import (
    Recorder,
    eventually,
    open_modem,
    settle,
    stored_count,
)

SINGLE = "Bonjour, est-ce que l'alerte de ce matin est terminée?"
MULTIPART = " ".join(f"Réponse {i}: tout va bien ici, merci pour l'avis." for i in range(8))
UCS2_MULTIPART = "Ça va 👍 " * 25


def sim_storage(sim_modem: SimulatedModem) -> int:
    return sim_modem.storages["SM"].used


@pytest.mark.parametrize(
    "case",
    [
        (SINGLE, 1, False),
        (MULTIPART, 3, False),
        (MULTIPART, 3, True),
        (UCS2_MULTIPART, 4, True),
    ],
    ids=["single", "multipart", "out_of_order", "ucs2_out_of_order"],
)
async def test_receive_delivers_the_whole_text_then_empties_the_sim(
    sim: Simulator, modem: Modem, recorder: Recorder, case: tuple[str, int, bool]
) -> None:
    text, parts, out_of_order = case
    phone = sim.phones[0]
    assert await phone.send_sms(sim.modems[0].number, text, out_of_order=out_of_order)
    [sms] = await recorder.wait_sms(1)
    assert sms.text == text
    assert sms.sender == phone.number
    assert sms.complete
    assert (sms.parts_expected, sms.parts_received) == (parts, parts)
    assert len(sms.pdus) == parts
    assert all(sms.pdus)
    assert sms.modem == modem.name
    assert (sms.concat_reference is None) == (parts == 1)
    assert abs((sms.timestamp - datetime.now(UTC)).total_seconds()) < 60
    await eventually(lambda: sim_storage(sim.modems[0]) == 0)
    assert await stored_count(modem) == 0


async def test_two_senders_interleaved(sim: Simulator, modem: Modem, recorder: Recorder) -> None:
    number = sim.modems[0].number
    await sim.phones[0].send_sms(number, MULTIPART, out_of_order=True)
    await sim.phones[1].send_sms(number, SINGLE)
    received = await recorder.wait_sms(2)
    assert sorted((m.sender, m.text) for m in received) == sorted(
        [(sim.phones[0].number, MULTIPART), (sim.phones[1].number, SINGLE)]
    )
    await eventually(lambda: sim_storage(sim.modems[0]) == 0)


async def test_failing_callback_keeps_the_message_until_the_next_open(
    sim: Simulator, sim_modem: SimulatedModem
) -> None:
    failing = Recorder()
    failing.sms_failures = 1
    async with open_modem(sim_modem, failing) as modem:
        # Arrive after the start-up listing, so that only the +CMTI path reads it (a message
        # both listed and announced is read twice, which retries a failed callback at once).
        await settle(modem, sim_modem)
        await sim.phones[0].send_sms(sim_modem.number, MULTIPART)
        await failing.wait_for(lambda: failing.sms_failures == 0)
        # The receive side keeps working after the owner's failure: the next one gets through.
        await sim.phones[1].send_sms(sim_modem.number, SINGLE)
        [later] = await failing.wait_sms(1)
        assert later.text == SINGLE
        await eventually(lambda: sim_storage(sim_modem) == 3)
        assert await stored_count(modem) == 3  # the failed message is still on the SIM

    again = Recorder()
    async with open_modem(sim_modem, again) as modem:
        [sms] = await again.wait_sms(1)
        assert sms.text == MULTIPART
        assert sms.complete
        await eventually(lambda: sim_storage(sim_modem) == 0)
        assert await stored_count(modem) == 0


async def test_messages_stored_before_open_are_read_at_start(
    sim: Simulator, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    await sim.phones[0].send_sms(sim_modem.number, MULTIPART, out_of_order=True)
    await sim.phones[1].send_sms(sim_modem.number, SINGLE)
    await eventually(lambda: sim_storage(sim_modem) == 4)
    async with open_modem(sim_modem, recorder) as modem:
        received = await recorder.wait_sms(2)
        assert sorted(m.text for m in received) == sorted([MULTIPART, SINGLE])
        assert all(m.complete for m in received)
        await eventually(lambda: sim_storage(sim_modem) == 0)
        assert await stored_count(modem) == 0
    assert any(c == "AT+CMGL=4" for c in sim_modem.command_log)


async def test_lost_part_gives_an_incomplete_message_after_the_timeout(
    sim: Simulator, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    phone = sim.phones[0]
    pdus = encode_deliver(
        phone.number, MULTIPART, timestamp=datetime.now(UTC), reference=77, smsc=sim.network.smsc
    )
    assert len(pdus) == 3
    async with open_modem(sim_modem, recorder, reassembly_timeout_s=0.3) as modem:
        for pdu in (pdus[0], pdus[2]):  # part 2 never arrives
            assert sim_modem.offer(pdu, status_report=False, tpdu_len=tpdu_length(pdu))
        [sms] = await recorder.wait_sms(1, timeout=3.0)
        assert not sms.complete
        assert (sms.parts_expected, sms.parts_received) == (3, 2)
        assert sms.concat_reference == 77
        assert sms.sender == phone.number
        assert MULTIPART.startswith(sms.text[:100])
        assert sms.text.endswith(MULTIPART[-20:])
        assert len(sms.text) < len(MULTIPART)
        await eventually(lambda: sim_storage(sim_modem) == 0)
        assert await stored_count(modem) == 0


async def test_duplicate_announcement_is_harmless(
    sim: Simulator, sim_modem: SimulatedModem, modem: Modem, recorder: Recorder
) -> None:
    await sim.phones[0].send_sms(sim_modem.number, SINGLE)
    await recorder.wait_sms(1)
    await eventually(lambda: sim_storage(sim_modem) == 0)
    sim_modem.inject_urc('+CMTI: "SM",1')  # the same slot announced again, now empty
    await sim.phones[1].send_sms(sim_modem.number, "deuxième")
    received = await recorder.wait_sms(2)
    assert [m.text for m in received] == [SINGLE, "deuxième"]
    await modem.ping()
    assert len(recorder.sms) == 2
