"""Voice frame pacing: how closely 20 ms PCM frames follow their grid over a long message.

One call through an in-process simulated SIM7600 (the simulator shares our event loop, so its
pty reads are part of the load, as a busy gateway would be); the phone timestamps each frame on
arrival. Deviations are measured against the grid t0 + n x 20 ms, so a drifting clock shows as
a growing last-frame deviation (drift).

    python -m bench.voice_pacing [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import emit, percentile
from modem.audio import FRAME_S, SAMPLE_RATE
from modem.modem import Modem, ModemConfig
from modem.simulator import Simulator
from modem.voice import Voice

FULL_SECONDS = 60.0
QUICK_SECONDS = 10.0
# A bare sleep loop on the same grid, no I/O: what this machine's scheduler allows at best, so
# a noisy (shared, loaded) machine is told apart from a regression in the pacer.
BASELINE_SECONDS = 5.0
TARGET_P99_MS = 2.0  # issue 5: the far end must hear real time


def _test_audio(seconds: float) -> bytes:
    """A warbling tone: non-silent everywhere, so every frame carries sound."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wave = 8000 * np.sin(2 * np.pi * (440 + 120 * np.sin(2 * np.pi * 0.5 * t)) * t)
    return wave.astype("<i2").tobytes()


def _baseline_ms(seconds: float) -> list[float]:
    """Deviations of a plain time.sleep loop on the 20 ms grid."""
    deviations = []
    start = time.monotonic()
    for index in range(int(seconds / FRAME_S)):
        due = start + index * FRAME_S
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        deviations.append((time.monotonic() - due) * 1000)
    return deviations


def _received_deviations(times: list[float]) -> list[float]:
    """|arrival - (first arrival + n x 20 ms)| per frame."""
    if not times:
        return []
    return [abs(at - (times[0] + n * FRAME_S)) for n, at in enumerate(times)]


async def run(seconds: float) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory(prefix="tocsin-voice-bench-") as directory:
        async with Simulator(
            modems=1, phones=1, family="sim7600", scale=0, directory=Path(directory)
        ) as sim:
            await sim.wait_ready()
            sim_modem, phone = sim.modems[0], sim.phones[0]
            config = ModemConfig(
                port=sim_modem.port, name="bench", audio_port=str(sim_modem.voice.audio_path)
            )
            modem = Modem(config)
            await modem.open()
            try:
                voice = Voice(modem)
                await voice.enable()
                call = await voice.dial(phone.number)
                if not await call.wait_answered(10):
                    raise RuntimeError(f"the simulated phone did not answer: {call.end_reason}")
                stats = await call.play(_test_audio(seconds))
                await call.hangup()
            finally:
                await modem.close()
            received = phone.voice.calls[-1].frame_times
    written_ms = [d * 1000 for d in stats.deviations_s]
    received_ms = [d * 1000 for d in _received_deviations(received)]
    rx_drift_ms = received_ms[-1] if received_ms else float("nan")
    print(f"audio streamed      {stats.seconds:.1f} s ({stats.frames} frames, {seconds:g} s asked)")
    print(
        f"write vs grid       p50 {percentile(written_ms, 50):.3f} ms   "
        f"p99 {percentile(written_ms, 99):.3f} ms   max {max(written_ms):.3f} ms"
    )
    print(
        f"received vs grid    p50 {percentile(received_ms, 50):.3f} ms   "
        f"p99 {percentile(received_ms, 99):.3f} ms   max {max(received_ms):.3f} ms"
    )
    print(
        f"drift at the end    write {stats.drift_s * 1000:.3f} ms   received {rx_drift_ms:.3f} ms"
    )
    print(f"frames received     {len(received)} of {stats.frames}; late {stats.late_frames}")
    baseline_ms = _baseline_ms(BASELINE_SECONDS)
    print(
        f"machine baseline    p50 {percentile(baseline_ms, 50):.3f} ms   "
        f"p99 {percentile(baseline_ms, 99):.3f} ms (bare sleep loop, {BASELINE_SECONDS:g} s)"
    )
    p99 = percentile(written_ms, 99)
    verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
    print(f"target              p99 <= {TARGET_P99_MS} ms: {verdict}")
    return {
        "benchmark": "voice_pacing",
        "seconds": round(stats.seconds, 2),
        "frames": stats.frames,
        "frames_received": len(received),
        "late_frames": stats.late_frames,
        "p50_jitter_ms": round(percentile(written_ms, 50), 3),
        "p99_jitter_ms": round(p99, 3),
        "max_jitter_ms": round(max(written_ms), 3),
        "drift_ms": round(stats.drift_s * 1000, 3),
        "rx_p99_jitter_ms": round(percentile(received_ms, 99), 3),
        "rx_drift_ms": round(rx_drift_ms, 3),
        "baseline_p99_ms": round(percentile(baseline_ms, 99), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s of audio")
    args = parser.parse_args()
    emit(asyncio.run(run(QUICK_SECONDS if args.quick else FULL_SECONDS)))


if __name__ == "__main__":
    main()
