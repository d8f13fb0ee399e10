"""The admin's view of past neighbour alerts: a filtered, paged list and one alert's recipients
with the delivery state of each (from the outbox for SMS, from the copy's row for email)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway.inbound import store, town
from gateway.inbound.relay import NeighbourAlerts
from gateway.storage.times import opt_from_ms, to_ms

# A row of the list per alert; a page is short enough for a phone, long enough for a day.
PAGE_SIZE: Final = 50
_LIKE_ESCAPE: Final = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})

_RECIPIENTS: Final = """
SELECT nr.channel, nr.destination, nr.resident_id,
    coalesce(r.first_name || ' ' || r.last_name, '') AS name,
    CASE WHEN nr.channel = 'sms' THEN coalesce(m.state, 'queued') ELSE nr.state END AS state,
    CASE WHEN nr.channel = 'sms' THEN coalesce(m.attempts, 0) ELSE nr.attempts END AS attempts,
    CASE WHEN nr.channel = 'sms' THEN coalesce(m.last_error, '') ELSE nr.last_error END AS error,
    m.sent_at, m.finished_at
FROM neighbour_recipient nr
LEFT JOIN message m ON m.id = nr.message_id
LEFT JOIN resident r ON r.id = nr.resident_id
WHERE nr.alert_id = ?
ORDER BY nr.channel = 'email', nr.destination
"""


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What the admin narrowed the list to; empty fields do not filter."""

    zone_id: int | None = None
    state: str = ""  # one of store.AlertState, or ""
    sender: str = ""  # part of the sender's name or number, or "town"
    since: datetime | None = None  # created at or after
    before: datetime | None = None  # created before


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of the list and how many alerts match in all."""

    alerts: list[store.NeighbourAlert]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class RecipientDelivery:
    """One recipient of one alert and where their copy is."""

    channel: str
    destination: str
    resident_id: int | None
    name: str
    state: str  # the outbox state (sms) or queued / sent / failed (email)
    attempts: int
    error: str
    sent_at: datetime | None
    finished_at: datetime | None


async def search(
    alerts: NeighbourAlerts, wanted: AlertFilter, page: int = 1, size: int = PAGE_SIZE
) -> AlertPage:
    """The alerts matching `wanted`, newest first, page `page` (from 1) of `size`."""
    where, params = _where(wanted)
    db = town.database(alerts)

    def select(conn: sqlite3.Connection) -> tuple[int, list[store.NeighbourAlert]]:
        total = int(
            conn.execute(f"SELECT count(*) FROM neighbour_alert a{where}", params).fetchone()[0]
        )
        pages = max(1, -(-total // size))
        number = min(max(page, 1), pages)
        rows = conn.execute(
            f"{store.ALERT_SELECT}{where} ORDER BY a.id DESC LIMIT ? OFFSET ?",
            (*params, size, (number - 1) * size),
        )
        return total, [store.alert_from_row(r) for r in rows]

    total, found = await db.read_fn(select)
    pages = max(1, -(-total // size))
    return AlertPage(found, total, min(max(page, 1), pages), pages)


async def recipients(alerts: NeighbourAlerts, alert_id: int) -> list[RecipientDelivery]:
    """Every recipient of the alert, SMS first, with its delivery state."""
    db = town.database(alerts)

    def select(conn: sqlite3.Connection) -> list[RecipientDelivery]:
        return [
            RecipientDelivery(
                channel=str(r[0]),
                destination=str(r[1]),
                resident_id=None if r[2] is None else int(r[2]),
                name=str(r[3]).strip(),
                state=str(r[4]),
                attempts=int(r[5]),
                error=str(r[6]),
                sent_at=opt_from_ms(r[7]),
                finished_at=opt_from_ms(r[8]),
            )
            for r in conn.execute(_RECIPIENTS, (alert_id,))
        ]

    return await db.read_fn(select)


def _where(wanted: AlertFilter) -> tuple[str, tuple[object, ...]]:
    clauses: list[str] = []
    params: list[object] = []
    if wanted.zone_id is not None:
        clauses.append("a.zone_id = ?")
        params.append(wanted.zone_id)
    if wanted.state in {s.value for s in store.AlertState}:
        clauses.append("a.state = ?")
        params.append(wanted.state)
    sender = wanted.sender.strip()
    if sender.lower() == "town":
        clauses.append("a.by_town = 1")
    elif sender:
        digits = "".join(ch for ch in sender if ch.isdigit())
        like = f"%{sender.translate(_LIKE_ESCAPE)}%"
        parts = ["a.sender_name LIKE ? ESCAPE '\\'"]
        params.append(like)
        if len(digits) >= 3:  # a number, typed any way: match on its digits
            parts.append("replace(a.sender_number, '+', '') LIKE ?")
            parts.append("replace(replace(a.show_number, ' ', ''), '-', '') LIKE ?")
            params.extend([f"%{digits}%", f"%{digits}%"])
        clauses.append("(" + " OR ".join(parts) + ")")
    if wanted.since is not None:
        clauses.append("a.created_at >= ?")
        params.append(to_ms(wanted.since))
    if wanted.before is not None:
        clauses.append("a.created_at < ?")
        params.append(to_ms(wanted.before))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
