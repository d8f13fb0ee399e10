"""Footprint of `tocsin run` as deployed: start-up time to READY=1, peak RSS after 10,000
messages on 4 simulated modems (target ≤ 80 MB), and idle CPU once the queue is empty.

The messages are queued in the database before the start (as after a power cut in the middle
of an alert), so the gateway recovers and sends them with no other process in its loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import emit
from bench.dispatch import _alert
from bench.sim_process import start_simulator
from gateway.config import from_mapping
from gateway.outbox import Outbox
from gateway.storage.database import Database

TARGET_RSS_MB = 80.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return float("nan")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime


def _unsent(db_path: Path) -> int:
    with sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM message WHERE state IN ('queued', 'sending')"
            ).fetchone()[0]
        )


async def run(messages: int, idle_s: float) -> dict[str, float | int | str]:
    sim = await start_simulator(modems=4, phones=8, scale=0.01)
    assert sim.process.stdout is not None
    # The simulator keeps printing (phones' messages); an undrained pipe would stall it.
    drain = asyncio.create_task(sim.process.stdout.read())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_path = Path(tmp) / "bench.sqlite"
            db = await Database.open(db_path)
            try:
                await Outbox(db).enqueue_many(
                    1, _alert([p["number"] for p in sim.phones], messages)
                )
            finally:
                await db.close()
            modems = "".join(
                f'[[modems]]\nport = "{m["port"]}"\nname = "m{i}"\n\n'
                for i, m in enumerate(sim.modems)
            )
            config = Path(tmp) / "tocsin.toml"
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            config.write_text(
                f'[storage]\npath = "{db_path}"\n\n[web]\nport = {port}\n\n'
                f"[backup]\ninterval_s = 0\n\n{modems}",
                encoding="utf-8",
            )
            from_mapping({})  # the config module imports cleanly before we time anything
            name = f"tocsin-bench-{uuid.uuid4().hex}"
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify.bind("\0" + name)
            notify.setblocking(False)
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            gateway = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway.cli",
                "run",
                "--config",
                str(config),
                env={**os.environ, "NOTIFY_SOCKET": "@" + name},
            )
            try:
                async with asyncio.timeout(120):
                    while b"READY=1" not in await loop.sock_recv(notify, 4096):
                        pass
                startup_s = time.perf_counter() - started
                sent_start = time.perf_counter()
                async with asyncio.timeout(600):
                    while (left := await asyncio.to_thread(_unsent, db_path)) > 0:
                        print(f"  {messages - left}/{messages} sent", file=sys.stderr)
                        await asyncio.sleep(1.0)
                send_s = time.perf_counter() - sent_start
                await asyncio.sleep(1.0)  # let the last delivery reports land
                cpu_before, wall_before = _cpu_s(gateway.pid), time.perf_counter()
                await asyncio.sleep(idle_s)
                idle_cpu = (_cpu_s(gateway.pid) - cpu_before) / (time.perf_counter() - wall_before)
                peak_rss_mb = _status_kib(gateway.pid, "VmHWM") / 1024
                rss_mb = _status_kib(gateway.pid, "VmRSS") / 1024
            finally:
                if gateway.returncode is None:
                    gateway.send_signal(signal.SIGTERM)
                await asyncio.wait_for(gateway.wait(), 60)
                notify.close()
    finally:
        await sim.stop()
        await drain
    return {
        "messages": messages,
        "startup_s": round(startup_s, 2),
        "send_s": round(send_s, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "idle_rss_mb": round(rss_mb, 1),
        "idle_cpu_pct": round(100 * idle_cpu, 2),
        "target_rss_mb": TARGET_RSS_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 messages, 2 s idle")
    parser.add_argument("--messages", type=int, default=None, help="how many to send")
    args = parser.parse_args()
    messages, idle_s = (2000, 2.0) if args.quick else (10_000, 5.0)
    if args.messages is not None:
        messages = args.messages
    result = asyncio.run(run(messages, idle_s))
    print(
        f"tocsin run, 4 simulated modems, {messages} messages: ready in {result['startup_s']} s, "
        f"sent in {result['send_s']} s, peak RSS {result['peak_rss_mb']} MB "
        f"(target ≤ {TARGET_RSS_MB:g}), idle CPU {result['idle_cpu_pct']} %"
    )
    emit(result)


if __name__ == "__main__":
    main()
