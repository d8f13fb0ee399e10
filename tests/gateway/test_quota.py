"""Per-SIM caps: a SIM's daily count survives a restart of the gateway."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.config import ModemSettings
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.quota import QuotaLimits, SendQuota
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.gateway.conftest import make_config


def alert(to: str, text: str) -> NewMessage:
    return NewMessage(MessageClass.ALERT, Channel.SMS, to, text, "fr")


def test_windows_and_remaining() -> None:
    quota = SendQuota(QuotaLimits(per_minute=2, per_day=3))
    quota.record(1000.0)
    quota.record(1001.0)
    assert quota.available_at(1002.0) == 1060.0  # the minute window is full until 1060
    assert quota.remaining(1002.0) == {"minute": 0, "hour": None, "day": 1}
    quota.record(1070.0)
    assert quota.available_at(1080.0) == 1000.0 + 86400.0
    assert quota.available_at(1080.0, parts=4) == float("inf")  # never fits the day cap


async def test_daily_cap_survives_a_restart(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, scale=0.01) as sim:
        settings = (ModemSettings(port=sim.modems[0].port, name="capped", per_day=2),)
        config = make_config(tmp_path)
        phone = sim.phones[0].number
        async with Gateway(config, settings) as gw:
            first = [await gw.outbox.enqueue(alert(phone, f"cap {i}")) for i in range(2)]
            async with asyncio.timeout(10):
                while True:
                    states = [(await gw.outbox.get(i)).state for i in first]  # type: ignore[union-attr]
                    if MessageState.QUEUED not in states and MessageState.SENDING not in states:
                        break
                    await asyncio.sleep(0.02)
        async with Gateway(config, settings) as gw:
            third = await gw.outbox.enqueue(alert(phone, "cap 2"))
            await asyncio.sleep(1.0)
            message = await gw.outbox.get(third)
            assert message is not None
            assert message.state is MessageState.QUEUED  # the SIM already sent its 2 today
            assert gw.pool.workers[0].quota.remaining(time.time())["day"] == 0


async def test_a_message_too_long_for_the_caps_fails_clearly(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, scale=0.01) as sim:
        settings = (ModemSettings(port=sim.modems[0].port, name="tiny", per_minute=1),)
        async with Gateway(make_config(tmp_path), settings) as gw:
            long_id = await gw.outbox.enqueue(alert(sim.phones[0].number, "x" * 200))
            async with asyncio.timeout(10):
                while (message := await gw.outbox.get(long_id)) and message.state not in (
                    MessageState.FAILED,
                    MessageState.SENT,
                ):
                    await asyncio.sleep(0.02)
            assert message is not None
            assert message.state is MessageState.FAILED
            assert "exceed this SIM's send caps" in (message.last_error or "")
