"""PCM frames for a modem's voice channel, written on a monotonic 20 ms grid.

A module's audio port has a small buffer: frames written early overflow it, frames written late
leave gaps the far end hears as clicks. Each frame n is therefore due at t0 + n x 20 ms, computed
from the start time, never by adding sleeps, so lateness never accumulates over a long message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

import serial

from modem.exceptions import ModemDisconnectedError

_LOGGER = logging.getLogger(__name__)

# What every family's voice channel takes: narrowband telephony, 8 kHz signed 16-bit mono.
SAMPLE_RATE: Final = 8000
SAMPLE_BYTES: Final = 2
# 20 ms is the frame length of the GSM/AMR codecs behind the port, and what the modules expect.
FRAME_S: Final = 0.020
FRAME_SAMPLES: Final = int(SAMPLE_RATE * FRAME_S)
FRAME_BYTES: Final = FRAME_SAMPLES * SAMPLE_BYTES  # 320
SILENCE_FRAME: Final = bytes(FRAME_BYTES)
# The audio port is USB CDC: the baud rate is nominal, but a real UART would need 128 kbit/s+.
AUDIO_BAUDRATE: Final = 921600
# The pacing thread sleeps until this long before a frame's slot, then spins (yielding the GIL)
# to the slot: a sleep on a loaded machine overshoots by ~0.1-10 ms, a spin does not.
SPIN_S: Final = 0.001
# Python hands the GIL to a waiting thread only every switch interval (5 ms by default): the
# pacing thread waking for its frame would wait behind the event loop that long.
GIL_SWITCH_S: Final = 0.001
# Real-time priority for the pacing thread where the service may take it (CAP_SYS_NICE, e.g.
# systemd's AmbientCapabilities); without it the thread keeps the normal policy.
PACER_RT_PRIORITY: Final = 10
# A frame takes microseconds to hand to the USB driver; one that blocks this long means the
# module stopped reading its audio port (call dropped, firmware stuck).
WRITE_TIMEOUT_S: Final = 0.5


class AudioSink(Protocol):
    """Where frames go: the modem's audio port, or a list in a unit test."""

    def write(self, frame: bytes) -> None: ...


def pcm_duration(pcm: bytes) -> float:
    """Seconds of audio in 8 kHz s16 mono PCM."""
    return len(pcm) / (SAMPLE_RATE * SAMPLE_BYTES)


def split_frames(pcm: bytes) -> list[bytes]:
    """320-byte frames; the last one padded with silence (a short frame would desync the port)."""
    frames = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    if frames and len(frames[-1]) < FRAME_BYTES:
        frames[-1] = frames[-1] + bytes(FRAME_BYTES - len(frames[-1]))
    return frames


def silence(seconds: float) -> bytes:
    """PCM silence of about `seconds`, a whole number of frames."""
    return SILENCE_FRAME * max(0, round(seconds / FRAME_S))


@dataclass
class PacingStats:
    """When each frame was written, relative to its slot on the grid."""

    frames: int = 0
    planned: int = 0
    late_frames: int = 0  # written more than a whole frame after their slot (loop stalled)
    deviations_s: list[float] = field(default_factory=list)  # actual - scheduled, per frame
    stopped_early: bool = False

    @property
    def drift_s(self) -> float:
        """Deviation of the last frame written: what a drifting clock would make grow."""
        return self.deviations_s[-1] if self.deviations_s else 0.0

    @property
    def seconds(self) -> float:
        """Audio actually written."""
        return self.frames * FRAME_S


async def stream_frames(
    sink: AudioSink,
    frames: list[bytes],
    *,
    frame_s: float = FRAME_S,
    should_stop: Callable[[], bool] | None = None,
) -> PacingStats:
    """Write `frames` to `sink`, frame n at t0 + n x frame_s on the loop's monotonic clock.

    A frame whose slot has passed (the loop was busy) is written at once: the module's buffer
    absorbs a short burst, whereas a dropped frame is a gap in the speech.
    """
    loop = asyncio.get_running_loop()
    stats = PacingStats(planned=len(frames))
    start = loop.time()
    for index, frame in enumerate(frames):
        if should_stop is not None and should_stop():
            stats.stopped_early = True
            break
        due = start + index * frame_s
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sink.write(frame)
        deviation = loop.time() - due
        stats.deviations_s.append(deviation)
        stats.frames += 1
        if deviation > frame_s:
            stats.late_frames += 1
    if stats.late_frames:
        _LOGGER.info("%d of %d audio frames were late", stats.late_frames, stats.frames)
    return stats


