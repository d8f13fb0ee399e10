"""The dispatcher on simulated modems: messages flow, priorities hold, reports roll up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.service import Gateway
from modem.simulator import Simulator


def sms(cls: MessageClass, to: str, body: str, **kwargs: object) -> NewMessage:
    return NewMessage(cls, Channel.SMS, to, body, "fr", **kwargs)  # type: ignore[arg-type]


async def wait_state(
    gw: Gateway, message_id: int, *states: MessageState, timeout: float = 10
) -> None:
    async with asyncio.timeout(timeout):
        while True:
            message = await gw.outbox.get(message_id)
            assert message is not None
            if message.state in states:
                return
            await asyncio.sleep(0.02)


async def test_messages_reach_phones_and_are_delivered(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    otp = await gateway.outbox.enqueue(sms(MessageClass.OTP, phone.number, "Code: 123456"))
    alert = await gateway.outbox.enqueue(
        sms(MessageClass.ALERT, phone.number, "Avis d'ébullition préventive. " * 8)
    )
    await wait_state(gateway, otp, MessageState.DELIVERED)
    await wait_state(gateway, alert, MessageState.DELIVERED)
    texts = [m.text for m in phone.inbox]
    assert "Code: 123456" in texts
    assert "Avis d'ébullition préventive. " * 8 in texts
    parts = await gateway.outbox.parts(alert)
    assert len(parts) == 2


async def test_otp_jumps_an_alert_backlog(sim: Simulator, tmp_path) -> None:
    from tests.gateway.conftest import make_config, modem_settings

    async with Gateway(make_config(tmp_path), modem_settings(sim)) as gw:
        for i in range(40):
            await gw.outbox.enqueue(
                sms(MessageClass.ALERT, sim.phones[i % 3].number, f"Alerte {i}")
            )
        await asyncio.sleep(0.05)
        otp = await gw.outbox.enqueue(sms(MessageClass.OTP, sim.phones[3].number, "Code: 999999"))
        await wait_state(gw, otp, MessageState.SENT, MessageState.DELIVERED)
        counts = await gw.outbox.counts_by_state()
        # Two modems: at most two alerts were in flight and a few done when the OTP went out.
        assert counts.get(MessageState.QUEUED, 0) > 20


async def wait_ready(gw: Gateway, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not all(w.status.health.value == "ready" for w in gw.pool.workers):
            await asyncio.sleep(0.02)


async def test_expired_message_is_never_sent(gateway: Gateway, sim: Simulator) -> None:
    await wait_ready(gateway)
    past = datetime.now(UTC) - timedelta(seconds=1)
    message_id = await gateway.outbox.enqueue(
        sms(MessageClass.OTP, sim.phones[1].number, "Code: 000000", valid_until=past)
    )
    await wait_state(gateway, message_id, MessageState.EXPIRED)
    message = await gateway.outbox.get(message_id)
    assert message is not None
    assert message.state is MessageState.EXPIRED
    assert all(m.text != "Code: 000000" for m in sim.phones[1].inbox)


async def test_inbound_is_committed(gateway: Gateway, sim: Simulator) -> None:
    events = gateway.bus.subscribe({"inbound"})
    await sim.phones[2].send_sms(sim.modems[0].number, "Bonjour la mairie")
    event = await events.next(timeout=10)
    stored = await gateway.inbox.get_inbound(int(event.data["id"]))  # type: ignore[call-overload]
    assert stored is not None
    assert stored.body == "Bonjour la mairie"
    assert stored.sender == sim.phones[2].number
    events.close()
