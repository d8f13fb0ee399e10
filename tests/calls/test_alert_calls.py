"""Alert calls through the whole gateway: confirmation, repeats, busy, no answer, hang-up."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.calls.outcomes import CallOutcome
from gateway.calls.scripts import script_for
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.service import Gateway
from modem.audio import FRAME_BYTES, FRAME_S, pcm_duration, split_frames
from modem.simulator import Simulator
from modem.simulator.call_phone import Answer, CallBehaviour

from .conftest import FAST_FRAME_S, WAIT, wait_state

ALERT = "Avis d'ébullition, rue des Érables."


def voice_alert(to: str, body: str = ALERT, language: str = "fr", **kwargs: Any) -> NewMessage:
    return NewMessage(MessageClass.ALERT, Channel.VOICE, to, body, language, **kwargs)


@pytest.mark.parametrize("call_overrides", [{"calls.listen_s": 6.0}])
async def test_confirmed_alert_is_delivered(gateway: Gateway, sim: Simulator) -> None:
    """1 pressed after the message (it plays ~3 s at this pace), while the call listens."""
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((5.0, "1"),))
    events = gateway.bus.subscribe({"call"})
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number))
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(message_id)
    assert record.outcome is CallOutcome.CONFIRMED
    assert (record.answered, record.keys, record.plays) == (True, "1", 1)
    assert record.duration_s > 0
    event = await events.next(WAIT)
    assert event.data["confirmed"] is True
    assert event.data["message_id"] == message_id
    events.close()
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    assert heard.heard_speech()
    assert heard.outcome == "hung_up_by_caller"
    # The phone heard the script's message first, byte for byte, then the prompt and thanks.
    script = script_for(MessageClass.ALERT, ALERT, "fr", "Tocsin")
    message_pcm = await gateway.calls.speech.render(script.message, "fr")
    whole = len(message_pcm) // FRAME_BYTES * FRAME_BYTES
    assert heard.audio[:whole] == message_pcm[:whole]
    assert heard.audio_s > pcm_duration(message_pcm)
    assert heard.wav_path is not None
    assert heard.wav_path.exists()


@pytest.mark.parametrize("call_overrides", [{"calls.repeats": 2}])
async def test_no_key_repeats_then_no_confirmation(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[1]
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number, "Test.", "en"))
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(message_id)
    assert record.outcome is CallOutcome.NO_CONFIRMATION
    assert (record.plays, record.keys) == (2, "")
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    script = script_for(MessageClass.ALERT, "Test.", "en", "Tocsin")
    one_play = await gateway.calls.speech.render(script.message, "en")
    assert heard.audio_s > 2 * pcm_duration(one_play)


@pytest.mark.parametrize("call_overrides", [{"calls.busy_retries": 1}])
async def test_busy_then_retry_answers(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(Answer.BUSY)
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number, "Test.", "en"))
    await phone.voice.wait_ended(1, WAIT)
    phone.voice.behaviour = CallBehaviour(keys=((0.1, "1"),))
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    records = await gateway.calls.store.for_message(message_id)
    assert [r.outcome for r in records] == [CallOutcome.BUSY, CallOutcome.CONFIRMED]
    assert [c.outcome for c in phone.voice.calls] == ["busy", "hung_up_by_caller"]


@pytest.mark.parametrize("call_overrides", [{"calls.busy_retries": 1}])
async def test_busy_retries_run_out(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(Answer.BUSY)
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number, "Test.", "en"))
    await wait_state(gateway, message_id, MessageState.FAILED)
    message = await gateway.outbox.get(message_id)
    assert message is not None
    assert message.last_error == "busy after 2 call(s)"
    assert len(phone.voice.calls) == 2


async def test_no_answer_is_called_once_more(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[2]
    phone.voice.behaviour = CallBehaviour(Answer.NO_ANSWER)
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number))
    await wait_state(gateway, message_id, MessageState.FAILED)
    records = await gateway.calls.store.for_message(message_id)
    assert [r.outcome for r in records] == [CallOutcome.NO_ANSWER] * 2
    assert not any(r.answered for r in records)
    assert [c.outcome for c in phone.voice.calls] == ["no_answer"] * 2


@pytest.mark.parametrize("call_overrides", [{"calls.no_answer_retries": 0}])
async def test_hang_up_mid_message(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(hangup_after_s=0.2)
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number))
    await wait_state(gateway, message_id, MessageState.FAILED)
    (record,) = await gateway.calls.store.for_message(message_id)
    assert record.outcome is CallOutcome.HUNG_UP
    assert record.answered
    assert record.plays == 0
    assert record.end_reason == "remote_hangup"
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    assert heard.outcome == "hung_up_by_phone"


@pytest.mark.parametrize("call_overrides", [{"calls.no_answer_retry_s": 60.0}])
async def test_nothing_after_valid_until(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(Answer.NO_ANSWER)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number, valid_until=soon))
    await wait_state(gateway, message_id, MessageState.EXPIRED)
    assert len(phone.voice.calls) == 1


async def test_key_1_mid_message_confirms_at_once(gateway: Gateway, sim: Simulator) -> None:
    """1 while the message plays: playback stops, the confirmation is stored, thanks, hang-up."""
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((0.2, "1"),))
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number))
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(message_id)
    assert record.outcome is CallOutcome.CONFIRMED
    assert (record.keys, record.plays) == ("1", 0)
    script = script_for(MessageClass.ALERT, ALERT, "fr", "Tocsin")
    message_pcm = await gateway.calls.speech.render(script.message, "fr")
    thanks_pcm = await gateway.calls.speech.render(script.thanks, "fr")
    # Audio is paced 4x faster than real time here: the script's end, in real seconds.
    script_end_s = pcm_duration(message_pcm) * FAST_FRAME_S / FRAME_S
    assert record.confirmed_at_s is not None
    assert record.confirmed_at_s < script_end_s
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    assert heard.outcome == "hung_up_by_caller"
    assert heard.audio_s < pcm_duration(message_pcm)
    # What was heard: the start of the message, cut short, then the whole thank-you.
    thanks_frames = len(thanks_pcm) // FRAME_BYTES * FRAME_BYTES
    assert (
        heard.audio[-len(split_frames(thanks_pcm)) * FRAME_BYTES :][:thanks_frames]
        == (thanks_pcm[:thanks_frames])
    )
    assert heard.wav_path is not None
    with wave.open(str(heard.wav_path)) as wav:
        assert wav.getnframes() / wav.getframerate() < pcm_duration(message_pcm)


@pytest.mark.parametrize("call_overrides", [{"calls.repeats": 1}])
async def test_key_2_mid_message_restarts_it(gateway: Gateway, sim: Simulator) -> None:
    """2 while the message plays: it starts again at once, without using up a repeat."""
    phone = sim.phones[1]
    phone.voice.behaviour = CallBehaviour(keys=((0.2, "2"),))
    message_id = await gateway.outbox.enqueue(voice_alert(phone.number))
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(message_id)
    assert record.outcome is CallOutcome.NO_CONFIRMATION
    assert (record.keys, record.plays) == ("2", 1)
    assert record.confirmed_at_s is None
    (heard,) = await phone.voice.wait_ended(1, WAIT)
    script = script_for(MessageClass.ALERT, ALERT, "fr", "Tocsin")
    one_play = await gateway.calls.speech.render(script.message, "fr")
    assert pcm_duration(one_play) < heard.audio_s < 2 * pcm_duration(one_play) + 2
    # The second play is the message from its start, right after the cut.
    start = heard.audio.rfind(one_play[: 50 * FRAME_BYTES])
    assert start > 0
    assert heard.audio[start : start + len(one_play) // 2] == one_play[: len(one_play) // 2]
