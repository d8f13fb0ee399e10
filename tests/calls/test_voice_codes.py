"""Codes by voice, end to end: a resident asks for one by call and signs up with what was heard."""

from __future__ import annotations

import re
import wave

import pytest

from gateway.calls.outcomes import CallOutcome
from gateway.calls.scripts import script_for
from gateway.outbox import Channel, MessageClass, MessageState
from gateway.residents.codes import Purpose
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.service import Gateway
from modem.audio import FRAME_BYTES, pcm_duration, silence
from modem.simulator import Simulator
from modem.simulator.call_phone import CallBehaviour

from .conftest import WAIT, wait_state


@pytest.mark.parametrize("call_overrides", [{"calls.listen_s": 8.0}])
async def test_registration_code_by_voice(gateway: Gateway, sim: Simulator) -> None:
    """The phone presses 1 after the whole script (~4 s at this pace), while the call listens."""
    assert gateway.db is not None
    residents = await ResidentService.open(
        gateway.db, gateway.outbox, gateway.bus, ResidentSettings(town_name="Tocsin")
    )
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((7.0, "1"),))
    number = await residents.request_code(
        phone.number, Purpose.REGISTER, Channel.VOICE, client="198.51.100.7", language="fr"
    )
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    assert phone.inbox == []  # a call, not an SMS

    # The outbox row and the call record: delivered, confirmed with 1.
    message = await gateway.outbox.get(1)
    assert message is not None
    assert (message.channel, message.message_class) == (Channel.VOICE, MessageClass.OTP)
    await wait_state(gateway, message.id, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(message.id)
    assert (record.outcome, record.keys) == (CallOutcome.CONFIRMED, "1")

    # What the phone heard is the script spoken with the code, digit by digit, twice...
    script = script_for(MessageClass.OTP, message.body, "fr", "Tocsin")
    spoken = re.findall(r"(?:\d ){5}\d", script.message)
    assert len(spoken) == 2
    assert spoken[0] == spoken[1]
    speech = gateway.calls.speech
    expected = (
        await speech.render(script.message, "fr")
        + silence(0.5)
        + await speech.render(script.prompt, "fr")
    )
    whole = len(expected) // FRAME_BYTES * FRAME_BYTES
    assert heard.audio[:whole] == expected[:whole]
    assert heard.heard_speech()
    thanks_s = pcm_duration(await speech.render(script.thanks, "fr"))
    assert heard.audio_s == pytest.approx(pcm_duration(expected) + thanks_s, abs=0.1)
    assert heard.wav_path is not None
    with wave.open(str(heard.wav_path)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(heard.audio_s, abs=0.05)

    # ...and that code is the one the service accepts.
    resident = await residents.complete_registration(
        number, spoken[0].replace(" ", ""), "correct horse battery", "fr"
    )
    assert resident.phone == phone.number
