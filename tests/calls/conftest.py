"""A Gateway whose simulated modems serve voice, with short timings and speech rendered once.

Audio is paced at 4x real time (5 ms per 20 ms frame): what the phone hears is byte for byte
what real pacing sends, so WAV length and content checks hold, and the suite stays short.
Pacing itself is measured by bench.voice_pacing and tests/voice.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import modem.modem as modem_module
import modem.simulator.voice as sim_voice_module
import modem.voice as voice_module
from gateway.config import Config, ModemSettings
from gateway.outbox import MessageState
from gateway.service import Gateway
from modem.audio import stream_frames, stream_paced
from modem.simulator import Simulator
from tests.gateway.conftest import make_config

WAIT = 15.0  # bound for anything a test waits for; never reached when green
FAST_FRAME_S = 0.005


@pytest.fixture(autouse=True)
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's waits scaled down, and audio paced 4x faster than real time."""
    monkeypatch.setattr(modem_module, "SYNC_TIMEOUT", 0.5)
    monkeypatch.setattr(voice_module, "RELEASE_GRACE", 0.2)
    monkeypatch.setattr(
        voice_module, "stream_paced", functools.partial(stream_paced, frame_s=FAST_FRAME_S)
    )
    # The simulated SIM800 TTS speaks at the same pace (its audio is a tone of the text's length).
    monkeypatch.setattr(
        sim_voice_module, "stream_frames", functools.partial(stream_frames, frame_s=FAST_FRAME_S)
    )


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One disk cache for the run: each phrase is rendered by espeak-ng once."""
    return tmp_path_factory.mktemp("speech-cache")


def call_config(tmp_path: Path, speech_cache: Path, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "calls.speech_cache": str(speech_cache),
        "calls.ring_timeout_s": 5.0,
        "calls.listen_s": 0.3,
        "calls.repeats": 2,
        "calls.busy_retry_s": 0.1,
        "calls.no_answer_retry_s": 0.1,
        "town.name": "Tocsin",
    }
    values.update(overrides)
    return make_config(tmp_path, **values)


def voice_modems(sim: Simulator) -> tuple[ModemSettings, ...]:
    """Every simulated modem serving sms and voice, with its audio tty where it has one."""
    return tuple(
        ModemSettings(
            port=m.port,
            name=f"{m.family}-{i}",
            channels=("sms", "voice"),
            audio_port=str(m.voice.audio_path) if m.voice.audio_path else "",
        )
        for i, m in enumerate(sim.modems)
    )


@pytest.fixture
def families() -> Sequence[str]:
    return ("ec25",)


@pytest.fixture
async def sim(families: Sequence[str], tmp_path: Path) -> AsyncIterator[Simulator]:
    async with Simulator(modems=len(families), phones=3, family=list(families), scale=0.01) as s:
        for phone in s.phones:
            phone.voice.record_dir = tmp_path
        await s.wait_ready()
        yield s


@pytest.fixture
def call_overrides() -> dict[str, Any]:
    """Settings a test changes: parametrize `call_overrides` to set them."""
    return {}


@pytest.fixture
async def gateway(
    sim: Simulator, tmp_path: Path, speech_cache: Path, call_overrides: dict[str, Any]
) -> AsyncIterator[Gateway]:
    config = call_config(tmp_path, speech_cache, **call_overrides)
    async with Gateway(config, voice_modems(sim)) as gw:
        yield gw


async def wait_state(
    gw: Gateway, message_id: int, *states: MessageState, timeout: float = WAIT
) -> MessageState:
    async with asyncio.timeout(timeout):
        while True:
            message = await gw.outbox.get(message_id)
            assert message is not None
            if message.state in states:
                return message.state
            await asyncio.sleep(0.02)
