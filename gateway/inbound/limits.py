"""Abuse limits, checked inside the routing transaction so two texts cannot both slip through."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Final

from gateway.inbound.settings import InboundSettings
from gateway.storage.outbox_rows import millis

HOUR_MS: Final = millis(timedelta(hours=1))
DAY_MS: Final = millis(timedelta(days=1))
# States that count against the limits: a refused or rejected alert reached nobody.
_COUNTED: Final = "('pending', 'relayed')"


def alert_refusal(
    conn: sqlite3.Connection,
    *,
    resident_id: int,
    zone_id: int,
    settings: InboundSettings,
    now_ms: int,
) -> str | None:
    """Why a new alert must not go out ('sender_limit', 'zone_limit'), or None."""
    since = now_ms - HOUR_MS
    by_sender = _count(
        conn,
        f"SELECT count(*) FROM neighbour_alert WHERE resident_id = ? AND created_at > ?"
        f" AND state IN {_COUNTED}",
        (resident_id, since),
    )
    if by_sender >= settings.sender_per_hour:
        return "sender_limit"
    in_zone = _count(
        conn,
        f"SELECT count(*) FROM neighbour_alert WHERE zone_id = ? AND created_at > ?"
        f" AND state IN {_COUNTED} AND by_town = 0",
        (zone_id, since),
    )
    if in_zone >= settings.zone_per_hour:
        return "zone_limit"
    return None


def reply_allowed(
    conn: sqlite3.Connection, number: str, kind: str, *, settings: InboundSettings, now_ms: int
) -> bool:
    """At most `replies_per_day` automatic replies to a number, and one unknown-sender notice.

    This is what stops two gateways (or an auto-responder) from texting each other forever.
    """
    since = now_ms - DAY_MS
    total = _count(
        conn, "SELECT count(*) FROM auto_reply WHERE number = ? AND at > ?", (number, since)
    )
    if total >= settings.replies_per_day:
        return False
    if kind == "unknown":
        notices = _count(
            conn,
            "SELECT count(*) FROM auto_reply WHERE number = ? AND kind = 'unknown' AND at > ?",
            (number, since),
        )
        return notices == 0
    return True


def _count(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row is not None else 0
