"""espeak-ng rendering, the resampler and the cache."""

from __future__ import annotations

import array
import asyncio
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from gateway.speech import (
    ESPEAK_RATE,
    TARGET_RATE,
    EspeakEngine,
    Speech,
    SpeechError,
    parse_wav,
    resample,
)
from modem.audio import pcm_duration


def rms(pcm: bytes) -> float:
    samples = array.array("h")
    samples.frombytes(pcm)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "Votre code est 4 8 1 5 1 6"), ("en", "Your code is 4 8 1 5 1 6")],
)
async def test_renders_speech_of_plausible_length(language: str, text: str) -> None:
    pcm = await EspeakEngine().render(text, language, None)
    assert len(pcm) % 2 == 0
    assert rms(pcm) > 300  # speech, not silence
    # ~6 words and 6 digits at 150 wpm: a few seconds, not a fraction nor a minute.
    assert 1.5 < pcm_duration(pcm) < 8.0


async def test_cache_hit_does_not_run_espeak_again(tmp_path: Path) -> None:
    engine = EspeakEngine()
    speech = Speech(engine, tmp_path)
    first = await speech.render("Code 1 2", "en")
    again = await speech.render("Code 1 2", "en")
    assert again == first
    assert engine.runs == 1
    assert (speech.hits, speech.misses) == (1, 1)
    # A new process (empty memory) reads the disk; espeak-ng is never started.
    broken = EspeakEngine(binary="/nonexistent/espeak-ng")
    assert await Speech(broken, tmp_path).render("Code 1 2", "en") == first
    assert broken.runs == 0
    # The key includes language and voice.
    with pytest.raises(SpeechError):
        await Speech(broken, tmp_path).render("Code 1 2", "fr")


async def test_concurrent_renders_share_one_run(tmp_path: Path) -> None:
    engine = EspeakEngine()
    speech = Speech(engine, tmp_path)
    results = await asyncio.gather(*(speech.render("Alerte", "fr") for _ in range(3)))
    assert engine.runs == 1
    assert results[0] == results[1] == results[2]


async def test_memory_cache_is_bounded() -> None:
    speech = Speech(EspeakEngine(), None, memory_bytes=60_000)
    for text in ("un", "deux", "trois", "quatre", "cinq"):
        await speech.render(text, "fr")
    assert sum(len(v) for v in speech._memory.values()) <= 60_000


def _tone(freq: float, seconds: float = 1.0, rate: int = ESPEAK_RATE) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (10000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def test_resampler_keeps_the_voice_band() -> None:
    out = np.frombuffer(resample(_tone(1000), ESPEAK_RATE, TARGET_RATE), "<i2").astype(float)
    assert len(out) == TARGET_RATE
    level = np.sqrt(np.mean(out[100:-100] ** 2))
    assert level == pytest.approx(10000 / math.sqrt(2), rel=0.02)
    spectrum = np.abs(np.fft.rfft(out[100:-100]))
    peak_hz = np.argmax(spectrum) * TARGET_RATE / len(out[100:-100])
    assert peak_hz == pytest.approx(1000, abs=5)


@pytest.mark.parametrize("freq", [5000.0, 7000.0, 10000.0])
def test_resampler_removes_what_would_alias(freq: float) -> None:
    out = np.frombuffer(resample(_tone(freq), ESPEAK_RATE, TARGET_RATE), "<i2").astype(float)
    level = np.sqrt(np.mean(out[100:-100] ** 2))
    assert level < 10000 / math.sqrt(2) / 1000  # more than 60 dB down


def test_parse_wav_ignores_pipe_sizes() -> None:
    samples = struct.pack("<4h", 1, -2, 3, -4)
    fmt = struct.pack("<HHIIHH", 1, 1, ESPEAK_RATE, ESPEAK_RATE * 2, 2, 16)
    data = (
        b"RIFF"
        + struct.pack("<I", 0x7FFFF024)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", 0x7FFFF000)
        + samples
    )
    assert parse_wav(data) == (ESPEAK_RATE, 1, samples)
    with pytest.raises(SpeechError):
        parse_wav(b"not a wav")
