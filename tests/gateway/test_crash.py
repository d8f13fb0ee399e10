"""Crash safety with a real process: `tocsin run` is killed with SIGKILL at random moments.

The simulator lives in this test process, so its network log is the ground truth of what the
gateway really sent, across every crash. Checks: no accepted message lost, no OTP sent twice,
nothing sent after valid_until, every inbound SMS stored once, the database file sound.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.outbox import Channel, MessageClass, MessageState, NewMessage, Outbox
from gateway.storage.database import Database
from gateway.storage.inbox import Inbox
from modem.simulator import Simulator

ROUNDS = 8
OTPS_PER_ROUND = 3
ALERTS_PER_ROUND = 6
INBOUND_PER_ROUND = 2
# One simulated send takes ~3 s × scale; the kill lands anywhere in a few sends.
SCALE = 0.05
# A message can be claimed just before valid_until and reach the network one send later.
SEND_SLACK = timedelta(seconds=2)


def write_config(path: Path, db: Path, sim: Simulator) -> None:
    modems = "".join(
        f'\n[[modems]]\nport = "{m.port}"\nname = "m{i}"\n' for i, m in enumerate(sim.modems)
    )
    path.write_text(
        f"""
[storage]
path = "{db}"

[web]
port = 0

[dispatch]
retry_base_s = 0.1
retry_max_s = 0.5
watchdog_interval_s = 0.5
block_s = 0.5
{modems}""",
        encoding="utf-8",
    )


async def start_gateway(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_kill_9_loses_nothing_and_sends_no_otp_twice(tmp_path: Path) -> None:
    rng = random.Random(1234)
    db_path = tmp_path / "tocsin.sqlite"
    config = tmp_path / "tocsin.toml"
    otps: dict[str, datetime] = {}  # text → valid_until
    alerts: set[str] = set()
    inbound: list[tuple[str, str]] = []
    async with Simulator(modems=2, phones=6, scale=SCALE, seed=7) as sim:
        write_config(config, db_path, sim)
        db = await Database.open(db_path)
        outbox, inbox = Outbox(db), Inbox(db)
        try:
            for round_no in range(ROUNDS):
                for i in range(OTPS_PER_ROUND):
                    text = f"Votre code Tocsin: {round_no}{i}{rng.randrange(10**4):04d}"
                    valid = datetime.now(UTC) + timedelta(seconds=rng.choice([1.0, 30.0]))
                    otps[text] = valid
                    phone = sim.phones[rng.randrange(3)]
                    await outbox.enqueue(
                        NewMessage(
                            MessageClass.OTP,
                            Channel.SMS,
                            phone.number,
                            text,
                            "fr",
                            valid_until=valid,
                        )
                    )
                for i in range(ALERTS_PER_ROUND):
                    text = f"Alerte {round_no}-{i}: fermeture de la rue Principale."
                    alerts.add(text)
                    phone = sim.phones[3 + rng.randrange(3)]
                    await outbox.enqueue(
                        NewMessage(MessageClass.ALERT, Channel.SMS, phone.number, text, "fr")
                    )
                for i in range(INBOUND_PER_ROUND):
                    text = f"Signalement {round_no}-{i}"
                    phone = sim.phones[rng.randrange(6)]
                    inbound.append((phone.number, text))
                    await phone.send_sms(sim.modems[i % 2].number, text)
                process = await start_gateway(config)
                await asyncio.sleep(rng.uniform(0.3, 1.8))
                process.send_signal(signal.SIGKILL)
                await process.wait()

            # A last run, stopped cleanly once everything is settled.
            process = await start_gateway(config)
            try:
                async with asyncio.timeout(60):
                    while True:
                        counts = await outbox.counts_by_state()
                        busy = counts.get(MessageState.QUEUED, 0) + counts.get(
                            MessageState.SENDING, 0
                        )
                        stored = await _all_inbound(db)
                        routing = await inbox.unprocessed_inbound(limit=1)
                        if busy == 0 and len(stored) >= len(inbound) and not routing:
                            break
                        await asyncio.sleep(0.2)
            finally:
                process.send_signal(signal.SIGTERM)
                await process.wait()
            assert process.returncode == 0

            sent = [e for e in sim.network.log if e["event"] == "message"]
            sent_texts = [str(e["text"]) for e in sent]
            for text, valid_until in otps.items():
                copies = [e for e in sent if e["text"] == text]
                assert len(copies) <= 1, f"OTP sent twice: {text}"
                for copy in copies:
                    when = datetime.fromisoformat(str(copy["time"]))
                    assert when <= valid_until + SEND_SLACK, f"OTP sent after valid_until: {text}"
            for text in alerts:
                assert text in sent_texts, f"alert lost: {text}"
            assert sorted(await _all_inbound(db)) == sorted(inbound)
            counts = await outbox.counts_by_state()
            # The phones are not residents: each got the router's registration notice, once
            # (one a day), however often the gateway was killed mid-routing.
            async with db.read() as conn:
                replies = list(
                    await conn.execute_fetchall(
                        "SELECT destination, count(*) FROM message WHERE class = 'reply'"
                        " GROUP BY destination"
                    )
                )
            assert all(int(row[1]) == 1 for row in replies)
            assert sum(counts.values()) == len(otps) + len(alerts) + len(replies)
            duplicates = len(sent_texts) - len(set(sent_texts))
            print(f"states {dict(counts)}; alert duplicates after crashes: {duplicates}")
            assert await db.integrity_check() == ["ok"]
        finally:
            await db.close()


async def _all_inbound(db: Database) -> list[tuple[str, str]]:
    """Every stored inbound SMS, routed or not: (sender, body)."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT sender, body FROM inbound")
    return [(str(r[0]), str(r[1])) for r in rows]
