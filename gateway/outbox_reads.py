"""The outbox's read-only look-ups: one message, its parts, counts for the UI and dashboard.

Part of `Outbox` (a base class of it); nothing here writes.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.storage import outbox_sql as sql
from gateway.storage.database import Database
from gateway.storage.outbox_models import MessageClass, MessageState, OutboundMessage, SentPart
from gateway.storage.outbox_rows import fetch_message, part_from_row
from gateway.storage.times import to_ms


class OutboxReads:
    """Look-ups over the message tables; `Outbox` provides the database."""

    _db: Database

    async def get(self, message_id: int) -> OutboundMessage | None:
        """One message, for the UI and the API's status look-up."""
        return await self._db.read_fn(lambda conn: fetch_message(conn, message_id))

    async def parts(self, message_id: int) -> list[SentPart]:
        """Every part sent for a message, over all its attempts."""

        def select(conn: sqlite3.Connection) -> list[SentPart]:
            rows = conn.execute(sql.SELECT_PARTS, (message_id,)).fetchall()
            return [part_from_row(row) for row in rows]

        return await self._db.read_fn(select)

    async def part_times(self, modem: str, since: datetime) -> list[float]:
        """When each part a modem sent since `since` went out (epoch s), so a restart keeps
        counting them against the SIM's daily cap."""

        def select(conn: sqlite3.Connection) -> list[float]:
            rows = conn.execute(sql.PART_TIMES, (modem, to_ms(since))).fetchall()
            return [int(row[0]) / 1000 for row in rows]

        return await self._db.read_fn(select)

    async def counts_by_state(self, campaign_id: int | None = None) -> dict[MessageState, int]:
        """Every state with its count (zeros included), overall or for one campaign."""

        def count(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            if campaign_id is None:
                return conn.execute(sql.COUNT_BY_STATE).fetchall()
            return conn.execute(sql.COUNT_BY_STATE_FOR_CAMPAIGN, (campaign_id,)).fetchall()

        rows = await self._db.read_fn(count)
        counts = dict.fromkeys(MessageState, 0)
        counts.update({MessageState(row[0]): int(row[1]) for row in rows})
        return counts

    async def queue_depth_by_class(self) -> dict[MessageClass, int]:
        """Queued messages per class (zeros included), for the dashboard."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(sql.QUEUE_DEPTH_BY_CLASS).fetchall()
        )
        depth = dict.fromkeys(MessageClass, 0)
        depth.update({MessageClass(row[0]): int(row[1]) for row in rows})
        return depth
