"""The webhook_delivery table's only door: queue, take what is due, record each attempt."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms, to_ms, utc_now

# Due rows looked at per claim: enough to find work for every free receiver behind a backlog
# to one that is down.
_SCAN = 500
_COLUMNS = (
    "id, url, event, event_id, body, state, attempts, next_attempt_at, last_status,"
    " last_error, created_at, finished_at"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one receiver, as stored."""

    id: int
    url: str
    event: str
    event_id: str
    body: str  # the JSON sent (and signed) at every attempt
    state: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """One reported state change of an API message, as the outbox's trigger recorded it."""

    id: int
    message_id: int
    state: str


class DeliveryStore:
    """Deliveries survive restarts: what is pending when the gateway stops is sent after."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        urls: Sequence[str],
        event: str,
        event_id: str,
        body: str,
        *,
        inbound_id: int | None = None,
        message_event_id: int | None = None,
    ) -> int:
        """One row per URL; an event already queued for a URL is skipped. Returns rows added.

        `inbound_id` moves the inbound cursor in the same transaction (see inbound_backlog),
        `message_event_id` the message one (see message_backlog).
        """
        now = to_ms(self._clock())

        def insert(conn: sqlite3.Connection) -> int:
            added = 0
            for url in urls:
                added += conn.execute(
                    "INSERT OR IGNORE INTO webhook_delivery"
                    " (url, event, event_id, body, next_attempt_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (url, event, event_id, body, now, now),
                ).rowcount
            if inbound_id is not None:
                conn.execute(
                    "INSERT INTO webhook_cursor (name, last_id) VALUES ('inbound', ?)"
                    " ON CONFLICT (name) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
                    (inbound_id,),
                )
            if message_event_id is not None:
                _passed_message_event(conn, message_event_id)
            return added

        return await self._db.write_fn(insert)

    async def message_backlog(self, limit: int = 200) -> list[MessageEvent]:
        """State changes of API messages after the 'message' cursor, oldest first (the outbox's
        trigger records them in the state change's own transaction, so a stop before their
        webhook was queued loses none). The first time, the cursor starts after the newest
        one: no back-fill."""

        def backlog(conn: sqlite3.Connection) -> list[MessageEvent]:
            rows = conn.execute(
                "SELECT id, message_id, state FROM api_message_event WHERE id > coalesce("
                "(SELECT last_id FROM webhook_cursor WHERE name = 'message'), 0)"
                " ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
            return [MessageEvent(int(row[0]), int(row[1]), str(row[2])) for row in rows]

        return await self._db.read_fn(backlog)

    async def start_message_cursor(self) -> None:
        """Make the 'message' cursor the first time webhooks run, after every change so far."""

        def start(conn: sqlite3.Connection) -> None:
            made = conn.execute(
                "INSERT OR IGNORE INTO webhook_cursor (name, last_id)"
                " SELECT 'message', coalesce(max(id), 0) FROM api_message_event"
            ).rowcount
            if made:
                conn.execute("DELETE FROM api_message_event")

        await self._db.write_fn(start)

    async def pass_message_event(self, event_id: int) -> None:
        """Move the cursor past a change that makes no delivery (its event is not wanted)."""
        await self._db.write_fn(lambda conn: _passed_message_event(conn, event_id))

    async def forget_message_events(self) -> int:
        """Without receivers: drop the changes recorded before webhooks ever ran (they would
        never be sent); once they have run, changes wait for them like inbound SMS do."""

        def forget(conn: sqlite3.Connection) -> int:
            started = conn.execute("SELECT 1 FROM webhook_cursor WHERE name = 'message'").fetchone()
            return 0 if started else conn.execute("DELETE FROM api_message_event").rowcount

        return await self._db.write_fn(forget)

    async def inbound_backlog(self, limit: int = 1000) -> list[int]:
        """Inbound SMS stored after the cursor (a stop between storing one and queueing its
        webhook); the first time, the cursor starts at the newest SMS: no back-fill."""

        def backlog(conn: sqlite3.Connection) -> list[int]:
            conn.execute(
                "INSERT OR IGNORE INTO webhook_cursor (name, last_id)"
                " SELECT 'inbound', coalesce(max(id), 0) FROM inbound"
            )
            rows = conn.execute(
                "SELECT id FROM inbound WHERE id > (SELECT last_id FROM webhook_cursor"
                " WHERE name = 'inbound') ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
            return [int(row[0]) for row in rows]

        return await self._db.write_fn(backlog)

    async def claim(
        self, limit: int, lease: timedelta, busy_urls: Collection[str] = ()
    ) -> list[Delivery]:
        """Due deliveries, oldest first, one per receiver not in `busy_urls`, each pushed
        `lease` ahead while its POST runs.

        One POST at a time per receiver: a slow one holds only its own queue, never another
        receiver's. A delivery in flight is not due again; if the gateway stops mid-POST it
        is retried once the lease runs out (receivers drop repeats by their event id).
        """
        now = self._clock()
        now_ms, until_ms = to_ms(now), to_ms(now + lease)
        busy = set(busy_urls)

        def take(conn: sqlite3.Connection) -> list[Delivery]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_delivery"
                " WHERE state = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (now_ms, _SCAN),
            ).fetchall()
            chosen: list[Delivery] = []
            for row in rows:
                if len(chosen) >= limit:
                    break
                if row["url"] not in busy:
                    busy.add(row["url"])
                    chosen.append(_delivery(row))
            conn.executemany(
                "UPDATE webhook_delivery SET next_attempt_at = ? WHERE id = ?",
                [(until_ms, delivery.id) for delivery in chosen],
            )
            return chosen

        return await self._db.write_fn(take)

    async def next_due_at(self, busy_urls: Collection[str] = ()) -> datetime | None:
        """When the earliest pending delivery to a receiver not busy falls due (None: none)."""
        marks = ",".join("?" for _ in busy_urls)
        params = tuple(busy_urls)
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT min(next_attempt_at) FROM webhook_delivery WHERE state = 'pending'"
                + (f" AND url NOT IN ({marks})" if marks else ""),
                params,
            ).fetchall()
        )
        value = rows[0][0] if rows else None
        return None if value is None else from_ms(int(value))

    async def delivered(self, delivery_id: int, status: int) -> None:
        """The receiver answered 2xx."""
        now = to_ms(self._clock())
        await self._db.write_fn(
            lambda conn: conn.execute(
                "UPDATE webhook_delivery SET state = 'delivered', attempts = attempts + 1,"
                " last_status = ?, last_error = NULL, finished_at = ? WHERE id = ?",
                (status, now, delivery_id),
            )
        )

    async def attempt_failed(
        self,
        delivery_id: int,
        *,
        status: int | None,
        error: str,
        retry_in: timedelta | None,
    ) -> None:
        """Count the attempt; try again after `retry_in`, or give up when it is None."""
        now = self._clock()
        if retry_in is None:
            sql = (
                "UPDATE webhook_delivery SET state = 'failed', attempts = attempts + 1,"
                " last_status = ?, last_error = ?, finished_at = ? WHERE id = ?"
            )
            params: tuple[object, ...] = (status, error[:500], to_ms(now), delivery_id)
        else:
            sql = (
                "UPDATE webhook_delivery SET attempts = attempts + 1, last_status = ?,"
                " last_error = ?, next_attempt_at = ? WHERE id = ?"
            )
            params = (status, error[:500], to_ms(now + retry_in), delivery_id)
        await self._db.write_fn(lambda conn: conn.execute(sql, params))

    async def get(self, delivery_id: int) -> Delivery | None:
        """One row, for tests and the log."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_delivery WHERE id = ?", (delivery_id,)
            ).fetchall()
        )
        return _delivery(rows[0]) if rows else None

    async def all(self, limit: int = 1000) -> list[Delivery]:
        """Newest first."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_delivery ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        )
        return [_delivery(row) for row in rows]


def _passed_message_event(conn: sqlite3.Connection, event_id: int) -> None:
    """The cursor moves past `event_id`, and the rows it passed go (their work is done)."""
    conn.execute(
        "INSERT INTO webhook_cursor (name, last_id) VALUES ('message', ?)"
        " ON CONFLICT (name) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
        (event_id,),
    )
    conn.execute("DELETE FROM api_message_event WHERE id <= ?", (event_id,))


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        url=str(row["url"]),
        event=str(row["event"]),
        event_id=str(row["event_id"]),
        body=str(row["body"]),
        state=str(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=from_ms(int(row["next_attempt_at"])),
        last_status=None if row["last_status"] is None else int(row["last_status"]),
        last_error=None if row["last_error"] is None else str(row["last_error"]),
        created_at=from_ms(int(row["created_at"])),
        finished_at=opt_from_ms(row["finished_at"]),
    )
