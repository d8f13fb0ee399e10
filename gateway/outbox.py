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

This module is the claim and send cycle; `Outbox` also carries the look-ups of
outbox_reads.py and the bulk operations (erasure, campaign cancel/defer, expiry) of
outbox_bulk.py; outbox_fanout.py builds and writes a fan-out's batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import (
    AsyncIterable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import datetime, timedelta

from gateway import outbox_fanout as fanout
from gateway.outbox_bulk import BulkOperations
from gateway.outbox_reads import OutboxReads
from gateway.storage import outbox_sql as sql
from gateway.storage.database import Database
from gateway.storage.outbox_models import (
    TERMINAL_STATES,
    Channel,
    ClaimedAhead,
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
    id_for_key,
    insert_params,
    message_from_row,
    millis,
    update_one,
)
from gateway.storage.times import opt_from_ms, opt_to_ms, to_ms, utc_now

__all__ = [
    "TERMINAL_STATES",
    "Channel",
    "ClaimedAhead",
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
    "lowest_priority",
]

logger = logging.getLogger(__name__)

# A status report can reach us before mark_sent commits (+CDS right after +CMGS); a stored,
# unmatched report older than this belongs to a previous lap of the MR counter.
EARLY_REPORT_WINDOW = timedelta(minutes=2)
# SMSCs give up on a message after its validity period (a few days at most); a report
# cannot concern a part sent longer ago than this.
STATUS_REPORT_WINDOW = timedelta(days=7)
_MR_MAX = 0xFF  # TP-MR is one octet
# A status report may wait this long to share the commit of the next claim (one fsync for
# both); the modem only waits to delete its copy. Less than one realistic send (~3 s).
REPORT_COMMIT_DELAY_S = 0.05
_RESTART_ERROR = "outcome unknown: interrupted by a restart"


def lowest_priority() -> int:
    """A priority no message class has: "nothing more urgent" for a claim made ahead."""
    return sql.LOWEST_PRIORITY


