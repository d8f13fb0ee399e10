"""OTP latency: enqueue → AT+CMGS written, with idle modems and behind a 10,000-message alert.

Modems are simulated in another process. The time an OTP's AT+CMGS is written is taken where
the gateway's AT channel issues it (the command carries the OTP's PDU, decoded to match).
Under backlog the wait is also given in send slots (wait / the modems' mean send time): an
OTP should go out on the next modem to become free, i.e. within one slot.

    python -m bench.otp_latency [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import emit, percentile
from bench.sim_process import start_simulator
from gateway.config import ModemSettings, from_mapping
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.service import Gateway
from modem.at import AtChannel
from modem.pdu import Submit, decode

MODEMS = 4
SCALE = 0.02  # realistic +CMGS (~3 s mean, lognormal) × 0.02 → ~60 ms per send
BACKLOG = 10_000

_written: dict[str, float] = {}
_waiting: dict[str, asyncio.Event] = {}


def _install_probe() -> None:
    """Record when the AT channel issues each +CMGS, keyed by the text it carries."""
    original = AtChannel.command

    async def command(self: AtChannel, command: str, **kwargs: Any) -> list[str]:
        data = kwargs.get("data")
        if data is not None and command.startswith("AT+CMGS"):
            decoded = decode(data)
            if isinstance(decoded, Submit) and decoded.text.startswith("OTP "):
                _written.setdefault(decoded.text, time.perf_counter())
                if decoded.text in _waiting:
                    _waiting[decoded.text].set()
        return await original(self, command, **kwargs)

    AtChannel.command = command  # type: ignore[method-assign]


def _alerts(phones: list[str]) -> Iterator[NewMessage]:
    valid = datetime.now(UTC) + timedelta(hours=2)
    for i in range(BACKLOG):
        yield NewMessage(
            MessageClass.ALERT,
            Channel.SMS,
            phones[i % len(phones)],
            f"Alerte {i}: avis d'ébullition préventive.",
            "fr",
            valid_until=valid,
        )


async def _otp(gateway: Gateway, phone: str, tag: str) -> float:
    text = f"OTP {tag}: votre code est 123456"
    written = _waiting[text] = asyncio.Event()
    started = time.perf_counter()
    await gateway.outbox.enqueue(NewMessage(MessageClass.OTP, Channel.SMS, phone, text, "fr"))
    async with asyncio.timeout(60):
        await written.wait()
    return (_written[text] - started) * 1000


async def run(idle_samples: int, backlog_samples: int) -> dict[str, float | int | str]:
    _install_probe()
    rng = random.Random(3)
    sim = await start_simulator(modems=MODEMS, phones=8, scale=SCALE)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = from_mapping({}, {"storage.path": str(Path(tmp) / "bench.sqlite")})
            settings = tuple(
                ModemSettings(port=m["port"], name=f"m{i}") for i, m in enumerate(sim.modems)
            )
            phones = [p["number"] for p in sim.phones]
            async with Gateway(config, settings) as gateway:
                workers = gateway.pool.workers
                async with asyncio.timeout(60):
                    while not all(w.status.health.value == "ready" for w in workers):
                        await asyncio.sleep(0.01)
                idle = []
                for i in range(idle_samples):
                    idle.append(await _otp(gateway, phones[0], f"idle-{i}"))
                    await asyncio.sleep(rng.uniform(0.05, 0.15))  # let the modem go idle again
                await gateway.outbox.enqueue_many(1, _alerts(phones[1:]))
                await asyncio.sleep(0.5)  # the backlog is draining on every modem
                sent_before = sum(w.status.sent_parts for w in workers)
                busy_before = sum(w.status.busy_seconds for w in workers)
                backlog = []
                for i in range(backlog_samples):
                    await asyncio.sleep(rng.uniform(0.05, 0.3))
                    backlog.append(await _otp(gateway, phones[0], f"backlog-{i}"))
                sends = sum(w.status.sent_parts for w in workers) - sent_before
                busy = sum(w.status.busy_seconds for w in workers) - busy_before
                slot_ms = busy / max(sends, 1) * 1000
                queued = (await gateway.outbox.queue_depth_by_class()).get(MessageClass.ALERT, 0)
    finally:
        await sim.stop()
    slots = [wait / slot_ms for wait in backlog]
    result: dict[str, float | int | str] = {
        "otp_p50_ms_idle": round(percentile(idle, 50), 2),
        "otp_p99_ms_idle": round(percentile(idle, 99), 2),
        "otp_p50_ms_backlog": round(percentile(backlog, 50), 2),
        "otp_p99_ms_backlog": round(percentile(backlog, 99), 2),
        "otp_wait_slots_backlog_p99": round(percentile(slots, 99), 3),
        "send_slot_ms": round(slot_ms, 1),
        "modems": MODEMS,
    }
    print(f"otp_latency: enqueue → AT+CMGS written, {MODEMS} simulated modems")
    print(
        f"  idle:    p50 {result['otp_p50_ms_idle']} ms  p99 {result['otp_p99_ms_idle']} ms  "
        f"({idle_samples} OTPs)"
    )
    print(
        f"  backlog: p50 {result['otp_p50_ms_backlog']} ms  p99 {result['otp_p99_ms_backlog']} ms"
        f"  = p99 {result['otp_wait_slots_backlog_p99']} send slots of {slot_ms:.0f} ms"
        f"  ({backlog_samples} OTPs; {queued} alert messages still queued at the end)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, under 30 s")
    args = parser.parse_args()
    samples = (30, 20) if args.quick else (200, 100)
    emit(asyncio.run(run(*samples)))


if __name__ == "__main__":
    main()
