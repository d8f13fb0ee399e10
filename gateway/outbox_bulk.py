"""Outbox operations over many rows at once: erasing a number, a campaign's queued rows, expiry.

Part of `Outbox` (a base class of it), apart from the claim and send cycle: none of these
makes work due, so none tells the dispatcher anything.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

from gateway.storage import outbox_sql as sql
from gateway.storage.database import Database
from gateway.storage.times import to_ms


class BulkOperations:
    """Account erasure, campaign cancel and defer, expiry; `Outbox` provides db and clock."""

    _db: Database
    _clock: Callable[[], datetime]

    async def forget_destination(
        self, destination: str, forms: Sequence[str] = (), now: datetime | None = None
    ) -> int:
        """Erase a number from the outbox (account deletion); returns the rows it touched.

        Queued messages to it are cancelled; every message to it keeps its state and counts
        but loses its destination and body, and status reports lose the recipient.
        `forms` are other spellings an SMSC may use in a report (national digits, no +)."""
        params = {
            "destination": destination,
            "erased": sql.ERASED_DESTINATION,
            "now": to_ms(now or self._clock()),
        }

        def forget(conn: sqlite3.Connection) -> int:
            conn.execute(sql.FORGET_CANCEL_QUEUED, params)
            ids = [int(row[0]) for row in conn.execute(sql.FORGET_ERASE, params)]
            conn.execute(
                sql.FORGET_STATUS_REPORTS,
                {"forms": json.dumps([destination, *forms]), "ids": json.dumps(ids)},
            )
            return len(ids)

        return await self._db.write_fn(forget)

    async def cancel_campaign(self, campaign_id: int, now: datetime | None = None) -> int:
        """Cancel what is still queued of a campaign; what is sending or sent carries on."""
        params = {"campaign": campaign_id, "now": to_ms(now or self._clock())}
        return await self._db.write_fn(
            lambda conn: int(conn.execute(sql.CANCEL_CAMPAIGN, params).rowcount)
        )

    async def defer_campaign(
        self, campaign_id: int, until: datetime, valid_until: datetime, now: datetime | None = None
    ) -> int:
        """Hold a campaign's queued rows until `until` (quiet hours); returns how many."""
        params = {
            "campaign": campaign_id,
            "until": to_ms(until),
            "valid": to_ms(valid_until),
            "now": to_ms(now or self._clock()),
        }
        return await self._db.write_fn(
            lambda conn: int(conn.execute(sql.DEFER_CAMPAIGN, params).rowcount)
        )

    async def expire(self, now: datetime | None = None) -> int:
        """Expire queued rows past valid_until now, rather than at the next claim."""
        params = {"now": to_ms(now or self._clock())}
        return await self._db.write_fn(
            lambda conn: int(conn.execute(sql.EXPIRE_QUEUED, params).rowcount)
        )
