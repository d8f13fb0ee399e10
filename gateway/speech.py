"""Text to 8 kHz telephone PCM: espeak-ng behind an engine interface, and a cache in front of it.

Codes and alerts are spoken from a handful of scripts, so most renders repeat: the cache keys on
(engine, text, language, voice) and keeps results in memory and on disk, so that a call never
waits for synthesis twice and a restart does not lose the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import struct
from collections import OrderedDict
from math import gcd
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_LOGGER = logging.getLogger(__name__)

# What every modem family's voice channel takes (modem.audio): 8 kHz signed 16-bit mono.
TARGET_RATE: Final = 8000
# espeak-ng renders at 22,050 Hz whatever the voice.
ESPEAK_RATE: Final = 22050
ESPEAK_BINARY: Final = "espeak-ng"
# Words per minute: espeak's default 175 is hard to follow over a narrowband phone line,
# especially for digits; 150 is what IVR systems use.
ESPEAK_WPM: Final = 150
# A long alert renders in well under a second; past this espeak-ng is stuck.
RENDER_TIMEOUT: Final = 30.0
# espeak-ng voices for the languages residents choose.
ESPEAK_VOICES: Final = {"fr": "fr", "en": "en"}
# Memory held by rendered speech: ~16 kB per second, so ~30 minutes of distinct audio.
MEMORY_CACHE_BYTES: Final = 32 * 1024 * 1024
# Resampler: taps per side of each polyphase branch; 10 gives > 60 dB stopband with Kaiser 8.
FILTER_HALF_TAPS: Final = 10
KAISER_BETA: Final = 8.0
# Just under the 4 kHz Nyquist of the output, so the filter's transition band is not aliased.
CUTOFF_FRACTION: Final = 0.95


class SpeechError(Exception):
    """Text could not be turned into audio (engine missing, failed or stuck)."""


class SpeechEngine(Protocol):
    """Anything that renders text to 8 kHz s16le mono PCM: espeak-ng now, Piper later."""

    name: str

    async def render(self, text: str, language: str, voice: str | None) -> bytes: ...


class EspeakEngine:
    """espeak-ng run as an asyncio subprocess (never blocks the loop), text on stdin."""

    name = "espeak-ng"

    def __init__(
        self,
        *,
        binary: str = ESPEAK_BINARY,
        words_per_minute: int = ESPEAK_WPM,
        timeout: float = RENDER_TIMEOUT,
    ) -> None:
        self.binary = binary
        self.words_per_minute = words_per_minute
        self.timeout = timeout
        self.runs = 0  # how many times espeak-ng was started (tests check the cache with it)

    async def render(self, text: str, language: str, voice: str | None) -> bytes:
        espeak_voice = voice or ESPEAK_VOICES.get(language, language)
        self.runs += 1
        try:
            process = await asyncio.create_subprocess_exec(
                self.binary,
                "-v",
                espeak_voice,
                "-s",
                str(self.words_per_minute),
                "--stdout",
                "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise SpeechError(f"cannot run {self.binary}: {exc}") from exc
        try:
            async with asyncio.timeout(self.timeout):
                out, err = await process.communicate(text.encode("utf-8"))
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SpeechError(f"{self.binary} took over {self.timeout:g} s") from None
        if process.returncode != 0:
            message = err.decode("utf-8", "replace").strip()
            raise SpeechError(f"{self.binary} -v {espeak_voice} failed: {message}")
        rate, channels, pcm = parse_wav(out)
        if channels != 1:
            raise SpeechError(f"{self.binary} wrote {channels} channels, expected mono")
        return resample(pcm, rate, TARGET_RATE)


class Speech:
    """An engine behind a cache in memory (LRU, bounded) and on disk (one file per render)."""

    def __init__(
        self,
        engine: SpeechEngine,
        cache_dir: Path | None = None,
        *,
        memory_bytes: int = MEMORY_CACHE_BYTES,
    ) -> None:
        self.engine = engine
        self.cache_dir = cache_dir
        self.memory_bytes = memory_bytes
        self.hits = 0
        self.misses = 0
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._held = 0
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    async def render(self, text: str, language: str, voice: str | None = None) -> bytes:
        """8 kHz s16le mono PCM of `text`; two callers asking at once share one render."""
        key = cache_key(self.engine.name, text, language, voice)
        cached = self._memory_get(key)
        if cached is None:
            cached = await asyncio.to_thread(self._disk_get, key)
            if cached is not None:
                self._memory_put(key, cached)
        if cached is not None:
            self.hits += 1
            return cached
        inflight = self._inflight.get(key)
        if inflight is not None:
            self.hits += 1
            return await asyncio.shield(inflight)
        self.misses += 1
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            pcm = await self.engine.render(text, language, voice)
            self._memory_put(key, pcm)
            await asyncio.to_thread(self._disk_put, key, pcm)
            future.set_result(pcm)
            return pcm
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters, if any, get it through shield
            raise
        finally:
            del self._inflight[key]

    def _memory_get(self, key: str) -> bytes | None:
        pcm = self._memory.get(key)
        if pcm is not None:
            self._memory.move_to_end(key)
        return pcm

    def _memory_put(self, key: str, pcm: bytes) -> None:
        if key in self._memory or len(pcm) > self.memory_bytes:
            return
        self._memory[key] = pcm
        self._held += len(pcm)
        while self._held > self.memory_bytes:
            _, evicted = self._memory.popitem(last=False)
            self._held -= len(evicted)

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key}.pcm" if self.cache_dir is not None else None

    def _disk_get(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def _disk_put(self, key: str, pcm: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            temporary.write_bytes(pcm)
            os.replace(temporary, path)  # a reader never sees half a file
        except OSError as exc:
            _LOGGER.warning("speech cache: cannot write %s: %s", path, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()


def cache_key(engine: str, text: str, language: str, voice: str | None) -> str:
    """A file-safe digest of what determines the audio."""
    material = "\x00".join((engine, language, voice or "", text)).encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def parse_wav(data: bytes) -> tuple[int, int, bytes]:
    """(rate, channels, s16le samples) of a PCM WAV; sizes are not trusted, as a WAV written to
    a pipe (espeak-ng --stdout) cannot go back to fill them in."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError("not a WAV file")
    offset = 12
    rate = channels = bits = 0
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if chunk == b"fmt ":
            fmt, channels, rate = struct.unpack_from("<HHI", data, body)
            bits = struct.unpack_from("<H", data, body + 14)[0]
            if fmt != 1 or bits != 16:
                raise SpeechError(f"unsupported WAV format {fmt} with {bits}-bit samples")
        elif chunk == b"data":
            if not rate:
                raise SpeechError("WAV data before its format")
            end = min(len(data), body + size)
            samples = data[body:end]
            return rate, channels, samples[: len(samples) - len(samples) % 2]
        offset = body + size + (size & 1)
    raise SpeechError("WAV without data")


