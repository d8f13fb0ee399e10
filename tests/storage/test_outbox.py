"""The outbox's rules: priority, FIFO, validity, retries, reports, recovery, cancellation."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from gateway.outbox import (
    Channel,
    MessageClass,
    MessageState,
    NewMessage,
    Outbox,
    PartRef,
    PartState,
    classify_status,
)
from gateway.storage import Database, TransitionError
from gateway.storage import outbox_sql as sql
from gateway.storage.times import to_ms
from tests.storage.conftest import FakeClock, message

SMS = {Channel.SMS}
DELIVERED = 0x00
PENDING = 0x21  # congestion, the SC keeps trying
PERMANENT = 0x41  # incompatible destination
GAVE_UP = 0x62  # temporary error, the SC stopped trying
# EXPLAIN QUERY PLAN steps that would read every row of message (aliases m and q).
FULL_SCANS = [["SCAN", "message"], ["SCAN", "m"], ["SCAN", "q"]]


async def claim(outbox: Outbox, channels: set[Channel] = SMS) -> int:
    claimed = await outbox.claim_next("modem0", channels)
    assert claimed is not None
    return claimed.id


async def state_of(outbox: Outbox, message_id: int) -> MessageState:
    found = await outbox.get(message_id)
    assert found is not None
    return found.state


async def test_idempotency_key_returns_the_first_id(outbox: Outbox) -> None:
    first = await outbox.enqueue(message(key="otp:42"))
    again = await outbox.enqueue(message(key="otp:42", body="different"))
    other = await outbox.enqueue(message(key="otp:43"))
    assert again == first != other
    stored = await outbox.get(first)
    assert stored is not None
    assert stored.body == "Avis d'ébullition"
    assert (await outbox.counts_by_state())[MessageState.QUEUED] == 2


def test_destination_must_be_e164() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        message(destination="514-555-0100")


async def test_otp_after_ten_thousand_alerts_goes_first(outbox: Outbox) -> None:
    alerts = (message(destination=f"+1514{n:07d}") for n in range(10_000))
    assert await outbox.enqueue_many(7, alerts) == 10_000
    otp = await outbox.enqueue(message(MessageClass.OTP))
    assert await claim(outbox) == otp


async def test_classes_are_claimed_in_priority_order(outbox: Outbox, clock: FakeClock) -> None:
    order = [
        MessageClass.OTP,
        MessageClass.RELAY,
        MessageClass.REPLY,
        MessageClass.ALERT,
        MessageClass.API,
    ]
    ids = {}
    for message_class in reversed(order):  # the lowest priority is the oldest
        ids[message_class] = await outbox.enqueue(message(message_class))
        clock.advance(seconds=1)
    assert [await claim(outbox) for _ in order] == [ids[c] for c in order]


async def test_fifo_within_a_class(outbox: Outbox, clock: FakeClock) -> None:
    first = await outbox.enqueue(message())
    same_ms = await outbox.enqueue(message())
    clock.advance(seconds=1)
    later = await outbox.enqueue(message())
    assert [await claim(outbox) for _ in range(3)] == [first, same_ms, later]
    assert await outbox.claim_next("modem0", SMS) is None


async def test_channels_are_respected(outbox: Outbox) -> None:
    voice = await outbox.enqueue(message(MessageClass.OTP, channel=Channel.VOICE))
    sms = await outbox.enqueue(message(MessageClass.ALERT))
    assert await claim(outbox, SMS) == sms
    assert await outbox.claim_next("modem0", SMS) is None
    assert await claim(outbox, {Channel.SMS, Channel.VOICE}) == voice


async def test_nothing_is_claimed_after_valid_until(outbox: Outbox, clock: FakeClock) -> None:
    otp = await outbox.enqueue(
        message(MessageClass.OTP, valid_until=clock.now + timedelta(minutes=5))
    )
    clock.advance(minutes=5)  # valid_until is exclusive
    assert await outbox.claim_next("modem0", SMS) is None
    stored = await outbox.get(otp)
    assert stored is not None
    assert stored.state == MessageState.EXPIRED
    assert stored.attempts == 0
    assert stored.finished_at == clock.now


async def test_retry_waits_for_its_due_time(outbox: Outbox, clock: FakeClock) -> None:
    alert = await outbox.enqueue(message())
    assert await claim(outbox) == alert
    retry_at = clock.now + timedelta(seconds=60)
    retried = await outbox.schedule_retry(alert, retry_at, "+CMS ERROR: 38")
    assert retried.state == MessageState.QUEUED
    assert retried.last_error == "+CMS ERROR: 38"
    assert await outbox.next_due_time(SMS) == retry_at
    clock.advance(seconds=59)
    assert await outbox.claim_next("modem0", SMS) is None
    clock.advance(seconds=1)
    claimed = await outbox.claim_next("modem1", SMS)
    assert claimed is not None
    assert claimed.id == alert
    assert claimed.attempts == 2
    assert claimed.modem == "modem1"


async def test_a_retry_past_valid_until_expires(outbox: Outbox, clock: FakeClock) -> None:
    otp = await outbox.enqueue(
        message(MessageClass.OTP, valid_until=clock.now + timedelta(minutes=1))
    )
    await claim(outbox)
    retried = await outbox.schedule_retry(otp, clock.now + timedelta(minutes=2), "no signal")
    assert retried.state == MessageState.EXPIRED


async def test_next_due_time_is_none_when_empty(outbox: Outbox) -> None:
    assert await outbox.next_due_time(SMS) is None
    assert await outbox.next_due_time(set()) is None


async def test_scheduled_message_waits_for_not_before(outbox: Outbox, clock: FakeClock) -> None:
    later = clock.now + timedelta(hours=1)
    await outbox.enqueue(message(not_before=later))
    assert await outbox.claim_next("modem0", SMS) is None
    assert await outbox.next_due_time(SMS) == later


async def test_multipart_delivery_rolls_up(outbox: Outbox) -> None:
    alert = await outbox.enqueue(message())
    await claim(outbox)
    parts = [PartRef("modem0", n, 10 + n) for n in (1, 2, 3)]
    sent = await outbox.mark_sent(alert, parts)
    assert sent.state == MessageState.SENT
    assert sent.sent_at is not None
    first = await outbox.record_status_report("modem0", 11, DELIVERED)
    assert first is not None
    assert first.state == MessageState.SENT
    pending = await outbox.record_status_report("modem0", 12, PENDING)
    assert pending is not None
    assert pending.state == MessageState.SENT
    await outbox.record_status_report("modem0", 12, DELIVERED)
    done = await outbox.record_status_report("modem0", 13, DELIVERED)
    assert done is not None
    assert done.state == MessageState.DELIVERED
    states = [part.state for part in await outbox.parts(alert)]
    assert states == [PartState.DELIVERED] * 3


@pytest.mark.parametrize("status", [PERMANENT, GAVE_UP])
async def test_one_failed_part_fails_the_message(outbox: Outbox, status: int) -> None:
    alert = await outbox.enqueue(message())
    await claim(outbox)
    await outbox.mark_sent(alert, [PartRef("modem0", 1, 1), PartRef("modem0", 2, 2)])
    failed = await outbox.record_status_report("modem0", 2, status)
    assert failed is not None
    assert failed.state == MessageState.FAILED
    assert failed.last_error == f"status report TP-ST 0x{status:02X}"
    late = await outbox.record_status_report("modem0", 1, DELIVERED)
    assert late is not None
    assert late.state == MessageState.FAILED


async def test_mr_wrap_around_matches_the_newest_part(outbox: Outbox, clock: FakeClock) -> None:
    old = await outbox.enqueue(message(destination="+15145550101"))
    new = await outbox.enqueue(message(destination="+15145550102"))
    await claim(outbox)
    await outbox.mark_sent(old, [PartRef("modem0", 1, 7)])
    clock.advance(minutes=30)  # 256 parts later the MR comes round again
    await claim(outbox)
    await outbox.mark_sent(new, [PartRef("modem0", 1, 7)])
    matched = await outbox.record_status_report("modem0", 7, DELIVERED)
    assert matched is not None
    assert matched.id == new
    assert await state_of(outbox, old) == MessageState.SENT
    # The recipient named in the report, when given, overrides recency.
    by_recipient = await outbox.record_status_report(
        "modem0", 7, DELIVERED, recipient="+15145550101"
    )
    assert by_recipient is not None
    assert by_recipient.id == old


async def test_report_for_another_modem_or_unknown_mr_matches_nothing(outbox: Outbox) -> None:
    alert = await outbox.enqueue(message())
    await claim(outbox)
    await outbox.mark_sent(alert, [PartRef("modem0", 1, 7)])
    assert await outbox.record_status_report("modem1", 7, DELIVERED) is None
    assert await outbox.record_status_report("modem0", 8, DELIVERED) is None
    assert await state_of(outbox, alert) == MessageState.SENT


async def test_a_report_that_beats_mark_sent_is_applied(outbox: Outbox) -> None:
    alert = await outbox.enqueue(message())
    await claim(outbox)
    assert await outbox.record_status_report("modem0", 9, DELIVERED) is None
    sent = await outbox.mark_sent(alert, [PartRef("modem0", 1, 9)])
    assert sent.state == MessageState.DELIVERED


def test_tp_st_classification() -> None:
    assert classify_status(0x00) == PartState.DELIVERED
    assert classify_status(0x1F) == PartState.DELIVERED
    assert classify_status(0x20) is None
    assert classify_status(0x3F) is None
    assert classify_status(0x40) == PartState.FAILED
    assert classify_status(0x7F) == PartState.FAILED
    with pytest.raises(ValueError, match="octet"):
        classify_status(256)


async def test_recovery_rules_per_class(outbox: Outbox, clock: FakeClock) -> None:
    ids = {
        "otp": await outbox.enqueue(message(MessageClass.OTP)),
        "relay": await outbox.enqueue(message(MessageClass.RELAY)),
        "reply": await outbox.enqueue(message(MessageClass.REPLY)),
        "alert": await outbox.enqueue(message(MessageClass.ALERT)),
        "api": await outbox.enqueue(message(MessageClass.API)),
        "api_keyed": await outbox.enqueue(message(MessageClass.API, key="client-1")),
    }
    for _ in ids:
        await claim(outbox)  # all left in `sending` by the "crash"
    stale = await outbox.enqueue(message(valid_until=clock.now + timedelta(minutes=1)))
    clock.advance(minutes=2)
    report = await outbox.recover_after_restart()
    assert (report.requeued, report.unknown, report.expired) == (2, 4, 1)
    expected = {
        "otp": MessageState.UNKNOWN,
        "relay": MessageState.UNKNOWN,
        "reply": MessageState.UNKNOWN,
        "alert": MessageState.QUEUED,
        "api": MessageState.QUEUED,
        "api_keyed": MessageState.UNKNOWN,
    }
    assert {name: await state_of(outbox, ids[name]) for name in ids} == expected
    assert await state_of(outbox, stale) == MessageState.EXPIRED
    # The resend goes out again; the OTP never does.
    resent = {await claim(outbox), await claim(outbox)}
    assert resent == {ids["alert"], ids["api"]}
    assert await outbox.claim_next("modem0", SMS) is None


async def test_mark_unknown_applies_the_class_policy(outbox: Outbox, clock: FakeClock) -> None:
    otp = await outbox.enqueue(message(MessageClass.OTP))
    alert = await outbox.enqueue(message(MessageClass.ALERT))
    await claim(outbox)
    await claim(outbox)
    assert (await outbox.mark_unknown(otp, "no answer to AT+CMGS")).state == MessageState.UNKNOWN
    retry_at = clock.now + timedelta(seconds=30)
    requeued = await outbox.mark_unknown(alert, "no answer to AT+CMGS", retry_at=retry_at)
    assert requeued.state == MessageState.QUEUED
    assert requeued.next_attempt_at == retry_at


async def test_release_requeues_in_place(outbox: Outbox, clock: FakeClock) -> None:
    first = await outbox.enqueue(message())
    clock.advance(seconds=1)
    second = await outbox.enqueue(message())
    await claim(outbox)
    released = await outbox.release(first)
    assert released.state == MessageState.QUEUED
    assert released.attempts == 1
    assert await claim(outbox) == first
    assert await claim(outbox) == second


async def test_cancel_campaign_leaves_sent_and_sending_alone(outbox: Outbox) -> None:
    ids = [await outbox.enqueue(message(campaign_id=3)) for _ in range(4)]
    other = await outbox.enqueue(message(campaign_id=4))
    await claim(outbox)
    await outbox.mark_sent(ids[0], [PartRef("modem0", 1, 1)])
    await claim(outbox)  # ids[1] is sending
    assert await outbox.cancel_campaign(3) == 2
    states = [await state_of(outbox, message_id) for message_id in ids]
    assert states == [
        MessageState.SENT,
        MessageState.SENDING,
        MessageState.CANCELLED,
        MessageState.CANCELLED,
    ]
    assert await state_of(outbox, other) == MessageState.QUEUED
    counts = await outbox.counts_by_state(campaign_id=3)
    assert counts[MessageState.CANCELLED] == 2
    assert counts[MessageState.QUEUED] == 0
    assert await outbox.cancel(ids[1]) is False
    assert await outbox.cancel(other) is True


async def test_enqueue_many_from_an_async_source_is_resumable(outbox: Outbox) -> None:
    async def residents(count: int) -> AsyncIterator[NewMessage]:
        for n in range(count):
            yield message(destination=f"+1819555{n:04d}", key=f"campaign:9:{n}")

    assert await outbox.enqueue_many(9, residents(1200), batch_size=500) == 1200
    # Run again after a "crash" half-way: nothing is duplicated, the rest is added.
    assert await outbox.enqueue_many(9, residents(1500), batch_size=500) == 300
    assert (await outbox.counts_by_state(campaign_id=9))[MessageState.QUEUED] == 1500
    assert (await outbox.queue_depth_by_class())[MessageClass.ALERT] == 1500


async def test_a_failing_source_commits_whole_batches_only(outbox: Outbox) -> None:
    def residents() -> Iterator[NewMessage]:
        for n in range(250):
            yield message(destination=f"+1819555{n:04d}")
        raise RuntimeError("resident table unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        await outbox.enqueue_many(5, residents(), batch_size=100)
    queued = (await outbox.counts_by_state(campaign_id=5))[MessageState.QUEUED]
    assert queued in (100, 200)  # the batch in flight may or may not have committed


async def test_transitions_out_of_terminal_states_are_refused(outbox: Outbox, db: Database) -> None:
    otp = await outbox.enqueue(message(MessageClass.OTP))
    with pytest.raises(TransitionError, match="it is queued"):
        await outbox.mark_sent(otp, [PartRef("modem0", 1, 1)])
    with pytest.raises(TransitionError, match="no such message"):
        await outbox.mark_failed(999, "nope")
    await claim(outbox)
    await outbox.mark_failed(otp, "+CMS ERROR: 21")
    # Even raw SQL cannot revive it: the trigger checks message_transition.
    with pytest.raises(sqlite3.IntegrityError, match="transition not allowed"):
        async with db.write() as conn:
            await conn.execute("UPDATE message SET state = 'queued' WHERE id = ?", (otp,))
    with pytest.raises(sqlite3.IntegrityError, match="never decrease"):
        async with db.write() as conn:
            await conn.execute("UPDATE message SET attempts = 0 WHERE id = ?", (otp,))


async def test_listeners_hear_about_new_work(outbox: Outbox) -> None:
    calls: list[str] = []
    remove = outbox.add_listener(lambda: calls.append("woken"))
    await outbox.enqueue(message())
    await outbox.enqueue_many(1, [message(), message()])
    remove()
    await outbox.enqueue(message())
    assert calls == ["woken", "woken"]


async def test_claim_and_expiry_use_their_indexes(outbox: Outbox, db: Database) -> None:
    await outbox.enqueue_many(1, (message(destination=f"+1514{n:07d}") for n in range(2000)))
    params: dict[str, object] = {"modem": "m", "now": 0, "ch0": "sms", "ch1": "voice"}
    async with db.read() as conn:
        claim_plan = [
            row[3]
            for row in await conn.execute_fetchall(
                "EXPLAIN QUERY PLAN " + sql.claim_next(2), params
            )
        ]
        expire_plan = [
            row[3]
            for row in await conn.execute_fetchall(
                "EXPLAIN QUERY PLAN " + sql.EXPIRE_QUEUED, {"now": 0}
            )
        ]
    assert any("USING INDEX message_claim" in step for step in claim_plan), claim_plan
    full_scans = [step for step in claim_plan if step.split()[:2] in FULL_SCANS]
    assert not full_scans, claim_plan
    assert any("USING INDEX message_expiry" in step for step in expire_plan), expire_plan


async def test_times_round_trip_in_milliseconds(outbox: Outbox, clock: FakeClock) -> None:
    clock.advance(microseconds=1500)
    stored = await outbox.get(await outbox.enqueue(message()))
    assert stored is not None
    assert to_ms(stored.created_at) == to_ms(clock.now)
    assert stored.created_at.tzinfo is not None


async def test_concurrent_claims_never_share_a_message(outbox: Outbox) -> None:
    for n in range(20):
        await outbox.enqueue(message(destination=f"+1514555{n:04d}"))
    claims = await asyncio.gather(*(outbox.claim_next(f"modem{n}", SMS) for n in range(25)))
    claimed = [c.id for c in claims if c is not None]
    assert len(claimed) == len(set(claimed)) == 20
