"""The durable outbox: every outgoing message is a committed row before any modem sees it.

Lifecycle: queued → sending → sent → delivered | failed, or expired, cancelled, unknown.
`claim_next` commits the attempt (state `sending`, attempts + 1) before the dispatcher writes
AT+CMGS, so a crash in between leaves a row whose outcome is unknown. What happens to it is
data (`message_class.resend_after_unknown`, see migrations/001_outbox.sql):

- otp, relay, reply: marked `unknown`, never resent (a second code or relay confuses; the
  resident can ask again, and a reply answers a message they may send again);
- alert: queued again (a duplicate alert is better than a missed one);
- api: queued again, unless the caller gave an idempotency key (it asked for at most one
  copy; it sees `unknown` and decides).

Nothing is claimed at or after `valid_until`: claims expire such rows first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

from gateway.storage import outbox_sql as sql
from gateway.storage.database import Database
from gateway.storage.outbox_models import (
    TERMINAL_STATES,
    Channel,
    MessageClass,
    MessageState,
    NewMessage,
    OutboundMessage,
    PartRef,
    PartState,
    RecoveryReport,
    SentPart,
    classify_status,
)
from gateway.storage.outbox_rows import (
    apply_status,
    fetch_message,
    id_for_key,
    insert_params,
    message_from_row,
    millis,
    part_from_row,
    update_one,
)
from gateway.storage.times import opt_from_ms, opt_to_ms, to_ms, utc_now

__all__ = [
    "TERMINAL_STATES",
    "Channel",
    "MessageClass",
    "MessageState",
    "NewMessage",
    "OutboundMessage",
    "Outbox",
    "PartRef",
    "PartState",
    "RecoveryReport",
    "SentPart",
    "classify_status",
]

logger = logging.getLogger(__name__)

# Rows per transaction in enqueue_many: big enough that 100,000 rows take ~20 commits,
# small enough (~50 ms each) that an OTP claim waits little behind a fan-out.
FANOUT_BATCH_SIZE = 5000
# A status report can reach us before mark_sent commits (+CDS right after +CMGS); a stored,
# unmatched report older than this belongs to a previous lap of the MR counter.
EARLY_REPORT_WINDOW = timedelta(minutes=2)
# SMSCs give up on a message after its validity period (a few days at most); a report
# cannot concern a part sent longer ago than this.
STATUS_REPORT_WINDOW = timedelta(days=7)
_MR_MAX = 0xFF  # TP-MR is one octet
# While building a fan-out batch, let the loop run this often: the batch being written
# needs loop turns to move from BEGIN to executemany, and other tasks should not starve.
_YIELD_EVERY_ROWS = 500
_RESTART_ERROR = "outcome unknown: interrupted by a restart"


class Outbox:
    """The only way into and out of the message tables; every write goes through db.write()."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Called after a commit that may make work due, so the dispatcher need not poll."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    async def enqueue(self, message: NewMessage, now: datetime | None = None) -> int:
        """Store one message; a repeated idempotency key returns the first message's id."""
        params = insert_params(message, message.campaign_id, to_ms(now or self._clock()))
        async with self._db.write() as conn:
            cursor = await conn.execute(sql.INSERT_MESSAGE, params)
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                message_id = cursor.lastrowid
            else:
                message_id = await id_for_key(conn, message.idempotency_key)
        self._notify()
        return message_id

    async def enqueue_many(
        self,
        campaign_id: int,
        recipients: Iterable[NewMessage] | AsyncIterable[NewMessage],
        batch_size: int = FANOUT_BATCH_SIZE,
        now: datetime | None = None,
    ) -> int:
        """Store a campaign's fan-out a batch per transaction, holding two batches at most."""
        # Repeated idempotency keys are skipped, so a fan-out interrupted by a crash can be
        # run again from the start. Returns how many rows were new. One batch is written
        # on aiosqlite's thread while the next is built here (SQLite releases the GIL).
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        now_ms = to_ms(now or self._clock())
        inserted = 0
        batch: list[tuple[object, ...]] = []
        writing: asyncio.Task[int] | None = None
        try:
            async with contextlib.aclosing(_paced(recipients)) as messages:
                async for message in messages:
                    batch.append(insert_params(message, campaign_id, now_ms))
                    if len(batch) >= batch_size:
                        if writing is not None:
                            inserted += await writing
                        writing = asyncio.create_task(self._insert_batch(batch))
                        batch = []
            if writing is not None:
                inserted += await writing
                writing = None
            if batch:
                inserted += await self._insert_batch(batch)
        finally:
            if writing is not None and not writing.done():
                # The caller failed or was cancelled: roll the batch in flight back.
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writing
        return inserted

    async def claim_next(
        self, modem: str, channels: Iterable[Channel], now: datetime | None = None
    ) -> OutboundMessage | None:
        """Commit the next attempt (highest priority, oldest due) before any AT command."""
        wanted = sorted({Channel(channel).value for channel in channels})
        if not wanted:
            return None
        now_ms = to_ms(now or self._clock())
        params: dict[str, object] = {"modem": modem, "now": now_ms}
        params.update(sql.channel_params(wanted))
        async with self._db.write() as conn:
            await conn.execute(sql.EXPIRE_QUEUED, {"now": now_ms})
            rows = await conn.execute_fetchall(sql.claim_next(len(wanted)), params)
        return next((message_from_row(row) for row in rows), None)

    async def next_due_time(self, channels: Iterable[Channel]) -> datetime | None:
        """When the earliest queued message for these channels is due, to sleep until then."""
        wanted = sorted({Channel(channel).value for channel in channels})
        if not wanted:
            return None
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(sql.next_due(len(wanted)), sql.channel_params(wanted))
            )
        return opt_from_ms(rows[0][0]) if rows else None

    async def mark_sent(
        self, message_id: int, parts: Sequence[PartRef], now: datetime | None = None
    ) -> OutboundMessage:
        """Record that the network accepted every part, with the MRs reports will quote."""
        if not parts:
            raise ValueError("an SMS has at least one part; use mark_delivered for voice")
        for part in parts:
            if not 0 <= part.mr <= _MR_MAX:
                raise ValueError(f"TP-MR {part.mr} is not an octet")
        now_ms = to_ms(now or self._clock())
        async with self._db.write() as conn:
            before = await fetch_message(conn, message_id)
            sent = await update_one(
                conn, sql.MARK_SENT, {"id": message_id, "now": now_ms}, message_id, "sent"
            )
            # A report cannot precede the claim, nor be older than the early window.
            since = max(
                to_ms(before.updated_at) if before else now_ms,
                now_ms - millis(EARLY_REPORT_WINDOW),
            )
            for part in parts:
                rows = await conn.execute_fetchall(
                    sql.INSERT_PART,
                    (message_id, sent.attempts, part.part_no, part.modem, part.mr, now_ms),
                )
                part_id = int(next(iter(rows))[0])
                early = list(
                    await conn.execute_fetchall(
                        sql.FIND_EARLY_REPORT,
                        {
                            "modem": part.modem,
                            "mr": part.mr,
                            "since": since,
                            "destination": sent.destination,
                        },
                    )
                )
                if early:
                    await conn.execute(sql.LINK_REPORT, (part_id, early[0]["id"]))
                    sent = (
                        await apply_status(conn, part_id, int(early[0]["status"]), now_ms) or sent
                    )
        return sent

    async def mark_delivered(self, message_id: int, now: datetime | None = None) -> OutboundMessage:
        """A voice message was answered and played: no status report will follow."""
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        async with self._db.write() as conn:
            return await update_one(conn, sql.MARK_DELIVERED_VOICE, params, message_id, "delivered")

    async def schedule_retry(
        self, message_id: int, at: datetime, error: str, now: datetime | None = None
    ) -> OutboundMessage:
        """Back to the queue until `at` (expired instead if `at` is past valid_until)."""
        params = {
            "id": message_id,
            "at": to_ms(at),
            "error": error,
            "now": to_ms(now or self._clock()),
        }
        async with self._db.write() as conn:
            message = await update_one(conn, sql.SCHEDULE_RETRY, params, message_id, "queued")
        self._notify()
        return message

    async def mark_failed(
        self, message_id: int, error: str, now: datetime | None = None
    ) -> OutboundMessage:
        """Give up: the network refused it for good, or the retries ran out."""
        params = {"id": message_id, "error": error, "now": to_ms(now or self._clock())}
        async with self._db.write() as conn:
            return await update_one(conn, sql.MARK_FAILED, params, message_id, "failed")

    async def mark_unknown(
        self,
        message_id: int,
        error: str,
        retry_at: datetime | None = None,
        now: datetime | None = None,
    ) -> OutboundMessage:
        """AT+CMGS went out but no answer came: apply the class's policy, as after a crash."""
        params = {
            "id": message_id,
            "error": error,
            "retry_at": opt_to_ms(retry_at),
            "now": to_ms(now or self._clock()),
        }
        async with self._db.write() as conn:
            message = await update_one(conn, sql.MARK_UNKNOWN, params, message_id, "unknown")
        self._notify()
        return message

    async def release(self, message_id: int, now: datetime | None = None) -> OutboundMessage:
        """The modem failed before the command was written: requeue at the same place."""
        # attempts stays as it was (it counts claims and never decreases); no backoff and
        # no error recorded, since nothing reached the network.
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        async with self._db.write() as conn:
            message = await update_one(conn, sql.RELEASE, params, message_id, "queued")
        self._notify()
        return message

    async def cancel(self, message_id: int, now: datetime | None = None) -> bool:
        """Cancel a message still queued; False if a modem already has it or it is done."""
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        async with self._db.write() as conn:
            cursor = await conn.execute(sql.CANCEL, params)
            return cursor.rowcount == 1

    async def cancel_campaign(self, campaign_id: int, now: datetime | None = None) -> int:
        """Cancel what is still queued of a campaign; what is sending or sent carries on."""
        params = {"campaign": campaign_id, "now": to_ms(now or self._clock())}
        async with self._db.write() as conn:
            cursor = await conn.execute(sql.CANCEL_CAMPAIGN, params)
            return cursor.rowcount

    async def expire(self, now: datetime | None = None) -> int:
        """Expire queued rows past valid_until now, rather than at the next claim."""
        async with self._db.write() as conn:
            cursor = await conn.execute(sql.EXPIRE_QUEUED, {"now": to_ms(now or self._clock())})
            return cursor.rowcount

    async def record_status_report(
        self,
        modem: str,
        mr: int,
        status: int,
        now: datetime | None = None,
        *,
        recipient: str | None = None,
    ) -> OutboundMessage | None:
        """Store a status report and roll its part up into the message; None if unmatched."""
        # Unmatched reports stay stored: mark_sent picks them up if they beat it.
        classify_status(status)
        if not 0 <= mr <= _MR_MAX:
            raise ValueError(f"TP-MR {mr} is not an octet")
        now_ms = to_ms(now or self._clock())
        async with self._db.write() as conn:
            rows = await conn.execute_fetchall(
                sql.INSERT_REPORT, (modem, mr, status, recipient, now_ms)
            )
            report_id = int(next(iter(rows))[0])
            found = list(
                await conn.execute_fetchall(
                    sql.FIND_PART_FOR_REPORT,
                    {
                        "modem": modem,
                        "mr": mr,
                        "since": now_ms - millis(STATUS_REPORT_WINDOW),
                        "recipient": recipient,
                    },
                )
            )
            if not found:
                logger.info("modem %s: status report for MR %d matches no part", modem, mr)
                return None
            part_id = int(found[0]["id"])
            await conn.execute(sql.LINK_REPORT, (part_id, report_id))
            return await apply_status(conn, part_id, status, now_ms)

    async def recover_after_restart(self, now: datetime | None = None) -> RecoveryReport:
        """Settle rows a crash left in `sending`, and expire what waited out its validity."""
        now_ms = to_ms(now or self._clock())
        async with self._db.write() as conn:
            rows = await conn.execute_fetchall(
                sql.RECOVER_SENDING, {"now": now_ms, "error": _RESTART_ERROR}
            )
            states = [str(row[0]) for row in rows]
            cursor = await conn.execute(sql.EXPIRE_QUEUED, {"now": now_ms})
            expired = cursor.rowcount
        report = RecoveryReport(
            requeued=states.count(MessageState.QUEUED),
            unknown=states.count(MessageState.UNKNOWN),
            expired=expired,
        )
        logger.info(
            "outbox recovery: %d resent, %d unknown, %d expired",
            report.requeued,
            report.unknown,
            report.expired,
        )
        self._notify()
        return report

    async def get(self, message_id: int) -> OutboundMessage | None:
        """One message, for the UI and the API's status look-up."""
        async with self._db.read() as conn:
            return await fetch_message(conn, message_id)

    async def parts(self, message_id: int) -> list[SentPart]:
        """Every part sent for a message, over all its attempts."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(sql.SELECT_PARTS, (message_id,))
        return [part_from_row(row) for row in rows]

    async def counts_by_state(self, campaign_id: int | None = None) -> dict[MessageState, int]:
        """Every state with its count (zeros included), overall or for one campaign."""
        async with self._db.read() as conn:
            if campaign_id is None:
                rows = await conn.execute_fetchall(sql.COUNT_BY_STATE)
            else:
                rows = await conn.execute_fetchall(sql.COUNT_BY_STATE_FOR_CAMPAIGN, (campaign_id,))
        counts = dict.fromkeys(MessageState, 0)
        counts.update({MessageState(row[0]): int(row[1]) for row in rows})
        return counts

    async def queue_depth_by_class(self) -> dict[MessageClass, int]:
        """Queued messages per class (zeros included), for the dashboard."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(sql.QUEUE_DEPTH_BY_CLASS)
        depth = dict.fromkeys(MessageClass, 0)
        depth.update({MessageClass(row[0]): int(row[1]) for row in rows})
        return depth

    async def _insert_batch(self, batch: list[tuple[object, ...]]) -> int:
        async with self._db.write() as conn:
            cursor = await conn.executemany(sql.INSERT_MESSAGE, batch)
            inserted = cursor.rowcount
        self._notify()
        return inserted

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                logger.exception("outbox listener %r failed", callback)


async def _paced(
    messages: Iterable[NewMessage] | AsyncIterable[NewMessage],
) -> AsyncGenerator[NewMessage, None]:
    """One async iterator for both kinds of source, yielding to the loop every few hundred."""
    count = 0
    if isinstance(messages, AsyncIterable):
        async for message in messages:
            count += 1
            if count % _YIELD_EVERY_ROWS == 0:
                await asyncio.sleep(0)
            yield message
    else:
        for message in messages:
            count += 1
            if count % _YIELD_EVERY_ROWS == 0:
                await asyncio.sleep(0)
            yield message