def resample(pcm: bytes, source_rate: int, target_rate: int) -> bytes:
    """Polyphase windowed-sinc resampling of s16le mono (22,050 → 8,000 Hz is 160/441)."""
    if source_rate == target_rate or not pcm:
        return pcm
    import numpy as np  # noqa: PLC0415 - 12 MB of RSS a box without voice modems never needs

    divisor = gcd(source_rate, target_rate)
    up, down = target_rate // divisor, source_rate // divisor
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    out = _polyphase(samples, up, down)
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


def _polyphase(x: npt.NDArray[np.float64], up: int, down: int) -> npt.NDArray[np.float64]:
    """y[m] = sum_k h[k] * u[m*down + delay - k], u being x zero-stuffed by `up`.

    Only every up-th tap meets a real sample, so each output is a ~2·FILTER_HALF_TAPS dot product
    with one branch of the filter; outputs are computed in blocks to bound memory."""
    import numpy as np  # noqa: PLC0415 - see resample

    ratio = max(up, down)
    half = FILTER_HALF_TAPS * ratio
    taps = np.arange(-half, half + 1)
    cutoff = CUTOFF_FRACTION / ratio  # of the upsampled Nyquist
    h = up * cutoff * np.sinc(cutoff * taps) * np.kaiser(2 * half + 1, KAISER_BETA)
    branch_len = -(-len(h) // up)
    padded = np.zeros(branch_len * up)
    padded[: len(h)] = h
    branches = padded.reshape(branch_len, up).T  # branches[p, j] = h[p + j*up]
    count = len(x) * up // down
    # x with branch_len zeros on the left (taps before the start) and right (past the end)
    xp = np.concatenate((np.zeros(branch_len), x, np.zeros(branch_len)))
    out = np.empty(count)
    block = 4096
    j = np.arange(branch_len)
    for start in range(0, count, block):
        m = np.arange(start, min(count, start + block))
        t = m * down + half  # position in the upsampled signal, delay compensated
        phase, base = t % up, t // up
        gathered = xp[(base + branch_len)[:, None] - j[None, :]]
        out[m] = np.einsum("ij,ij->i", gathered, branches[phase])
    return out
