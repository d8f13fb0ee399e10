"""Each injected fault of the simulator, met by the real Modem."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

import modem.modem as modem_module
from modem.exceptions import (
    AtCommandError,
    AtTimeoutError,
    CmsError,
    ModemDisconnectedError,
    PromptTimeoutError,
)
from modem.modem import Modem
from modem.pdu import encode_deliver, tpdu_length
from modem.simulator import SimulatedModem, Simulator
from modem.simulator.storage import REC_UNREAD, StoredMessage
from modem.types import ModemState, SentPart
from tests.integration.conftest import Recorder, eventually, open_modem, stored_count

LONG = " ".join(f"Consigne {i}: restez chez vous et suivez les avis." for i in range(8))
BALANCE_EMPTY = "Solde: 0.00$. Valide jusqu'au 2026-12-31."


def state_of(modem: Modem) -> ModemState:
    """Read afresh (mypy would keep the state narrowed from an earlier assert)."""
    return modem.state


def rebooted(modem: Modem) -> bool:
    return modem.rebooted


async def send_and_check(sim: Simulator, modem: Modem, text: str, count: int = 1) -> None:
    """A send that must go through, and the phone's inbox holding it."""
    phone = sim.phones[0]
    sent = await modem.send_sms(phone.number, text)
    assert len(sent.parts) >= 1
    inbox = await phone.wait_for_inbox(count, timeout=5.0)
    assert inbox[count - 1].text == text


async def receive_and_check(sim: Simulator, recorder: Recorder, text: str, count: int = 1) -> None:
    """A message from the second phone must reach on_sms whole."""
    assert await sim.phones[1].send_sms(sim.modems[0].number, text)
    received = await recorder.wait_sms(count)
    assert received[count - 1].text == text
    assert received[count - 1].complete


# ---- a stuck module


