"""Dispatcher throughput and modem utilisation: a 2,000-message alert on 1, 2, 4 and 8 modems.

Modems are simulated in another process (`tocsin simulate`) with the realistic lognormal
+CMGS latency scaled down; the gateway (outbox on a real SQLite file in WAL mode with
synchronous=FULL, dispatcher, AT engine) runs here, so CPU and RSS are the gateway's own.
Utilisation = time modems spent executing AT+CMGS / (wall time × modems).

    python -m bench.dispatch [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Stopwatch, emit, peak_rss_mb
from bench.sim_process import start_simulator
from gateway.config import ModemSettings, from_mapping
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.service import Gateway

MODEM_COUNTS = (1, 2, 4, 8)
FULL_MESSAGES = 2000
# Per modem: the same 160 on 8 modems would be 20 sends each, mostly ramp-up and the
# lognormal tail of the last sends, not the steady state utilisation is meant to show.
QUICK_MESSAGES_PER_MODEM = 100
# Realistic mean +CMGS is ~3 s; × 0.01 → ~30 ms, so 2,000 sends on one modem take ~1 min.
FULL_SCALE = 0.01
QUICK_SCALE = 0.01


def _alert(phones: list[str], count: int) -> Iterator[NewMessage]:
    valid = datetime.now(UTC) + timedelta(hours=1)
    for i in range(count):
        yield NewMessage(
            MessageClass.ALERT,
            Channel.SMS,
            phones[i % len(phones)],
            f"Avis {i}: fermeture de la rue Principale demain de 8 h à 17 h.",
            "fr",
            valid_until=valid,
        )


async def run_one(
    modems: int, messages: int, scale: float, *, fixed_latency_s: float | None = None
) -> dict[str, float]:
    sim = await start_simulator(
        modems=modems,
        phones=8,
        scale=scale,
        latency=fixed_latency_s,
        fixed_latency=fixed_latency_s is not None,
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = from_mapping({}, {"storage.path": str(Path(tmp) / "bench.sqlite")})
            settings = tuple(
                ModemSettings(port=m["port"], name=f"m{i}") for i, m in enumerate(sim.modems)
            )
            async with Gateway(config, settings) as gateway:
                workers = gateway.pool.workers
                async with asyncio.timeout(60):
                    while not all(w.status.health.value == "ready" for w in workers):
                        await asyncio.sleep(0.01)
                phones = [p["number"] for p in sim.phones]
                # Event-driven, as the web layer would watch: polling every few ms cost
                # ~0.2 s of CPU per 5 s (1.3 ms per message at one modem), charged to us.
                events = gateway.bus.subscribe({"message"})
                done: set[object] = set()
                watch = Stopwatch()
                await gateway.outbox.enqueue_many(1, _alert(phones, messages))
                async with asyncio.timeout(messages * scale * 30 / modems + 60):
                    while len(done) < messages:
                        event = await events.next()
                        if event.data["state"] != "sending":
                            done.add(event.data["id"])
                wall, cpu = watch.wall, watch.cpu
                events.close()
                busy = sum(w.status.busy_seconds for w in workers)
    finally:
        await sim.stop()
    result = {
        "modems": modems,
        "throughput": messages / wall,
        "throughput_per_modem": messages / wall / modems,
        "utilisation": busy / (wall * modems),
        "cpu_ms_per_message": cpu * 1000 / messages,
    }
    print(
        f"  {modems} modem(s): {messages} messages in {wall:6.2f} s  "
        f"{result['throughput']:7.1f} msg/s  ({result['throughput_per_modem']:.1f} per modem)  "
        f"utilisation {result['utilisation']:.3f}  CPU {result['cpu_ms_per_message']:.2f} ms/msg"
    )
    return result


async def run(
    messages: int, scale: float, *, per_modem: bool = False
) -> dict[str, float | int | str]:
    size = f"{messages}-message-per-modem" if per_modem else f"{messages}-message"
    print(
        f"dispatch: a {size} alert, +CMGS latency = realistic × {scale} "
        f"(mean ~{3000 * scale:.0f} ms, lognormal tail)"
    )
    results = [
        await run_one(n, messages * n if per_modem else messages, scale) for n in MODEM_COUNTS
    ]
    worst = min(results, key=lambda r: r["utilisation"])
    summary: dict[str, float | int | str] = {
        "utilisation_min": round(worst["utilisation"], 4),
        "throughput_per_modem": round(min(r["throughput_per_modem"] for r in results), 2),
        "cpu_ms_per_message": round(max(r["cpu_ms_per_message"] for r in results), 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "messages": messages,
        "scale": scale,
    }
    print(
        f"  lowest utilisation {summary['utilisation_min']} (at {int(worst['modems'])} modems); "
        f"peak RSS {summary['peak_rss_mb']} MB"
    )
    return summary


async def one_second_modem(messages: int) -> dict[str, float | int | str]:
    """The issue's yardstick: a modem taking exactly 1 s per +CMGS should give ~1.0 SMS/s."""
    print(f"dispatch: {messages} messages on one modem that takes exactly 1 s per +CMGS")
    result = await run_one(1, messages, 1.0, fixed_latency_s=1.0)
    rate = result["throughput"]
    print(f"  {rate:.3f} SMS/s: {abs(1 - rate) * 100:.1f} % from 1.0 SMS/s")
    return {"one_second_sms_per_s": round(rate, 4), "messages": messages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, under 30 s")
    parser.add_argument(
        "--one-second",
        action="store_true",
        help="only the 1 s-per-SMS modem comparison (~1 min; 10 messages with --quick)",
    )
    args = parser.parse_args()
    if args.one_second:
        emit(asyncio.run(one_second_modem(10 if args.quick else 60)))
    elif args.quick:
        emit(asyncio.run(run(QUICK_MESSAGES_PER_MODEM, QUICK_SCALE, per_modem=True)))
    else:
        emit(asyncio.run(run(FULL_MESSAGES, FULL_SCALE)))


if __name__ == "__main__":
    main()
