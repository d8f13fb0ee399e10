"""Incoming SMS, committed before the modem deletes them, with duplicates suppressed."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms, to_ms, utc_now

# The oldest unprocessed messages first, a page at a time, so a backlog after an outage
# does not load all at once.
UNPROCESSED_PAGE = 100
# An incoming SMS may wait this long to share another write's commit; the modem only waits
# to delete its copy, and the router reads it after the commit anyway.
INBOUND_COMMIT_DELAY_S = 0.05

_COLUMNS = (
    "id, modem, sender, body, received_at, network_timestamp, concat_ref, parts_received,"
    " parts_expected, pdu_hash, complete, processed_at"
)
# DO NOTHING without a target covers inbound_dedup, an index on an expression.
_INSERT = """
INSERT INTO inbound (
    modem, sender, body, received_at, network_timestamp, concat_ref, parts_received,
    parts_expected, pdu_hash, complete
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
RETURNING id
"""
_FIND_DUPLICATE = """
SELECT id FROM inbound
WHERE sender = ? AND network_timestamp = ? AND coalesce(concat_ref, -1) = coalesce(?, -1)
    AND pdu_hash = ?
"""
_MARK_PROCESSED = "UPDATE inbound SET processed_at = ? WHERE id = ? AND processed_at IS NULL"
_UNPROCESSED = f"""
SELECT {_COLUMNS} FROM inbound WHERE processed_at IS NULL AND id > ? ORDER BY id LIMIT ?
"""
_SELECT = f"SELECT {_COLUMNS} FROM inbound WHERE id = ?"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A stored incoming SMS, as the inbound router sees it."""

    id: int
    modem: str
    sender: str
    body: str
    received_at: datetime
    network_timestamp: datetime  # the SMSC's timestamp (TP-SCTS)
    concat_ref: int | None  # None for a single-part message
    parts_received: int
    parts_expected: int
    pdu_hash: str
    complete: bool
    processed_at: datetime | None


def pdu_hash(pdus: Iterable[str]) -> str:
    """A stable fingerprint of the raw PDUs: the same SMS read twice hashes the same."""
    joined = ",".join(pdu.strip().upper() for pdu in pdus)
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


class Inbox:
    """The inbound table's only door; writes go through db.write()."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def store_inbound(
        self,
        *,
        modem: str,
        sender: str,
        text: str,
        network_timestamp: datetime,
        pdu_hash: str,
        concat_ref: int | None = None,
        part_info: tuple[int, int] = (1, 1),
        complete: bool = True,
        received_at: datetime | None = None,
    ) -> tuple[int, bool]:
        """Commit a message before the modem deletes it: (id, False) if it was seen before."""
        parts_received, parts_expected = part_info
        params = (
            modem,
            sender,
            text,
            to_ms(received_at or self._clock()),
            to_ms(network_timestamp),
            concat_ref,
            parts_received,
            parts_expected,
            pdu_hash,
            int(complete),
        )
        key = (sender, to_ms(network_timestamp), concat_ref, pdu_hash)

        def store(conn: sqlite3.Connection) -> tuple[int, bool]:
            row = conn.execute(_INSERT, params).fetchone()
            if row is not None:
                return int(row[0]), True
            found = conn.execute(_FIND_DUPLICATE, key).fetchone()
            if found is None:
                raise sqlite3.IntegrityError("inbound insert ignored but no duplicate found")
            return int(found[0]), False

        # Several modems' messages arriving together share one commit.
        return await self._db.write_soon(store, within=INBOUND_COMMIT_DELAY_S)

    async def mark_inbound_processed(self, message_id: int, now: datetime | None = None) -> bool:
        """The router acted on it; False if it was already marked (a second router pass)."""
        async with self._db.write() as conn:
            cursor = await conn.execute(_MARK_PROCESSED, (to_ms(now or self._clock()), message_id))
            return cursor.rowcount == 1

    async def unprocessed_inbound(
        self, after_id: int = 0, limit: int = UNPROCESSED_PAGE
    ) -> list[InboundMessage]:
        """What the router has not acted on yet, oldest first, for start-up and catch-up."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(_UNPROCESSED, (after_id, limit))
        return [_inbound(row) for row in rows]

    async def get_inbound(self, message_id: int) -> InboundMessage | None:
        """One stored message, for the admin page."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(_SELECT, (message_id,))
        return next((_inbound(row) for row in rows), None)


def _inbound(row: sqlite3.Row) -> InboundMessage:
    return InboundMessage(
        id=int(row["id"]),
        modem=str(row["modem"]),
        sender=str(row["sender"]),
        body=str(row["body"]),
        received_at=from_ms(row["received_at"]),
        network_timestamp=from_ms(row["network_timestamp"]),
        concat_ref=row["concat_ref"],
        parts_received=int(row["parts_received"]),
        parts_expected=int(row["parts_expected"]),
        pdu_hash=str(row["pdu_hash"]),
        complete=bool(row["complete"]),
        processed_at=opt_from_ms(row["processed_at"]),
    )
