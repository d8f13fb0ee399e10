"""Calls through the real Voice layer against each simulated family: state, ends, keys, audio."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from bench.common import percentile
from gateway.speech import Speech
from modem.audio import FRAME_S, pcm_duration
from modem.simulator import SimulatedModem, Simulator
from modem.simulator.call_phone import Answer, CallBehaviour, CallRates, PhoneCall
from modem.simulator.voice import TTS_CHARS_PER_S
from modem.voice import (
    AudioMode,
    Call,
    CallState,
    DtmfKey,
    EndReason,
    StateChanged,
    Voice,
    VoiceUnsupportedError,
    parse_dtmf,
)

from .conftest import WAIT

CODE_FR = "Votre code est 4 8 1 5"
CODE_EN = "Code 4 8"


async def say(voice: Voice, call: Call, speech: Speech, text: str, language: str) -> float:
    """Play `text` the family's way; return the seconds of audio the phone should hear."""
    if voice.audio_mode is AudioMode.PCM:
        pcm = await speech.render(text, language)
        await call.play(pcm)
        return pcm_duration(pcm)
    await call.speak(text, language)
    return len(text) / TTS_CHARS_PER_S


async def test_answer_then_hang_up(sim: Simulator, voice: Voice) -> None:
    phone = sim.phones[0]
    call = await voice.dial(phone.number)
    assert await call.wait_answered(WAIT)
    assert call.state is CallState.ACTIVE
    await call.hangup()
    assert call.end_reason is EndReason.HUNG_UP
    states = [e.state for e in call.events if isinstance(e, StateChanged)]
    assert states[-2:] == [CallState.ACTIVE, CallState.ENDED]
    (received,) = await phone.voice.wait_ended(1, WAIT)
    assert received.outcome == "hung_up_by_caller"
    assert received.caller == sim.modems[0].number
    assert call.duration_s >= 0


async def test_busy(sim: Simulator, voice: Voice) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(Answer.BUSY)
    call = await voice.dial(sim.phones[0].number)
    assert not await call.wait_answered(WAIT)
    assert call.end_reason is EndReason.BUSY
    assert call.duration_s == 0.0


async def test_no_answer(sim: Simulator, voice: Voice) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(Answer.NO_ANSWER)
    call = await voice.dial(sim.phones[0].number)
    assert not await call.wait_answered(WAIT)
    assert call.end_reason is EndReason.NO_ANSWER
    assert CallState.ALERTING in [e.state for e in call.events if isinstance(e, StateChanged)]


async def test_we_give_up_ringing(sim: Simulator, voice: Voice) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(ring_s=60)
    call = await voice.dial(sim.phones[0].number)
    assert not await call.wait_answered(0.3)
    assert call.end_reason is EndReason.NO_ANSWER
    (received,) = await sim.phones[0].voice.wait_ended(1, WAIT)
    assert received.outcome == "cancelled"


async def test_unknown_number_fails(voice: Voice) -> None:
    call = await voice.dial("+15149999999")
    assert not await call.wait_answered(WAIT)
    assert call.end_reason is EndReason.FAILED


async def test_dtmf_key_1_is_an_event(sim: Simulator, voice: Voice) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(keys=((0.1, "1"),))
    call = await voice.dial(sim.phones[0].number)
    assert await call.wait_answered(WAIT)
    assert await call.next_key(WAIT) == "1"
    (key,) = [e for e in call.events if isinstance(e, DtmfKey)]
    assert key.key == "1"
    assert 0.05 < key.at_s < 1.0
    await call.hangup()