def pace_blocking(
    sink: AudioSink,
    frames: list[bytes],
    *,
    frame_s: float = FRAME_S,
    should_stop: Callable[[], bool] | None = None,
    cancelled: threading.Event | None = None,
) -> PacingStats:
    """`stream_frames` for a dedicated thread, on absolute deadlines: sleep to SPIN_S before
    each slot, then spin to it, so neither the event loop nor sleep overshoot delays a frame."""
    restore = _raise_priority()
    try:
        return _pace(sink, frames, frame_s, should_stop, cancelled)
    finally:
        restore()  # the thread returns to asyncio's pool: other jobs must not run real-time


def _pace(
    sink: AudioSink,
    frames: list[bytes],
    frame_s: float,
    should_stop: Callable[[], bool] | None,
    cancelled: threading.Event | None,
) -> PacingStats:
    stats = PacingStats(planned=len(frames))
    start = time.monotonic()
    for index, frame in enumerate(frames):
        if (should_stop is not None and should_stop()) or (cancelled and cancelled.is_set()):
            stats.stopped_early = True
            break
        due = start + index * frame_s
        _wait_until(due)
        sink.write(frame)
        deviation = time.monotonic() - due
        stats.deviations_s.append(deviation)
        stats.frames += 1
        if deviation > frame_s:
            stats.late_frames += 1
    return stats


def _wait_until(due: float) -> None:
    """Until the monotonic clock reaches `due`: sleep most of the way, spin the rest."""
    delay = due - time.monotonic() - SPIN_S
    if delay > 0:
        time.sleep(delay)
    while time.monotonic() < due:
        time.sleep(0)  # releases the GIL while spinning: the loop keeps running


def _raise_priority() -> Callable[[], None]:
    """Real-time scheduling for this thread if allowed; the GIL handed over within 1 ms.

    Returns what puts the thread's policy back (it is a pooled thread)."""
    if sys.getswitchinterval() > GIL_SWITCH_S:
        sys.setswitchinterval(GIL_SWITCH_S)
    try:
        policy = os.sched_getscheduler(0)
        param = os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(PACER_RT_PRIORITY))
    except (OSError, AttributeError) as exc:  # EPERM without CAP_SYS_NICE; not on every OS
        _LOGGER.debug("pacing thread keeps normal scheduling: %s", exc)
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, policy, param)

    return restore


async def stream_paced(
    sink: AudioSink,
    frames: list[bytes],
    *,
    frame_s: float = FRAME_S,
    should_stop: Callable[[], bool] | None = None,
) -> PacingStats:
    """Pace `frames` into a blocking `sink` on a worker thread; cancelling stops it at the next
    frame (the thread is waited for, so the port is never closed under its feet)."""
    cancelled = threading.Event()
    worker = asyncio.ensure_future(
        asyncio.to_thread(
            pace_blocking,
            sink,
            frames,
            frame_s=frame_s,
            should_stop=should_stop,
            cancelled=cancelled,
        )
    )
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        cancelled.set()
        with contextlib.suppress(Exception):
            await worker
        raise


class SerialAudioPort:
    """The module's audio tty, written with blocking writes from the pacing thread."""

    def __init__(self, name: str, port: serial.Serial) -> None:
        self.name = name
        self._port = port

    @classmethod
    async def open(cls, path: str, *, name: str, baudrate: int = AUDIO_BAUDRATE) -> SerialAudioPort:
        """Open `path` raw (pyserial); ModemDisconnectedError if it is not there."""

        def _open() -> serial.Serial:
            return serial.Serial(
                path, baudrate=baudrate, timeout=0, write_timeout=WRITE_TIMEOUT_S, exclusive=True
            )

        try:
            port = await asyncio.to_thread(_open)
        except (OSError, serial.SerialException) as exc:
            raise ModemDisconnectedError(f"{name}: cannot open audio port {path}: {exc}") from exc
        return cls(name, port)

    @property
    def is_open(self) -> bool:
        return bool(self._port.is_open)

    def write(self, frame: bytes) -> None:
        """Blocking write of one frame; a module that stopped reading is a lost port."""
        try:
            self._port.write(frame)
        except (OSError, serial.SerialException) as exc:
            raise ModemDisconnectedError(f"{self.name}: audio port write failed: {exc}") from exc

    async def close(self) -> None:
        await asyncio.to_thread(self._port.close)
