"""The admin side of neighbour alerts: a post labelled as the town, and delivery counts.

A town post is an ordinary neighbour alert with no resident behind it: the sender's name is
the town's, so the relay prefix reads "Ville de Démo: …", and it goes to the same members of
the zone through the same recipients table and outbox flush. Staff posts skip the per-resident
limits and moderation (staff are the moderators) and the block list (no number sends it).
They are also exempt from the zone's hourly limit and do not count toward it (`by_town`): a
police warning must go out whatever the neighbours posted, and must not use up the hour's
allowance that lets a resident warn their street right after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway.inbound import store
from gateway.inbound.relay import MAX_POST_CHARS, EmptyAlert, NeighbourAlerts
from gateway.inbound.store import AlertState, Decision
from gateway.storage.database import Database
from gateway.storage.times import to_ms

# Outbox states as the admin page groups them; an email copy has its own state column.
_DELIVERY: Final = """
SELECT nr.alert_id,
    CASE WHEN nr.channel = 'sms' THEN coalesce(m.state, 'queued') ELSE nr.state END AS state,
    count(*)
FROM neighbour_recipient nr LEFT JOIN message m ON m.id = nr.message_id
WHERE nr.alert_id IN ({marks})
GROUP BY 1, 2
"""
_PENDING_STATES: Final = frozenset({"queued", "sending"})
_FAILED_STATES: Final = frozenset({"failed", "expired", "unknown", "cancelled"})


class UnknownZone(ValueError):
    """The zone to post to does not exist."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where one alert's relays are: delivered, sent (not yet confirmed), waiting, failed."""

    delivered: int = 0
    sent: int = 0
    waiting: int = 0
    failed: int = 0


async def post_as_town(alerts: NeighbourAlerts, zone_id: int, body: str, *, by: str) -> Decision:
    """Relay `body` to the zone's members, prefixed with the town's name, and flush it."""
    db, clock = _parts(alerts)
    text = " ".join(body.split())
    if not text:
        raise EmptyAlert
    text = text[:MAX_POST_CHARS]
    settings = alerts.settings
    now_ms = to_ms(clock())

    def create(conn: sqlite3.Connection) -> Decision | None:
        if conn.execute("SELECT 1 FROM zone WHERE id = ?", (zone_id,)).fetchone() is None:
            return None
        cursor = conn.execute(
            "INSERT INTO neighbour_alert (inbound_id, resident_id, zone_id, source,"
            " sender_number, sender_name, show_number, body, state, reason, decided_by,"
            " created_at, decided_at, by_town)"
            " VALUES (NULL, NULL, ?, 'web', '', ?, '', ?, ?, '', ?, ?, ?, 1)",
            (zone_id, settings.town_name, text, AlertState.RELAYED.value, by, now_ms, now_ms),
        )
        alert_id = cursor.lastrowid
        assert alert_id is not None
        store.write_recipients(conn, alert_id, settings)
        return Decision(alert_id, AlertState.RELAYED)

    decision = await db.write_fn(create)
    if decision is None:
        raise UnknownZone(zone_id)
    await alerts.flush()
    return decision


async def deliveries(alerts: NeighbourAlerts, alert_ids: Sequence[int]) -> dict[int, Delivery]:
    """Per alert, its recipients grouped by the outbox state of their message."""
    if not alert_ids:
        return {}
    db, _clock = _parts(alerts)
    ids = list(alert_ids)
    sql = _DELIVERY.format(marks=", ".join("?" * len(ids)))
    rows = await db.read_fn(lambda conn: conn.execute(sql, ids).fetchall())
    counts: dict[int, dict[str, int]] = {}
    for alert_id, state, count in rows:
        bucket = counts.setdefault(int(alert_id), {})
        key = str(state)
        if key in _PENDING_STATES:
            key = "waiting"
        elif key in _FAILED_STATES:
            key = "failed"
        bucket[key] = bucket.get(key, 0) + int(count)
    return {
        alert_id: Delivery(
            delivered=c.get("delivered", 0),
            sent=c.get("sent", 0),
            waiting=c.get("waiting", 0),
            failed=c.get("failed", 0),
        )
        for alert_id, c in counts.items()
    }


def database(alerts: NeighbourAlerts) -> Database:
    """The relay's database, for the block list functions of gateway.inbound.lists."""
    return _parts(alerts)[0]


def _parts(alerts: NeighbourAlerts) -> tuple[Database, Callable[[], datetime]]:
    """The relay's database and clock: this module is the relay's admin half, same package."""
    return alerts._db, alerts._clock
