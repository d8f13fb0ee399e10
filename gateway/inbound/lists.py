"""The opt-out list (STOP) and the admin block list, by number.

`is_opted_out` is what campaigns consult before texting a number; the relay excludes the
same numbers in SQL (`OPTED_OUT_SUBQUERY`) so a fan-out needs no per-row call.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

# "c.number NOT IN (…)": for queries that choose SMS recipients.
OPTED_OUT_SUBQUERY: Final = "SELECT number FROM sms_opt_out"
# A number we may answer has a country code and a subscriber number: short codes (5-6 digits)
# and alphanumeric senders ("ORANGE", "BANQUE") are services that cannot read a reply and may
# charge for one.
_MIN_ANSWERABLE_DIGITS: Final = 8
_ANSWERABLE: Final = re.compile(rf"\+[1-9][0-9]{{{_MIN_ANSWERABLE_DIGITS - 1},14}}")


@dataclass(frozen=True, slots=True)
class BlockedSender:
    """One entry of the block list, for the admin page."""

    number: str
    reason: str
    blocked_by: str
    at: datetime


def is_answerable(sender: str) -> bool:
    """True for a person's E.164 number; False for short codes and alphanumeric senders."""
    return _ANSWERABLE.fullmatch(sender) is not None


async def is_opted_out(db: Database, number: str) -> bool:
    """True when this number answered STOP and not START since: text it nothing."""
    async with db.read() as conn:
        rows = list(
            await conn.execute_fetchall("SELECT 1 FROM sms_opt_out WHERE number = ?", (number,))
        )
    return bool(rows)


def opted_out_in(conn: sqlite3.Connection, number: str) -> bool:
    """is_opted_out inside the caller's transaction."""
    return (
        conn.execute("SELECT 1 FROM sms_opt_out WHERE number = ?", (number,)).fetchone() is not None
    )


def opt_out_in(conn: sqlite3.Connection, number: str, inbound_id: int | None, now_ms: int) -> bool:
    """Record a STOP; False when the number was already out (no second confirmation)."""
    cursor = conn.execute(
        "INSERT INTO sms_opt_out (number, inbound_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT (number) DO NOTHING",
        (number, inbound_id, now_ms),
    )
    return cursor.rowcount == 1


def opt_in_in(conn: sqlite3.Connection, number: str) -> bool:
    """Undo a STOP; False when the number was not out."""
    return conn.execute("DELETE FROM sms_opt_out WHERE number = ?", (number,)).rowcount == 1


def is_blocked_in(conn: sqlite3.Connection, number: str) -> bool:
    """True when an admin blocked this sender."""
    return (
        conn.execute("SELECT 1 FROM sender_block WHERE number = ?", (number,)).fetchone()
        is not None
    )


async def block_sender(
    db: Database, number: str, *, reason: str = "", by: str = "", now: datetime | None = None
) -> None:
    """Stop relaying and answering this number (its STOP and START still work)."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO sender_block (number, reason, blocked_by, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (number) DO UPDATE SET reason = excluded.reason,"
            " blocked_by = excluded.blocked_by, at = excluded.at",
            (number, reason, by, to_ms(now or utc_now())),
        )


async def unblock_sender(db: Database, number: str) -> bool:
    """Lift a block; False when the number was not blocked."""
    async with db.write() as conn:
        cursor = await conn.execute("DELETE FROM sender_block WHERE number = ?", (number,))
        return cursor.rowcount == 1


async def blocked_senders(db: Database) -> list[BlockedSender]:
    """The block list, newest first."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT number, reason, blocked_by, at FROM sender_block ORDER BY at DESC"
        )
    return [BlockedSender(str(r[0]), str(r[1]), str(r[2]), from_ms(int(r[3]))) for r in rows]
