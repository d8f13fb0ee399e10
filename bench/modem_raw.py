"""The AT engine's own cost: SMS/s and CPU ms per SMS through one zero-latency simulated modem.

The simulator runs in a separate process (`tocsin simulate --latency 0`), so the CPU figure is
the engine's alone: framing, matching, PDU encoding, the pty syscalls on our side.

    python -m bench.modem_raw [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bench.common import Stopwatch, emit, peak_rss_mb
from modem.modem import Modem, ModemConfig

FULL_MESSAGES = 5000
QUICK_MESSAGES = 600


async def _start_simulator(family: str) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "simulate",
        "--modems",
        "1",
        "--phones",
        "1",
        "--family",
        family,
        "--latency",
        "0",
        "--scale",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    described: list[dict[str, Any]] = []
    while len(described) < 2:
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        if not line:
            raise RuntimeError("the simulator exited before describing its modems")
        described.append(json.loads(line))
    modem = next(d for d in described if d["kind"] == "modem")
    phone = next(d for d in described if d["kind"] == "phone")
    modem["phone"] = phone["number"]
    return process, modem


async def run(messages: int, family: str) -> dict[str, float | int | str]:
    process, described = await _start_simulator(family)
    modem = Modem(ModemConfig(port=described["port"], name="bench"))
    try:
        await modem.open()
        texts = [
            f"Avis {i}: fermeture de la rue Principale demain de 8 h à 17 h." for i in range(64)
        ]
        # Warm-up: first sends pay for imports and caches.
        for i in range(20):
            await modem.send_sms(described["phone"], texts[i % 64], status_report=False)
        watch = Stopwatch()
        for i in range(messages):
            await modem.send_sms(described["phone"], texts[i % 64], status_report=False)
        wall, cpu = watch.wall, watch.cpu
    finally:
        await modem.close()
        process.terminate()
        await process.wait()
    result: dict[str, float | int | str] = {
        "sms_per_s": round(messages / wall, 1),
        "cpu_ms_per_sms": round(cpu * 1000 / messages, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "messages": messages,
        "family": family,
    }
    print(f"modem_raw: {messages} SMS through one {family} simulated modem at zero latency")
    print(f"  wall {wall:.2f} s  →  {result['sms_per_s']} SMS/s")
    print(f"  engine CPU {cpu * 1000:.0f} ms  →  {result['cpu_ms_per_sms']} ms per SMS")
    print(f"  peak RSS {result['peak_rss_mb']} MB (engine process)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, under 30 s")
    parser.add_argument("--family", default="sim800")
    args = parser.parse_args()
    messages = QUICK_MESSAGES if args.quick else FULL_MESSAGES
    emit(asyncio.run(run(messages, args.family)))


if __name__ == "__main__":
    main()
