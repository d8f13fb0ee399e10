"""A Modem and its Voice on one simulated module per family, and speech rendered once per run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import modem.modem as modem_module
import modem.voice as voice_module
from gateway.speech import EspeakEngine, Speech
from modem.modem import Modem, ModemConfig
from modem.simulator import SimulatedModem, Simulator
from modem.voice import Voice

FAMILIES = ("sim800", "sim7600", "ec25", "e3372")
PCM_FAMILIES = ("sim7600", "ec25", "e3372")
WAIT = 5.0  # bound for anything the simulator does at scale 0; never reached when green


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's waits, scaled down to what a pty at scale 0 needs."""
    monkeypatch.setattr(modem_module, "SYNC_TIMEOUT", 0.5)
    monkeypatch.setattr(modem_module, "INIT_BUSY_DELAYS", (0.01, 0.02, 0.04, 0.08, 0.16))
    monkeypatch.setattr(voice_module, "RELEASE_GRACE", 0.2)


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def sim(family: str, tmp_path: Path) -> AsyncIterator[Simulator]:
    async with Simulator(modems=1, phones=3, family=family, scale=0, directory=tmp_path) as s:
        await s.wait_ready()
        yield s


@pytest.fixture
def sim_modem(sim: Simulator) -> SimulatedModem:
    return sim.modems[0]


@pytest.fixture
async def voice(sim_modem: SimulatedModem) -> AsyncIterator[Voice]:
    audio = sim_modem.voice.audio_path
    config = ModemConfig(port=sim_modem.port, audio_port=str(audio) if audio else None)
    modem = Modem(config)
    await modem.open()
    try:
        voice = Voice(modem)
        await voice.enable()
        yield voice
    finally:
        await modem.close()


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One disk cache for the run: each phrase is rendered by espeak-ng once."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
def speech(speech_cache: Path) -> Speech:
    return Speech(EspeakEngine(), speech_cache)
