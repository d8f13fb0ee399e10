"""The writer's group commit, claims made ahead, and claims given back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.outbox import (
    STATUS_REPORT_WINDOW,
    Channel,
    MessageClass,
    MessageState,
    Outbox,
    PartRef,
)
from gateway.storage import Database, TransitionError
from tests.storage.conftest import FakeClock, message

SMS = {Channel.SMS}


async def make_table(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")


async def rows(db: Database) -> list[int]:
    found = await db.read_fn(lambda conn: conn.execute("SELECT x FROM t ORDER BY x").fetchall())
    return [int(row[0]) for row in found]


async def test_concurrent_writes_share_a_commit_and_fail_alone(db: Database) -> None:
    await make_table(db)

    def insert(x: int) -> Callable[[sqlite3.Connection], int]:
        def fn(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t VALUES (?)", (x,))
            if x == 2:
                raise ValueError("two")
            return x

        return fn

    results = await asyncio.gather(
        *(db.write_fn(insert(x)) for x in range(4)), return_exceptions=True
    )
    assert results[:2] == [0, 1]
    assert results[3] == 3
    assert isinstance(results[2], ValueError)
    assert await rows(db) == [0, 1, 3]  # the failing one rolled back to its savepoint only


async def test_a_write_cancelled_before_its_batch_does_nothing(db: Database) -> None:
    await make_table(db)
    async with db.write() as conn:  # hold the writer: the next write waits in the queue
        task = asyncio.create_task(
            db.write_fn(lambda c: c.execute("INSERT INTO t VALUES (1)").rowcount)
        )
        await asyncio.sleep(0.01)
        task.cancel()
        await conn.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await rows(db) == [2]


async def test_a_write_cancelled_mid_batch_commits_and_reports_the_orphan(db: Database) -> None:
    await make_table(db)
    started, release = threading.Event(), threading.Event()
    orphans: list[int] = []

    def slow(conn: sqlite3.Connection) -> int:
        started.set()
        release.wait(10)
        conn.execute("INSERT INTO t VALUES (7)")
        return 7

    task = asyncio.create_task(db.write_fn(slow, orphaned=orphans.append))
    while not started.is_set():
        await asyncio.sleep(0.001)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.write_fn(lambda conn: None)  # the next batch: the first one has settled
    assert orphans == [7]
    assert await rows(db) == [7]


async def test_unclaim_gives_the_attempt_back(outbox: Outbox, clock: FakeClock) -> None:
    first = await outbox.enqueue(message())
    clock.advance(seconds=1)
    await outbox.enqueue(message())
    claimed = await outbox.claim_next("modem0", SMS)
    assert claimed is not None
    assert claimed.id == first
    assert claimed.attempts == 1
    back = await outbox.unclaim(first, claimed.attempts)
    assert back.state is MessageState.QUEUED
    assert back.attempts == 0
    again = await outbox.claim_next("modem0", SMS)
    assert again is not None
    assert again.id == first
    assert again.attempts == 1


async def test_unclaim_is_refused_once_the_network_saw_it(outbox: Outbox) -> None:
    message_id = await outbox.enqueue(message())
    claimed = await outbox.claim_next("modem0", SMS)
    assert claimed is not None
    with pytest.raises(TransitionError):
        await outbox.unclaim(message_id, claimed.attempts + 1)  # not the claim we hold
    await outbox.mark_sent(message_id, [PartRef("modem0", 1, 5)])
    with pytest.raises(TransitionError):
        await outbox.unclaim(message_id, claimed.attempts)


async def test_claim_ahead_only_takes_jobs_a_crash_may_resend(
    outbox: Outbox, clock: FakeClock
) -> None:
    otp = await outbox.enqueue(message(MessageClass.OTP))
    alert = await outbox.enqueue(message(MessageClass.ALERT))
    # The OTP is next: claiming it ahead would make a crash mark it unknown, unsent.
    assert await outbox.claim_ahead("modem0", SMS) is None
    claimed = await outbox.claim_next("modem0", SMS)
    assert claimed is not None
    assert claimed.id == otp
    ahead = await outbox.claim_ahead("modem0", SMS)
    assert ahead is not None
    assert ahead.job is not None
    assert ahead.job.id == alert
    assert ahead.preempt_at is None


async def test_claim_ahead_says_when_a_more_urgent_job_falls_due(
    outbox: Outbox, clock: FakeClock
) -> None:
    await outbox.enqueue(message(MessageClass.ALERT))
    later = clock.now + timedelta(seconds=30)
    await outbox.enqueue(message(MessageClass.RELAY, not_before=later))
    ahead = await outbox.claim_ahead("modem0", SMS)
    assert ahead is not None
    assert ahead.job is not None
    assert ahead.preempt_at == later


async def test_work_listeners_hear_the_priority(outbox: Outbox) -> None:
    heard: list[int] = []
    remove = outbox.add_work_listener(heard.append)
    await outbox.enqueue(message(MessageClass.ALERT))
    await outbox.enqueue(message(MessageClass.OTP))
    await outbox.enqueue_many(1, [message(MessageClass.API), message(MessageClass.REPLY)])
    remove()
    assert heard == [3, 0, 2]


async def test_a_message_without_report_stays_sent(outbox: Outbox, clock: FakeClock) -> None:
    # Decision: `sent` (accepted by the network) is where a message ends when no report
    # comes; we do not guess "delivered". After the report window nothing can match it.
    message_id = await outbox.enqueue(message())
    await outbox.claim_next("modem0", SMS)
    await outbox.mark_sent(message_id, [PartRef("modem0", 1, 9)])
    clock.advance(seconds=STATUS_REPORT_WINDOW.total_seconds() + 1)
    assert await outbox.record_status_report("modem0", 9, 0x00) is None
    stored = await outbox.get(message_id)
    assert stored is not None
    assert stored.state is MessageState.SENT
