"""Webhooks against a real HTTP receiver on loopback: signatures, retries with backoff,
deliveries that survive a restart, giving up, and a hung receiver that holds up no other."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import config as config_module
from gateway.config import ConfigError
from gateway.outbox import Channel, MessageClass, NewMessage
from gateway.service import Gateway
from gateway.storage.outbox_models import PartRef
from gateway.webhooks import signing
from gateway.webhooks.settings import WebhookSettings
from modem.types import ReceivedSms
from tests.api.receiver import SECRET, running_receiver


def make_config(tmp_path: Path, urls: list[str], **overrides: Any) -> config_module.Config:
    values: dict[str, Any] = {
        "storage.path": str(tmp_path / "tocsin.sqlite"),
        "webhooks.urls": urls,
        "webhooks.secret": SECRET,
        "webhooks.retry_base_s": 0.05,
        "webhooks.retry_max_s": 0.2,
        "webhooks.timeout_s": 5.0,
    }
    values.update(overrides)
    return config_module.from_mapping({}, values)


def inbound_sms(text: str = "Il y a un arbre tombé rue Principale") -> ReceivedSms:
    return ReceivedSms(
        modem="sim0",
        sender="+15145550142",
        text=text,
        timestamp=datetime(2026, 4, 12, 8, 30, tzinfo=UTC),
        parts_expected=1,
        parts_received=1,
        complete=True,
        concat_reference=None,
        pdus=(f"07911{abs(hash(text)):X}",),
    )


async def sent_by_the_network(
    gateway: Gateway, message_class: MessageClass, number: str, *, announce: bool = True
) -> int:
    """A message claimed and accepted by the network as a modem worker would record it, and
    (when `announce`) the event the worker publishes after that commit."""
    message_id = await gateway.outbox.enqueue(
        NewMessage(message_class, Channel.SMS, number, "Bonjour", "fr")
    )
    claimed = await gateway.outbox.claim_next("sim0", [Channel.SMS])
    assert claimed is not None
    assert claimed.id == message_id
    message = await gateway.outbox.mark_sent(message_id, [PartRef("sim0", 1, message_id % 256)])
    if announce:
        gateway.bus.publish_message(message, modem="sim0")
    return message_id


async def api_message_sent(gateway: Gateway) -> int:
    """An API message the network took, announced on the bus."""
    return await sent_by_the_network(gateway, MessageClass.API, "+15145550199")


async def settled(gateway: Gateway, count: int = 1) -> list[Any]:
    """The delivery rows once `count` of them are delivered or failed (the receiver has
    answered before the gateway records it)."""
    async with asyncio.timeout(10):
        while True:
            rows = await gateway.webhooks.store.all()
            if sum(r.state != "pending" for r in rows) >= count:
                return rows
            await asyncio.sleep(0.02)


# ---- signatures


def test_a_signature_verifies_and_a_changed_byte_does_not() -> None:
    body = b'{"id":"sms.received:1"}'
    value = signing.header(SECRET, body, timestamp=1_767_225_600)
    assert signing.verify(SECRET, value, body, now=1_767_225_600 + 10)
    assert not signing.verify(SECRET, value, body + b" ", now=1_767_225_600)
    assert not signing.verify("another secret!!", value, body, now=1_767_225_600)
    # Too old: a captured delivery cannot be replayed later.
    assert not signing.verify(SECRET, value, body, now=1_767_225_600 + 301)
    for broken in ("", "v1=abc", "t=x,v1=abc", "t=1767225600"):
        assert not signing.verify(SECRET, broken, body, now=1_767_225_600)
    # A receiver rotating secrets may be sent two v1 values; either matching is enough.
    other = signing.signature("old secret", 1_767_225_600, body)
    assert signing.verify(SECRET, f"{value},v1={other}", body, now=1_767_225_600)


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=199), st.integers(1, 255))
def test_any_changed_byte_breaks_the_signature(body: bytes, index: int, flip: int) -> None:
    now = int(time.time())
    value = signing.header(SECRET, body, timestamp=now)
    assert signing.verify(SECRET, value, body, now=now)
    if body:
        changed = bytearray(body)
        changed[index % len(body)] ^= flip
        assert not signing.verify(SECRET, value, bytes(changed), now=now)


def test_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ConfigError, match=r"webhooks\.secret"):
        WebhookSettings(urls=("http://10.0.0.5/hook",), secret="short")
    with pytest.raises(ConfigError, match=r"webhooks\.urls"):
        WebhookSettings(urls=("ftp://10.0.0.5/hook",), secret=SECRET)
    with pytest.raises(ConfigError, match=r"webhooks\.events"):
        WebhookSettings(urls=(), events=frozenset({"sms.sent"}))
    settings = WebhookSettings(retry_base=WebhookSettings().retry_base)
    assert [settings.retry_after(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert settings.retry_after(20) == settings.retry_max


async def test_a_gateway_with_a_bad_webhook_setting_does_not_start(tmp_path: Path) -> None:
    config = make_config(tmp_path, ["http://127.0.0.1:9/hook"], **{"webhooks.secret": ""})
    with pytest.raises(ConfigError, match=r"webhooks\.secret"):
        await Gateway(config, ()).start()


# ---- deliveries


async def test_signed_posts_are_retried_until_the_receiver_accepts(tmp_path: Path) -> None:
    async with running_receiver(fail_first=2) as receiver:
        async with Gateway(make_config(tmp_path, [receiver.url]), ()) as gateway:
            await gateway._store_inbound(inbound_sms())
            good = await receiver.wait_for(1)
            rows = await settled(gateway)
        assert [p.answered for p in receiver.posts] == [500, 500, 200]
        assert all(p.signature_ok for p in receiver.posts)
        assert {p.event_id for p in receiver.posts} == {good[0].event_id}
        body = good[0].body
        assert body["type"] == "sms.received"
        assert body["id"] == good[0].event_id
        assert body["data"]["from"] == "+15145550142"
        assert body["data"]["text"] == "Il y a un arbre tombé rue Principale"
        assert good[0].event == "sms.received"
        assert [(r.state, r.attempts, r.last_status) for r in rows] == [("delivered", 3, 200)]


async def test_api_message_states_are_posted_and_other_classes_are_not(tmp_path: Path) -> None:
    async with running_receiver() as receiver:
        async with Gateway(make_config(tmp_path, [receiver.url]), ()) as gateway:
            await sent_by_the_network(gateway, MessageClass.ALERT, "+15145550198")
            message_id = await api_message_sent(gateway)
            posts = await receiver.wait_for(1)
            await asyncio.sleep(0.1)  # nothing else arrives
        assert len(receiver.posts) == 1
        assert posts[0].body["type"] == "message.status"
        assert posts[0].body["data"]["id"] == message_id
        assert posts[0].body["data"]["state"] == "sent"
        assert posts[0].event_id == f"message.status:{message_id}:sent"


async def test_a_pending_delivery_survives_a_restart(tmp_path: Path) -> None:
    async with running_receiver(fail_first=10**6) as receiver:
        config = make_config(tmp_path, [receiver.url], **{"webhooks.retry_base_s": 0.3})
        async with Gateway(config, ()) as gateway:
            await gateway._store_inbound(inbound_sms("Panne de courant"))
            # Until the failed attempt is recorded (the receiver sees the POST before the
            # gateway reads its answer; a stop in between leaves that attempt uncounted).
            async with asyncio.timeout(10):
                while not any(r.attempts for r in await gateway.webhooks.store.all()):
                    await asyncio.sleep(0.02)
        # Stopped after a failed attempt: the row waits in SQLite, not in memory.
        receiver.fail_first = len(receiver.posts)
        async with Gateway(config, ()) as gateway:
            await receiver.wait_for(1)
            rows = await settled(gateway)
        assert len(receiver.good) == 1
        assert receiver.good[0].body["data"]["text"] == "Panne de courant"
        assert rows[0].state == "delivered"
        assert rows[0].attempts == len(receiver.posts)


async def test_a_delivery_is_given_up_after_max_attempts(tmp_path: Path) -> None:
    async with running_receiver(fail_first=10**6) as receiver:
        config = make_config(tmp_path, [receiver.url], **{"webhooks.max_attempts": 3})
        async with Gateway(config, ()) as gateway:
            alarms = gateway.bus.subscribe({"alarm"})
            await gateway._store_inbound(inbound_sms())
            alarm = await alarms.next(timeout=10)
            alarms.close()
            rows = await settled(gateway)
        assert "webhook" in str(alarm.data["reason"])
        assert len(receiver.posts) == 3
        assert [(r.state, r.attempts, r.last_status) for r in rows] == [("failed", 3, 500)]


async def test_a_hung_receiver_holds_up_no_other(tmp_path: Path) -> None:
    async with (
        running_receiver(hang=True) as hung,
        running_receiver() as healthy,
        Gateway(make_config(tmp_path, [hung.url, healthy.url]), ()) as gateway,
    ):
        for n in range(3):
            await gateway._store_inbound(inbound_sms(f"Message {n}"))
        posts = await healthy.wait_for(3)
        assert sorted(p.body["data"]["text"] for p in posts) == [f"Message {n}" for n in range(3)]
        rows = await gateway.webhooks.store.all()
        pending = [r for r in rows if r.url == hung.url]
        assert [r.state for r in pending] == ["pending"] * 3
        assert all(r.attempts == 0 for r in pending)


async def test_nothing_is_stored_without_receivers(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, [], **{"webhooks.secret": ""}), ()) as gateway:
        await gateway._store_inbound(inbound_sms())
        await api_message_sent(gateway)
        await asyncio.sleep(0.05)
        assert await gateway.webhooks.store.all() == []


async def test_only_the_configured_events_are_posted(tmp_path: Path) -> None:
    async with running_receiver() as receiver:
        config = make_config(tmp_path, [receiver.url], **{"webhooks.events": ["message.status"]})
        async with Gateway(config, ()) as gateway:
            await gateway._store_inbound(inbound_sms())
            await api_message_sent(gateway)
            posts = await receiver.wait_for(1)
        assert [p.event for p in posts] == ["message.status"]
        assert json.dumps(posts[0].body)  # a plain JSON object


def test_the_readme_recipe_verifies_our_signatures() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\nimport hashlib, hmac, time")
    code = readme[start + len("```python\n") : readme.index("```", start + 10)]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    body = b'{"id":"sms.received:7","type":"sms.received"}'
    value = signing.header(SECRET, body)
    assert namespace["verify"](SECRET, value, body)
    assert not namespace["verify"](SECRET, value, body[:-1])
    assert not namespace["verify"]("autre secret partagé", value, body)
    old = signing.header(SECRET, body, timestamp=int(time.time()) - 600)
    assert not namespace["verify"](SECRET, old, body)


async def test_inbound_sms_missed_by_a_stop_are_caught_up(tmp_path: Path) -> None:
    async with running_receiver() as receiver:
        on = make_config(tmp_path, [receiver.url])
        off = make_config(tmp_path, [], **{"webhooks.secret": ""})
        # Before webhooks ever ran: history is not back-filled.
        async with Gateway(off, ()) as gateway:
            await gateway._store_inbound(inbound_sms("Avant les webhooks"))
        async with Gateway(on, ()) as gateway:
            await gateway._store_inbound(inbound_sms("Pendant"))
            await receiver.wait_for(1)
        # Stored while nothing turned it into a webhook (a stop at the wrong moment).
        async with Gateway(off, ()) as gateway:
            await gateway._store_inbound(inbound_sms("Pendant l'arrêt"))
        async with Gateway(on, ()) as gateway:
            posts = await receiver.wait_for(2)
            await settled(gateway, 2)
        assert [p.body["data"]["text"] for p in posts] == ["Pendant", "Pendant l'arrêt"]


async def test_a_message_state_committed_before_a_stop_is_posted_after_it(tmp_path: Path) -> None:
    """The outbox commits `sent`, then the process dies before the webhook was queued (no bus
    event, nothing in webhook_delivery): the next start posts it, then `delivered`, once each."""
    async with running_receiver() as receiver:
        on = make_config(tmp_path, [receiver.url])
        async with Gateway(on, ()) as gateway:
            first = await api_message_sent(gateway)
            await receiver.wait_for(1)
            await settled(gateway)
            # The listener stops first, as if the process died right after the commit.
            await gateway.webhooks.stop()
            message_id = await sent_by_the_network(
                gateway, MessageClass.API, "+15145550177", announce=False
            )
            await sent_by_the_network(gateway, MessageClass.ALERT, "+15145550176", announce=False)
            assert len(await gateway.webhooks.store.all()) == 1
        async with Gateway(on, ()) as gateway:
            posts = await receiver.wait_for(2)
            await settled(gateway, 2)
            delivered = await gateway.outbox.record_status_report("sim0", message_id % 256, 0)
            assert delivered is not None
            assert delivered.state.value == "delivered"
            gateway.bus.publish_message(delivered, modem="sim0")
            posts = await receiver.wait_for(3)
            await settled(gateway, 3)
        async with Gateway(on, ()) as gateway:  # a third start finds nothing left to post
            await asyncio.sleep(0.1)
            rows = await gateway.webhooks.store.all()
        assert [p.event_id for p in posts] == [
            f"message.status:{first}:sent",
            f"message.status:{message_id}:sent",
            f"message.status:{message_id}:delivered",
        ]
        assert len(receiver.posts) == 3
        assert [p.body["data"]["state"] for p in posts] == ["sent", "sent", "delivered"]
        assert all(p.signature_ok for p in posts)
        assert [r.state for r in rows] == ["delivered"] * 3


async def test_a_dropped_bus_event_loses_no_message_state(tmp_path: Path) -> None:
    """States committed with no event (a bus that dropped it) go out with the next one."""
    async with (
        running_receiver() as receiver,
        Gateway(make_config(tmp_path, [receiver.url]), ()) as gateway,
    ):
        quiet = await sent_by_the_network(gateway, MessageClass.API, "+15145550166", announce=False)
        loud = await api_message_sent(gateway)
        posts = await receiver.wait_for(2)
    assert sorted(p.event_id for p in posts) == sorted(
        [f"message.status:{quiet}:sent", f"message.status:{loud}:sent"]
    )


async def test_message_states_before_webhooks_ever_ran_are_not_back_filled(
    tmp_path: Path,
) -> None:
    async with running_receiver() as receiver:
        off = make_config(tmp_path, [], **{"webhooks.secret": ""})
        async with Gateway(off, ()) as gateway:
            await api_message_sent(gateway)
        async with Gateway(make_config(tmp_path, [receiver.url]), ()) as gateway:
            later = await api_message_sent(gateway)
            posts = await receiver.wait_for(1)
            await asyncio.sleep(0.1)
            assert gateway.db is not None
            left = await gateway.db.read_fn(
                lambda conn: conn.execute("SELECT count(*) FROM api_message_event").fetchone()[0]
            )
        assert [p.event_id for p in receiver.posts] == [f"message.status:{later}:sent"]
        assert posts[0].body["data"]["id"] == later
        assert left == 0  # rows go once their delivery is queued
