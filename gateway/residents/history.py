"""What the gateway sent to a resident's numbers: outbox messages with their call outcomes.

Read from the outbox (message, voice_call, campaign), never from a copy: the resident page
shows what really happened to each SMS and call, whatever sent it (alert, relay, code).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms

HISTORY_LIMIT = 100
_BODY_SHOWN = 160


@dataclass(frozen=True, slots=True)
class SentItem:
    """One message or call to one of the resident's numbers."""

    message_id: int
    number: str
    channel: str  # sms or voice
    message_class: str  # otp, relay, reply, alert, api
    state: str
    attempts: int
    campaign_title: str  # '' when not a municipal alert
    body: str  # cut to a preview; one-time codes are masked
    call_outcome: str  # the latest call's outcome ('' for SMS or no call yet)
    created_at: datetime
    finished_at: datetime | None


async def sent_to(
    db: Database, numbers: Sequence[str], limit: int = HISTORY_LIMIT
) -> list[SentItem]:
    """Newest first, at most `limit`, for these E.164 numbers (the message_destination index)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    marks = ", ".join("?" * len(wanted))

    def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
        return conn.execute(
            "SELECT m.id, m.destination, m.channel, m.class, m.state, m.attempts,"
            " coalesce(c.title, ''), m.body,"
            " coalesce((SELECT v.outcome FROM voice_call v WHERE v.message_id = m.id"
            "  ORDER BY v.attempt DESC LIMIT 1), ''),"
            " m.created_at, m.finished_at"
            " FROM message m LEFT JOIN campaign c ON c.id = m.campaign_id"
            f" WHERE m.destination IN ({marks}) ORDER BY m.id DESC LIMIT ?",
            [*wanted, limit],
        ).fetchall()

    rows = await db.read_fn(select)
    return [_item(row) for row in rows]


def _item(row: sqlite3.Row) -> SentItem:
    message_class = str(row[3])
    body = str(row[7])
    # Staff have no business reading a resident's one-time codes.
    shown = "" if message_class == "otp" else body[:_BODY_SHOWN]
    return SentItem(
        message_id=int(row[0]),
        number=str(row[1]),
        channel=str(row[2]),
        message_class=message_class,
        state=str(row[4]),
        attempts=int(row[5]),
        campaign_title=str(row[6]),
        body=shown,
        call_outcome=str(row[8]),
        created_at=from_ms(int(row[9])),
        finished_at=opt_from_ms(row[10]),
    )
