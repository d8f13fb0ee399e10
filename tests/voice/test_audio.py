"""Frames and their pacing on the monotonic grid."""

from __future__ import annotations

import time

import pytest

from modem.audio import (
    FRAME_BYTES,
    FRAME_S,
    SILENCE_FRAME,
    pace_blocking,
    silence,
    split_frames,
    stream_frames,
)


class Sink:
    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []

    def write(self, frame: bytes) -> None:
        self.frames.append((time.monotonic(), frame))


def test_split_pads_the_last_frame() -> None:
    frames = split_frames(b"\x01" * (FRAME_BYTES * 2 + 10))
    assert [len(f) for f in frames] == [FRAME_BYTES] * 3
    assert frames[-1] == b"\x01" * 10 + bytes(FRAME_BYTES - 10)
    assert split_frames(b"") == []
    assert silence(0.1) == SILENCE_FRAME * 5


def test_blocking_pacer_keeps_to_the_grid() -> None:
    sink = Sink()
    stats = pace_blocking(sink, [SILENCE_FRAME] * 50, frame_s=0.005)
    assert stats.frames == 50
    times = [t for t, _ in sink.frames]
    # No drift: the last frame is on its slot, not 50 x (sleep overshoot) late.
    assert times[-1] - times[0] == pytest.approx(49 * 0.005, abs=0.004)
    assert stats.drift_s < 0.004


async def test_async_pacer_stops_when_asked() -> None:
    sink = Sink()
    stats = await stream_frames(
        sink, [SILENCE_FRAME] * 100, frame_s=0.002, should_stop=lambda: len(sink.frames) >= 10
    )
    assert stats.stopped_early
    assert stats.frames == 10
    assert stats.planned == 100
    assert FRAME_S == 0.020