async def test_hang_times_out_then_resume_works(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.hang()
    with pytest.raises(AtTimeoutError) as caught:
        await modem.ping(timeout=0.2)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.command == "AT"
    with pytest.raises(TimeoutError):  # callers may catch the builtin
        await modem.ping(timeout=0.1)
    sim_modem.resume()
    await modem.ping(timeout=1.0)
    assert (await modem.signal()).rssi == 20
    assert modem.state is ModemState.READY


async def test_hang_during_a_send_then_resume(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    sim_modem.hang()
    with pytest.raises(PromptTimeoutError):  # no prompt: the body was never written
        await modem._channel.command(  # what send_sms runs, with a test-sized timeout
            "AT+CMGS=20", data="00" * 21, timeout=0.2, prompt_timeout=0.2
        )
    sim_modem.resume()
    await modem.sync()  # what the owner's watchdog does before trusting the module again
    await send_and_check(sim, modem, "après le blocage")


# ---- a noisy line


# Seeds whose garbage once made a printable line ("~", "é") before an answer: it became the
# IMEI (40), failed AT+CPIN? and the whole init (44, 47), or was read as the PDU (5, 16).
@pytest.mark.parametrize(
    ("seed", "probability"), [(0, 0.3), (5, 1.0), (16, 1.0), (40, 1.0), (44, 1.0), (47, 1.0)]
)
async def test_garbage_between_lines(
    family: str, tmp_path: Path, seed: int, probability: float
) -> None:
    recorder = Recorder()
    async with Simulator(
        modems=1, phones=2, family=family, scale=0, seed=seed, directory=tmp_path
    ) as sim:
        await sim.wait_ready()
        sim_modem = sim.modems[0]
        sim_modem.set_garbage("interleave", probability)
        async with open_modem(sim_modem, recorder) as modem:
            assert modem.identity is not None
            assert modem.identity.manufacturer == sim_modem.profile.manufacturer
            assert modem.identity.imei == sim_modem.imei
            assert modem.identity.imsi == sim_modem.imsi
            assert modem.identity.iccid == sim_modem.iccid
            for _ in range(5):
                assert (await modem.signal()).rssi == 20
                assert (await modem.query_registration()).status == 1
            assert await modem.operator() == "Rogers Wireless"
            await send_and_check(sim, modem, "malgré le bruit")
            await send_and_check(sim, modem, LONG, count=2)
            await receive_and_check(sim, recorder, LONG)
            await eventually(lambda: sim_modem.storages["SM"].used == 0)


async def test_noise_bursts_between_commands(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    for size in (1, 7, 64, 300, 5000):
        sim_modem.noise_burst(size)
        assert (await modem.signal()).rssi == 20
    sim_modem.noise_burst(64)
    await send_and_check(sim, modem, "après le bruit")


# ---- the network refuses


@pytest.mark.parametrize("code", [38, 21])
async def test_failed_send_then_the_next_one_succeeds(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, code: int
) -> None:
    sim_modem.fail_next_sends(1, code)
    with pytest.raises(CmsError) as caught:
        await modem.send_sms(sim.phones[0].number, "refusé")
    assert caught.value.code == code
    await send_and_check(sim, modem, "accepté")
    assert [m.text for m in sim.phones[0].inbox] == ["accepté"]


async def test_failed_part_leaves_the_sent_parts_known(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    await send_and_check(sim, modem, "échauffement")
    heard: list[int] = []

    def part_sent(part: SentPart) -> None:
        heard.append(part.sequence)
        sim_modem.fail_next_sends(1, 38)  # part 1 went through; part 2 will be refused

    with pytest.raises(CmsError) as caught:
        await modem.send_sms(sim.phones[0].number, LONG, on_part_sent=part_sent)
    assert caught.value.code == 38
    assert heard == [1]


@pytest.mark.parametrize("code", [8, 69])
async def test_no_credit(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, code: int
) -> None:
    sim_modem.set_no_credit(True, code=code)
    with pytest.raises(CmsError) as caught:
        await modem.send_sms(sim.phones[0].number, "sans crédit")
    assert caught.value.code == code
    assert await modem.ussd("*100#", timeout=2.0) == BALANCE_EMPTY
    sim_modem.set_no_credit(False)
    await send_and_check(sim, modem, "rechargé")


async def test_deregistered_then_registered_again(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    sim_modem.deregister(stat=3)
    await recorder.wait_for(lambda: any(r.status == 3 for r in recorder.registrations))
    denied = modem.registration
    assert denied.status == 3
    assert not denied.registered
    assert (await modem.query_registration()).name == "denied"
    with pytest.raises(CmsError) as caught:
        await modem.send_sms(sim.phones[0].number, "hors réseau")
    assert caught.value.code == 331
    # A message sent to the modem meanwhile waits in the network...
    assert await sim.phones[1].send_sms(sim_modem.number, "pendant la panne")

    sim_modem.register()
    await recorder.wait_for(lambda: recorder.registrations[-1].status == 1)
    home = modem.registration
    assert home.registered
    assert home.name == "home"
    assert home.lac == "1A2B"
    # ... and arrives once the modem is back.
    [sms] = await recorder.wait_sms(1)
    assert sms.text == "pendant la panne"
    await send_and_check(sim, modem, "de retour")


# ---- URCs at awkward moments


def _store_unannounced(sim: Simulator, sim_modem: SimulatedModem, text: str) -> int:
    """Put an SMS on the SIM without its +CMTI, so the test decides when it is announced."""
    [pdu] = encode_deliver(
        sim.phones[1].number, text, timestamp=datetime.now(UTC), smsc=sim.network.smsc
    )
    index = sim_modem.storages["SM"].add(StoredMessage(pdu, REC_UNREAD, tpdu_length(pdu)))
    assert index is not None
    return index


def _inline_deliver(sim: Simulator, text: str) -> str:
    """A +CMT two-line URC (header and PDU), as one injected block."""
    [pdu] = encode_deliver(
        sim.phones[1].number, text, timestamp=datetime.now(UTC), smsc=sim.network.smsc
    )
    return f"+CMT: ,{tpdu_length(pdu)}\r\n{pdu}"


@pytest.mark.parametrize("kind", ["stored", "inline"])
async def test_urc_in_the_middle_of_a_response(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder, kind: str
) -> None:
    if kind == "stored":
        index = _store_unannounced(sim, sim_modem, "annoncé au milieu")
        sim_modem.inject_urc(f'+CMTI: "SM",{index}', when="mid_response")
    else:
        sim_modem.inject_urc(_inline_deliver(sim, "annoncé au milieu"), when="mid_response")
    signal = await modem.signal()
    assert signal.rssi == 20
    [sms] = await recorder.wait_sms(1)
    assert sms.text == "annoncé au milieu"
    assert sms.sender == sim.phones[1].number
    await eventually(lambda: sim_modem.storages["SM"].used == 0)


@pytest.mark.parametrize("kind", ["stored", "inline"])
async def test_urc_at_the_send_prompt(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder, kind: str
) -> None:
    if kind == "stored":
        index = _store_unannounced(sim, sim_modem, "annoncé au prompt")
        sim_modem.inject_urc(f'+CMTI: "SM",{index}', when="at_prompt")
    else:
        sim_modem.inject_urc(_inline_deliver(sim, "annoncé au prompt"), when="at_prompt")
    await send_and_check(sim, modem, "envoi pendant une annonce")
    [sms] = await recorder.wait_sms(1)
    assert sms.text == "annoncé au prompt"
    await eventually(lambda: sim_modem.storages["SM"].used == 0)


async def test_urc_in_the_middle_of_a_send_answer(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    index = _store_unannounced(sim, sim_modem, "annoncé avec +CMGS")
    sim_modem.inject_urc(f'+CMTI: "SM",{index}', when="mid_response")
    await send_and_check(sim, modem, "envoi")
    [sms] = await recorder.wait_sms(1)
    assert sms.text == "annoncé avec +CMGS"


# ---- a slow line


async def test_trickle(sim: Simulator, sim_modem: SimulatedModem, recorder: Recorder) -> None:
    sim_modem.set_trickle(0.0005)
    async with open_modem(sim_modem, recorder) as modem:
        assert modem.identity is not None
        assert modem.identity.iccid == sim_modem.iccid
        await send_and_check(sim, modem, "goutte à goutte")
        await receive_and_check(sim, recorder, "reçu goutte à goutte")


# ---- the USB plug


async def test_unplug_mid_command(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    sim_modem.latency.scale = 1.0
    sim_modem.latency.cmgs_mean_s = 20.0  # the network takes its time: the send stays pending
    send = asyncio.create_task(modem.send_sms(sim.phones[0].number, "jamais envoyé"))
    await eventually(lambda: any(c.startswith("AT+CMGS=") for c in sim_modem.command_log))
    queued = asyncio.create_task(modem.signal())  # waits behind the send
    await asyncio.sleep(0)
    await sim_modem.unplug()

    with pytest.raises(ModemDisconnectedError):
        await asyncio.wait_for(send, 2.0)
    with pytest.raises(ModemDisconnectedError):
        await asyncio.wait_for(queued, 2.0)
    await recorder.wait_for(lambda: recorder.disconnects >= 1, timeout=2.0)
    assert modem.state is ModemState.DISCONNECTED
    with pytest.raises(ModemDisconnectedError):
        await modem.ping(timeout=1.0)
    await modem.close()
    assert recorder.disconnects == 1
    assert state_of(modem) is ModemState.CLOSED


async def test_unplug_while_idle_then_replug(
    sim: Simulator, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    async with open_modem(sim_modem, recorder) as first:
        await sim_modem.unplug()
        await recorder.wait_for(lambda: recorder.disconnects == 1, timeout=2.0)
        assert first.state is ModemState.DISCONNECTED
    assert recorder.disconnects == 1

    await sim_modem.replug()
    await sim_modem.wait_booted()
    again = Recorder()
    async with open_modem(sim_modem, again) as second:
        assert second.state is ModemState.READY
        assert second.identity is not None
        assert second.identity.imei == sim_modem.imei
        await send_and_check(sim, second, "après rebranchement")
        await receive_and_check(sim, again, "reçu après rebranchement")
    assert again.disconnects == 0


# ---- reboots


async def test_reset_reboots_and_comes_back_ready(
    sim: Simulator,
    modem: Modem,
    sim_modem: SimulatedModem,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(modem_module, "SYNC_TIMEOUT", 0.1)
    sim_modem.latency.scale = 0.02  # boot ~80 ms: the module is silent for a while
    await modem.reset()
    assert modem.state is ModemState.READY
    assert not modem.rebooted
    assert "AT+CFUN=1,1" in sim_modem.command_log
    assert sim_modem.command_log.count("ATE0") == 2
    assert sim_modem.session.echo is False
    assert sim_modem.session.cmgf == 0
    await send_and_check(sim, modem, "après le redémarrage")
    await receive_and_check(sim, recorder, "reçu après le redémarrage")


async def test_unrequested_reboot_is_noticed_and_repaired(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    assert not rebooted(modem)
    await sim_modem.reboot()
    await sim_modem.wait_booted()
    await eventually(lambda: modem.rebooted)
    forgotten = sim_modem.session
    assert forgotten.echo is True  # the module forgot its settings
    await modem.initialise()
    assert not rebooted(modem)
    assert modem.state is ModemState.READY
    restored = sim_modem.session
    assert restored.echo is False
    assert restored.cmgf == 0
    await send_and_check(sim, modem, "après la panne de courant")
    await receive_and_check(sim, recorder, "reçu après la panne")
    await eventually(lambda: sim_modem.storages["SM"].used == 0)
    assert await stored_count(modem) == 0


async def test_reboot_mid_command_fails_the_command_at_once(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    sim_modem.hang()  # the command is swallowed, as by a module going down
    command = asyncio.create_task(modem.at("AT+CSQ", timeout=30.0))
    await asyncio.sleep(0)  # let it be written
    sim_modem.resume()
    await sim_modem.reboot()
    with pytest.raises(AtCommandError, match="restarted"):
        await asyncio.wait_for(command, 2.0)  # not after its 30 s timeout
    await eventually(lambda: modem.rebooted)
    await modem.initialise()
    assert modem.state is ModemState.READY
    await send_and_check(sim, modem, "après la coupure")


async def test_cancelled_command_does_not_answer_the_next_one(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    sim_modem.latency.scale = 1.0
    sim_modem.latency.cmgs_mean_s = 1.0  # +CMGS answers a while after the PDU
    mr = sim_modem.next_mr
    send = asyncio.create_task(modem.send_sms(sim.phones[0].number, "annulé en route"))
    await eventually(lambda: sim_modem.next_mr != mr)  # the module has the PDU, +CMGS is due
    assert send.cancel()
    with pytest.raises(asyncio.CancelledError):
        await send
    signal = await modem.signal()  # must get its own +CSQ, not the late "+CMGS: 0 / OK"
    assert signal.rssi == 20
    assert await modem.operator() == "Rogers Wireless"
    # The PDU was out before the cancel: the network has it all the same.
    inbox = await sim.phones[0].wait_for_inbox(1, timeout=5.0)
    assert inbox[0].text == "annulé en route"


async def test_cancelled_at_the_prompt_leaves_text_entry(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    sim_modem.set_trickle(0.05)  # the "\r\n> " prompt takes ~200 ms to come out
    send = asyncio.create_task(modem.send_sms(sim.phones[0].number, "jamais écrit"))
    await eventually(lambda: any(c.startswith("AT+CMGS=") for c in sim_modem.command_log))
    assert send.cancel()
    sim_modem.set_trickle(None)  # for what follows the prompt
    with pytest.raises(asyncio.CancelledError):
        await send
    assert (await modem.signal()).rssi == 20  # had the module stayed in text entry: a timeout
    assert not [e for e in sim.network.log if e["event"] == "submit"]
    await send_and_check(sim, modem, "écrit ensuite")
    assert [m.text for m in sim.phones[0].inbox] == ["écrit ensuite"]


async def test_late_answer_after_a_boot_urc_is_not_the_next_commands(
    sim: Simulator, modem: Modem, sim_modem: SimulatedModem
) -> None:
    """A command written just as the module came up is answered after its RDY."""
    sim_modem.latency.scale = 1.0
    sim_modem.latency.cmgs_mean_s = 0.1  # +CMGS answers after the RDY below, within the grace
    mr = sim_modem.next_mr
    send = asyncio.create_task(modem.send_sms(sim.phones[0].number, "au réveil"))
    await eventually(lambda: sim_modem.next_mr != mr)
    sim_modem.inject_urc("RDY")
    with pytest.raises(AtCommandError, match="restarted"):
        await asyncio.wait_for(send, 2.0)
    assert (await modem.signal()).rssi == 20  # not the late "+CMGS: n" / OK
    assert await modem.operator() == "Rogers Wireless"