async def test_speech_reaches_the_phone(
    sim: Simulator, voice: Voice, speech: Speech, tmp_path: Path
) -> None:
    phone = sim.phones[0]
    phone.voice.record_dir = tmp_path
    call = await voice.dial(phone.number)
    assert await call.wait_answered(WAIT)
    expected_s = await say(voice, call, speech, CODE_EN, "en")
    await call.hangup()
    (received,) = await phone.voice.wait_ended(1, WAIT)
    assert received.heard_speech()
    assert received.audio_s == pytest.approx(expected_s, abs=0.1)
    assert received.wav_path is not None
    with wave.open(str(received.wav_path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() / 8000 == pytest.approx(expected_s, abs=0.1)
    # Loose on purpose: a busy CI machine delays threads; bench.voice_pacing measures it.
    assert _p99_jitter_ms(received) < 250  # unpaced frames would be off by seconds


async def test_remote_hang_up_mid_message(sim: Simulator, voice: Voice, speech: Speech) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(hangup_after_s=0.4)
    call = await voice.dial(phone.number)
    assert await call.wait_answered(WAIT)
    if voice.audio_mode is AudioMode.PCM:
        pcm = await speech.render(CODE_FR * 3, "fr")
        stats = await call.play(pcm)
        assert stats.stopped_early
        assert stats.seconds < pcm_duration(pcm) / 2
    else:
        await call.speak(CODE_EN * 3, "en")
    assert await call.wait_ended(WAIT) is EndReason.REMOTE_HANGUP
    assert call.duration_s == pytest.approx(0.4, abs=0.4)
    (received,) = await phone.voice.wait_ended(1, WAIT)
    assert received.outcome == "hung_up_by_phone"


async def test_network_drop_is_a_remote_hang_up(
    sim_modem: SimulatedModem, sim: Simulator, voice: Voice
) -> None:
    sim_modem.voice.drop_calls_after(0.1)
    call = await voice.dial(sim.phones[0].number)
    assert await call.wait_answered(WAIT)
    assert await call.wait_ended(WAIT) is EndReason.REMOTE_HANGUP


async def test_dial_failure_fault(sim_modem: SimulatedModem, sim: Simulator, voice: Voice) -> None:
    sim_modem.voice.fail_next_dials(1)
    first = await voice.dial(sim.phones[0].number)
    assert not await first.wait_answered(WAIT)
    assert first.end_reason is EndReason.FAILED
    second = await voice.dial(sim.phones[0].number)
    assert await second.wait_answered(WAIT)
    await second.hangup()


async def test_random_rates_are_seeded(sim: Simulator, voice: Voice) -> None:
    sim.network.call_rates = CallRates(busy=0.5, no_answer=0.5, seed=3)
    reasons = []
    for _ in range(3):
        call = await voice.dial(sim.phones[1].number)
        await call.wait_answered(WAIT)
        reasons.append(await call.wait_ended(WAIT))
    assert set(reasons) <= {EndReason.BUSY, EndReason.NO_ANSWER}
    assert len(sim.phones[1].voice.calls) == 3


@pytest.mark.parametrize("family", ["sim800"])
async def test_sim800_refuses_french_tts(sim: Simulator, voice: Voice) -> None:
    call = await voice.dial(sim.phones[0].number)
    assert await call.wait_answered(WAIT)
    with pytest.raises(VoiceUnsupportedError):
        await call.speak(CODE_FR, "fr")
    with pytest.raises(VoiceUnsupportedError):
        await call.play(b"\x00" * 320)
    await call.speak("Code 4 8", "fr", any_language=True)  # the documented override
    await call.hangup()
    assert sim.modems[0].voice.tts_played[-1] == "Code 4 8"


@pytest.mark.parametrize("family", ["e3372"])
async def test_huawei_reports_its_own_way(
    sim_modem: SimulatedModem, sim: Simulator, voice: Voice
) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(Answer.BUSY)
    call = await voice.dial(sim.phones[0].number)
    await call.wait_ended(WAIT)
    assert call.end_reason is EndReason.BUSY
    assert "AT+CLCC=1" not in sim_modem.command_log  # ^ORIG/^CONN/^CEND instead


def _p99_jitter_ms(received: PhoneCall) -> float:
    times = received.frame_times
    deviations = [abs(t - (times[0] + n * FRAME_S)) * 1000 for n, t in enumerate(times)]
    return percentile(deviations, 99)


async def test_key_1_stops_the_message_at_once(
    sim: Simulator, voice: Voice, speech: Speech
) -> None:
    """A 1 pressed mid-message cuts it short and stays unread for whoever asks for keys."""
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((0.4, "1"),))
    call = await voice.dial(phone.number)
    assert await call.wait_answered(WAIT)
    text = CODE_EN * 4
    if voice.audio_mode is AudioMode.PCM:
        pcm = await speech.render(text, "en")
        full_s = pcm_duration(pcm)
        stats = await call.play(pcm, stop_keys="12")
        assert stats.stopped_early
    else:
        full_s = len(text) / TTS_CHARS_PER_S
        assert not await call.speak(text, "en", stop_keys="12")
        assert "AT+CTTS=0" in sim.modems[0].command_log
    key = await call.next_key_event(0)
    assert key is not None
    assert key.key == "1"
    assert key.at_s < full_s
    await call.hangup()
    (received,) = await phone.voice.wait_ended(1, WAIT)
    assert received.audio_s < full_s / 2


async def test_other_keys_do_not_stop_the_message(
    sim: Simulator, voice: Voice, speech: Speech
) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((0.1, "5"),))
    call = await voice.dial(phone.number)
    assert await call.wait_answered(WAIT)
    expected_s = 0.0
    if voice.audio_mode is AudioMode.PCM:
        pcm = await speech.render(CODE_EN, "en")
        stats = await call.play(pcm, stop_keys="12")
        assert not stats.stopped_early
        expected_s = pcm_duration(pcm)
    else:
        assert await call.speak(CODE_EN, "en", stop_keys="12")
        expected_s = len(CODE_EN) / TTS_CHARS_PER_S
    assert await call.next_key(0) == "5"
    await call.hangup()
    (received,) = await phone.voice.wait_ended(1, WAIT)
    assert received.audio_s == pytest.approx(expected_s, abs=0.1)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("+DTMF: 1", "1"),  # SIM800, report mode 0
        ("+DTMF:1", "1"),  # SIM800 manual's example, no space
        ("+DTMF: #,160", "#"),  # SIM800 report mode 1: key, duration in ms
        ("+DTMF:1400", None),  # SIM800 single-frequency tone, not a key
        ("+RXDTMF: 8", "8"),  # SIM7600
        ("+RXDTMF: *", "*"),
        ("+RXDTMF: A", "A"),
        ("+QTONEDET: 49", "1"),  # Quectel: ASCII code
        ("+QTONEDET: 35,100", "#"),
        ("+QTONEDET: 70", None),  # Quectel 2300 Hz tone
        ("^DDTMF: 0", "0"),  # Huawei
        ("+DTMF: 12", None),
        ("+DTMF", None),
    ],
)
def test_dtmf_reports_of_each_family(line: str, key: str | None) -> None:
    assert parse_dtmf(line) == key