class Outbox(OutboxReads, BulkOperations):
    """The only way into and out of the message tables; every write goes through the writer."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._work_listeners: list[Callable[[int], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Called after a commit that may make work due, so the dispatcher need not poll."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def add_work_listener(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """As add_listener, told the most urgent priority the commit queued (lower = sooner).

        A modem holding a job claimed ahead (`claim_ahead`) gives it back when told of a more
        urgent one, so strict priority survives the prefetch.
        """
        self._work_listeners.append(callback)
        return lambda: self._work_listeners.remove(callback)

    async def enqueue(self, message: NewMessage, now: datetime | None = None) -> int:
        """Store one message; a repeated idempotency key returns the first message's id."""
        params = insert_params(message, message.campaign_id, to_ms(now or self._clock()))
        key = message.idempotency_key

        def insert(conn: sqlite3.Connection) -> tuple[int, int | None]:
            row = conn.execute(sql.INSERT_MESSAGE_RETURNING, params).fetchone()
            if row is not None:
                return int(row[0]), int(row[1])
            return id_for_key(conn, key), None

        message_id, priority = await self._db.write_fn(insert)
        if priority is not None:
            self._notify(priority)
        return message_id

    async def enqueue_many(
        self,
        campaign_id: int,
        recipients: Iterable[NewMessage] | AsyncIterable[NewMessage],
        batch_size: int = fanout.FANOUT_BATCH_SIZE,
        now: datetime | None = None,
    ) -> int:
        """Store a campaign's fan-out a batch per transaction, holding two batches at most."""
        # Repeated idempotency keys are skipped, so a fan-out interrupted by a crash can be
        # run again from the start. Returns how many rows were new. One batch is written
        # on the writer's thread while the next is built here (SQLite releases the GIL).
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        now_ms = to_ms(now or self._clock())
        inserted = 0
        writing: asyncio.Task[int] | None = None
        params = functools.partial(insert_params, campaign_id=campaign_id, now_ms=now_ms)
        try:
            async with contextlib.aclosing(
                fanout.batched(recipients, batch_size, params)
            ) as batches:
                async for batch in batches:
                    if writing is not None:
                        inserted += await writing
                    writing = asyncio.create_task(self._insert_batch(batch))
            if writing is not None:
                inserted += await writing
                writing = None
        finally:
            if writing is not None and not writing.done():
                # The caller failed or was cancelled: the batch in flight may still commit
                # (whole), which a rerun skips by idempotency key.
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writing
        return inserted

    async def claim_next(
        self, modem: str, channels: Iterable[Channel], now: datetime | None = None
    ) -> OutboundMessage | None:
        """Commit the next attempt (highest priority, oldest due) before any AT command."""
        claim = self._claim(modem, channels, now, ahead=False)
        if claim is None:
            return None
        found = await self._db.write_fn(claim, orphaned=self._give_back_orphan)
        return found.job

    async def claim_ahead(
        self, modem: str, channels: Iterable[Channel], now: datetime | None = None
    ) -> ClaimedAhead | None:
        """Claim the next job while the modem is still busy with the current one.

        Only when the most urgent due job is one a crash may safely send again (its class
        requeues after an unknown outcome, see above): a crash while it waits leaves it in
        `sending`, and an OTP or relay would then be marked unknown without ever being sent.
        None means: claim at send time instead (nothing due, or the next job is not such).
        """
        claim = self._claim(modem, channels, now, ahead=True)
        if claim is None:
            return None
        found = await self._db.write_fn(claim, orphaned=self._give_back_orphan)
        return found if found.job is not None else None

    async def next_due_time(self, channels: Iterable[Channel]) -> datetime | None:
        """When the earliest queued message for these channels is due, to sleep until then."""
        wanted = sorted({Channel(channel).value for channel in channels})
        if not wanted:
            return None
        statement, params = sql.next_due(len(wanted)), sql.channel_params(wanted)

        def due(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(statement, params).fetchone()
            return None if row is None else row[0]

        return opt_from_ms(await self._db.read_fn(due))

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
        window_start = now_ms - millis(EARLY_REPORT_WINDOW)

        def mark(conn: sqlite3.Connection) -> OutboundMessage:
            before = conn.execute(sql.SELECT_UPDATED_AT, (message_id,)).fetchone()
            sent = update_one(
                conn, sql.MARK_SENT, {"id": message_id, "now": now_ms}, message_id, "sent"
            )
            # A report cannot precede the claim, nor be older than the early window.
            since = max(now_ms if before is None else int(before[0]), window_start)
            for part in parts:
                part_id = int(
                    conn.execute(
                        sql.INSERT_PART,
                        (message_id, sent.attempts, part.part_no, part.modem, part.mr, now_ms),
                    ).fetchone()[0]
                )
                early = conn.execute(
                    sql.FIND_EARLY_REPORT,
                    {
                        "modem": part.modem,
                        "mr": part.mr,
                        "since": since,
                        "destination": sent.destination,
                    },
                ).fetchone()
                if early is not None:
                    conn.execute(sql.LINK_REPORT, (part_id, early["id"]))
                    sent = apply_status(conn, part_id, int(early["status"]), now_ms) or sent
            return sent

        return await self._db.write_fn(mark)

    async def mark_delivered(self, message_id: int, now: datetime | None = None) -> OutboundMessage:
        """A voice message was answered and played: no status report will follow."""
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        return await self._update(sql.MARK_DELIVERED_VOICE, params, message_id, "delivered")

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
        return await self._update(sql.SCHEDULE_RETRY, params, message_id, "queued", notify=True)

    async def mark_failed(
        self, message_id: int, error: str, now: datetime | None = None
    ) -> OutboundMessage:
        """Give up: the network refused it for good, or the retries ran out."""
        params = {"id": message_id, "error": error, "now": to_ms(now or self._clock())}
        return await self._update(sql.MARK_FAILED, params, message_id, "failed")

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
        return await self._update(sql.MARK_UNKNOWN, params, message_id, "unknown", notify=True)

    async def release(self, message_id: int, now: datetime | None = None) -> OutboundMessage:
        """The modem failed before the command was written: requeue at the same place."""
        # attempts stays as it was (it counts claims and never decreases); no backoff and
        # no error recorded. The dispatcher uses `unclaim` where it knows nothing was
        # written, so a modem fault does not spend the message's retries.
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        return await self._update(sql.RELEASE, params, message_id, "queued", notify=True)

    async def unclaim(
        self, message_id: int, attempt: int, now: datetime | None = None
    ) -> OutboundMessage:
        """Give back a claim whose AT+CMGS was never written: queued as if never claimed.

        Unlike `release`, the attempt is not counted, so a prefetch given back to an OTP, a
        quota wait or a modem fault costs the message none of its retries. `attempt` is the
        claimed job's `attempts`: only that claim, still `sending`, with no part recorded
        for it, can be given back.
        """
        params = {"id": message_id, "attempt": attempt, "now": to_ms(now or self._clock())}
        return await self._update(sql.UNCLAIM, params, message_id, "queued", notify=True)

    async def cancel(self, message_id: int, now: datetime | None = None) -> bool:
        """Cancel a message still queued; False if a modem already has it or it is done."""
        params = {"id": message_id, "now": to_ms(now or self._clock())}
        return await self._db.write_fn(lambda conn: conn.execute(sql.CANCEL, params).rowcount == 1)

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
        # Unmatched reports stay stored: mark_sent picks them up if they beat it. Reports
        # arriving together from several modems share one commit (see Database.write_fn).
        classify_status(status)
        if not 0 <= mr <= _MR_MAX:
            raise ValueError(f"TP-MR {mr} is not an octet")
        now_ms = to_ms(now or self._clock())
        find = {
            "modem": modem,
            "mr": mr,
            "since": now_ms - millis(STATUS_REPORT_WINDOW),
            "recipient": recipient,
        }

        def record(conn: sqlite3.Connection) -> OutboundMessage | None:
            report_id = int(
                conn.execute(sql.INSERT_REPORT, (modem, mr, status, recipient, now_ms)).fetchone()[
                    0
                ]
            )
            found = conn.execute(sql.FIND_PART_FOR_REPORT, find).fetchone()
            if found is None:
                return None
            part_id = int(found["id"])
            conn.execute(sql.LINK_REPORT, (part_id, report_id))
            return apply_status(conn, part_id, status, now_ms)

        message = await self._db.write_soon(record, within=REPORT_COMMIT_DELAY_S)
        if message is None:
            logger.info("modem %s: status report for MR %d matches no part", modem, mr)
        return message

    async def recover_after_restart(self, now: datetime | None = None) -> RecoveryReport:
        """Settle rows a crash left in `sending`, and expire what waited out its validity."""
        now_ms = to_ms(now or self._clock())

        def recover(conn: sqlite3.Connection) -> RecoveryReport:
            rows = conn.execute(
                sql.RECOVER_SENDING, {"now": now_ms, "error": _RESTART_ERROR}
            ).fetchall()
            states = [str(row[0]) for row in rows]
            expired = conn.execute(sql.EXPIRE_QUEUED, {"now": now_ms}).rowcount
            return RecoveryReport(
                requeued=states.count(MessageState.QUEUED),
                unknown=states.count(MessageState.UNKNOWN),
                expired=expired,
            )

        report = await self._db.write_fn(recover)
        logger.info(
            "outbox recovery: %d resent, %d unknown, %d expired",
            report.requeued,
            report.unknown,
            report.expired,
        )
        self._notify(0)
        return report

    def _claim(
        self, modem: str, channels: Iterable[Channel], now: datetime | None, *, ahead: bool
    ) -> Callable[[sqlite3.Connection], ClaimedAhead] | None:
        wanted = sorted({Channel(channel).value for channel in channels})
        if not wanted:
            return None
        now_ms = to_ms(now or self._clock())
        params: dict[str, object] = {"modem": modem, "now": now_ms}
        params.update(sql.channel_params(wanted))
        statement = sql.claim_next(len(wanted), ahead=ahead)
        preempt = sql.next_due(len(wanted), more_urgent=True) if ahead else None

        def claim(conn: sqlite3.Connection) -> ClaimedAhead:
            conn.execute(sql.EXPIRE_QUEUED, {"now": now_ms})
            row = conn.execute(statement, params).fetchone()
            if row is None:
                return ClaimedAhead(None, None)
            job = message_from_row(row)
            if preempt is None:
                return ClaimedAhead(job, None)
            due = conn.execute(preempt, {**params, "priority": job.priority}).fetchone()
            return ClaimedAhead(job, opt_from_ms(None if due is None else due[0]))

        return claim

    def _give_back_orphan(self, found: ClaimedAhead) -> None:
        """A claimer was cancelled after its claim committed: nothing was sent, so give it back."""
        # Queued at once (not from a task), so Database.close() still commits it.
        job = found.job
        if job is None:
            return
        params = {"id": job.id, "attempt": job.attempts, "now": to_ms(self._clock())}
        future = self._db.submit(
            lambda conn: update_one(conn, sql.UNCLAIM, params, job.id, "queued")
        )
        future.add_done_callback(self._orphan_given_back)

    def _orphan_given_back(self, future: asyncio.Future[OutboundMessage]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            logger.error("giving back an orphaned claim failed: %s", error)
        else:
            self._notify(future.result().priority)

    async def _update(
        self,
        statement: str,
        params: Mapping[str, object],
        message_id: int,
        wanted: str,
        *,
        notify: bool = False,
    ) -> OutboundMessage:
        message = await self._db.write_fn(
            lambda conn: update_one(conn, statement, params, message_id, wanted)
        )
        if notify and message.state is MessageState.QUEUED:
            self._notify(message.priority)
        return message

    async def _insert_batch(self, batch: list[tuple[object, ...]]) -> int:
        inserted, priority = await self._db.write_fn(
            functools.partial(fanout.insert_batch, batch=batch)
        )
        if inserted:
            self._notify(sql.LOWEST_PRIORITY if priority is None else int(priority))
        return inserted

    def _notify(self, priority: int) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                logger.exception("outbox listener %r failed", callback)
        for work_callback in list(self._work_listeners):
            try:
                work_callback(priority)
            except Exception:
                logger.exception("outbox listener %r failed", work_callback)