@pytest.mark.parametrize("family", ["sim7600"])
async def test_sim7600_reports_keys_as_rxdtmf(
    sim_modem: SimulatedModem, sim: Simulator, voice: Voice
) -> None:
    assert "AT+DDET=1" in sim_modem.command_log
    sim.phones[0].voice.behaviour = CallBehaviour(keys=((0.1, "*"),))
    call = await voice.dial(sim.phones[0].number)
    assert await call.wait_answered(WAIT)
    assert await call.next_key(WAIT) == "*"
    await call.hangup()


async def test_hang_up_falls_back_when_the_family_command_is_refused(
    sim_modem: SimulatedModem, sim: Simulator, voice: Voice
) -> None:
    """Each family: its own hang-up answered ERROR, the other standard one ends the call."""
    own = voice.profile.hangup
    sim_modem.voice.refuse_hangup("H" if own == "ATH" else "+CHUP")
    call = await voice.dial(sim.phones[0].number)
    assert await call.wait_answered(WAIT)
    await call.hangup()
    assert call.end_reason is EndReason.HUNG_UP
    (received,) = await sim.phones[0].voice.wait_ended(1, WAIT)
    assert received.outcome == "hung_up_by_caller"
    other = "AT+CHUP" if own == "ATH" else "ATH"
    assert sim_modem.command_log.count(own) == 1
    assert sim_modem.command_log.count(other) == 1
    # The next call goes straight to the command that worked.
    second = await voice.dial(sim.phones[0].number)
    assert await second.wait_answered(WAIT)
    await second.hangup()
    assert sim_modem.command_log.count(own) == 1


async def test_ringing_call_is_cancelled_with_the_fallback(
    sim_modem: SimulatedModem, sim: Simulator, voice: Voice
) -> None:
    own = voice.profile.hangup
    sim_modem.voice.refuse_hangup("H" if own == "ATH" else "+CHUP")
    sim.phones[0].voice.behaviour = CallBehaviour(ring_s=60)
    call = await voice.dial(sim.phones[0].number)
    assert not await call.wait_answered(0.3)
    assert call.end_reason is EndReason.NO_ANSWER
    (received,) = await sim.phones[0].voice.wait_ended(1, WAIT)
    assert received.outcome == "cancelled"


@pytest.mark.parametrize("family", ["sim800"])
async def test_sim800_with_colp_answers_atd_only_when_picked_up(
    sim: Simulator, voice: Voice
) -> None:
    """What the SIM800 manual describes for AT+COLP=1 (the gateway keeps COLP off)."""
    sim.phones[0].voice.behaviour = CallBehaviour(ring_s=0.5)
    await voice.modem.at("AT+COLP=1")
    assert await voice.modem.at("AT+COLP?") == ["+COLP: 1,1"]
    await voice.modem.at(f"ATD{sim.phones[0].number};", timeout=WAIT)
    assert sim.phones[0].voice.calls[-1].answered_at is not None  # OK came with the answer
    await voice.modem.at("ATH")
    await voice.modem.at("AT+COLP=0")
    sim.phones[1].voice.behaviour = CallBehaviour(ring_s=60)
    await voice.modem.at(f"ATD{sim.phones[1].number};", timeout=WAIT)
    assert sim.phones[1].voice.calls[-1].answered_at is None  # OK while it rings
    await voice.modem.at("ATH")
