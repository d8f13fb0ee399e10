"""Neighbour alerts as the router, the web pages and the admins use them.

An alert and its recipients are committed first (store.py); `flush` then puts each SMS in
the outbox with an idempotency key per alert and number, so a crash between the two sends
every relay once, and never twice.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from gateway.inbound import store
from gateway.inbound.email import EmailCopies
from gateway.inbound.email_verify import EmailVerification
from gateway.inbound.settings import InboundSettings
from gateway.inbound.store import AlertState, Decision, NeighbourAlert
from gateway.outbox import Channel, MessageClass, NewMessage, Outbox
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
# Alerts shown in a community's feed: a few days of a busy street.
FEED_SIZE: Final = 20
# What a resident may type on the page; the relayed text is cut further to the SMS caps.
MAX_POST_CHARS: Final = 1000
# An automatic reply nobody could read for a day answers a question no longer asked.
REPLY_VALID: Final = timedelta(days=1)

_PENDING_RELAYS: Final = """
SELECT nr.alert_id, nr.destination, nr.body, nr.language, a.created_at
FROM neighbour_recipient nr JOIN neighbour_alert a ON a.id = nr.alert_id
WHERE nr.channel = 'sms' AND nr.message_id IS NULL
ORDER BY nr.alert_id, nr.destination
"""
_PENDING_NOTICES: Final = (
    "SELECT alert_id, number, body, language, at FROM neighbour_notice"
    " WHERE message_id IS NULL ORDER BY alert_id"
)
_PENDING_REPLIES: Final = (
    "SELECT id, inbound_id, number, body, language, at FROM auto_reply"
    " WHERE message_id IS NULL ORDER BY id"
)


class EmptyAlert(ValueError):
    """Nothing to relay: the text was blank."""


class NeighbourAlerts:
    """Post, moderate, list and deliver neighbour alerts."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        settings: InboundSettings,
        *,
        email: EmailCopies | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self._db = db
        self._outbox = outbox
        self.email = email or EmailCopies(db, settings)
        self.verification = EmailVerification(db, settings, self.email.deliver, clock=clock)
        self._clock = clock
        self._flush_lock = asyncio.Lock()

    async def post(self, resident_id: int, body: str) -> Decision | None:
        """A resident's alert from the web page; None when the resident is gone."""
        text = " ".join(body.split())
        if not text:
            raise EmptyAlert
        text = text[:MAX_POST_CHARS]
        now_ms = to_ms(self._clock())
        settings = self.settings

        def create(conn: sqlite3.Connection) -> Decision | None:
            sender = store.sender_by_id(conn, resident_id)
            if sender is None:
                return None
            return store.create_alert(
                conn,
                sender,
                body=text,
                sender_number="",
                inbound_id=None,
                settings=settings,
                now_ms=now_ms,
            )

        decision = await self._db.write_fn(create)
        if decision is not None:
            _LOGGER.info("neighbour alert %d from the web: %s", decision.alert_id, decision.state)
            if decision.state is AlertState.RELAYED:
                await self.flush()
        return decision

    async def approve(self, alert_id: int, *, by: str) -> bool:
        """Relay a pending alert now; False when it was not pending."""
        return await self._decide(alert_id, approve=True, by=by)

    async def reject(self, alert_id: int, *, by: str) -> bool:
        """Drop a pending alert; False when it was not pending."""
        return await self._decide(alert_id, approve=False, by=by)

    async def get(self, alert_id: int) -> NeighbourAlert | None:
        """One alert with its recipient count."""
        alerts = await self._select(" WHERE a.id = ?", (alert_id,))
        return alerts[0] if alerts else None

    async def pending(self) -> list[NeighbourAlert]:
        """The moderation queue, oldest first."""
        return await self._select(" WHERE a.state = 'pending' ORDER BY a.id", ())

    async def recent(self, limit: int = 100) -> list[NeighbourAlert]:
        """Every alert, newest first, for the admin page."""
        return await self._select(" ORDER BY a.id DESC LIMIT ?", (limit,))

    async def feed(self, zone_id: int, limit: int = FEED_SIZE) -> list[NeighbourAlert]:
        """A community's relayed alerts, newest first."""
        return await self._select(
            " WHERE a.zone_id = ? AND a.state = 'relayed' ORDER BY a.created_at DESC, a.id DESC"
            " LIMIT ?",
            (zone_id, limit),
        )

    async def zone_of(self, resident_id: int) -> tuple[int, str] | None:
        """The resident's community (id, name), from their street; None without one."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT z.id, z.name FROM resident r JOIN street s ON s.id = r.street_id"
                    " JOIN zone z ON z.id = s.zone_id WHERE r.id = ?",
                    (resident_id,),
                )
            )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    async def email_alerts(self, resident_id: int) -> bool:
        """Whether the resident asked for email copies."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT email_alerts FROM neighbour_preference WHERE resident_id = ?",
                    (resident_id,),
                )
            )
        return bool(rows and rows[0][0])

    async def set_email_alerts(self, resident_id: int, enabled: bool) -> None:
        """Turn email copies on or off."""
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO neighbour_preference (resident_id, email_alerts) VALUES (?, ?)"
                " ON CONFLICT (resident_id) DO UPDATE SET email_alerts = excluded.email_alerts",
                (resident_id, int(enabled)),
            )

    async def flush(self) -> int:
        """Put every decided relay and reply not yet in the outbox there; returns how many."""
        async with self._flush_lock:
            relays = await self._db.read_fn(lambda c: list(c.execute(_PENDING_RELAYS)))
            replies = await self._db.read_fn(lambda c: list(c.execute(_PENDING_REPLIES)))
            notices = await self._db.read_fn(lambda c: list(c.execute(_PENDING_NOTICES)))
            for alert_id, number, body, language, created_ms in relays:
                await self._enqueue_sms(
                    MessageClass.RELAY,
                    (number, body, language),
                    valid_until=_at(created_ms) + self.settings.relay_valid,
                    idempotency_key=f"neighbour:{alert_id}:{number}",
                    link_sql="UPDATE neighbour_recipient SET message_id = ?"
                    " WHERE alert_id = ? AND channel = 'sms' AND destination = ?",
                    link_params=(alert_id, number),
                )
            for reply_id, inbound_id, number, body, language, at_ms in replies:
                await self._enqueue_sms(
                    MessageClass.REPLY,
                    (number, body, language),
                    valid_until=_at(at_ms) + REPLY_VALID,
                    idempotency_key=f"inbound-reply:{inbound_id}",
                    link_sql="UPDATE auto_reply SET message_id = ? WHERE id = ?",
                    link_params=(reply_id,),
                )
            for alert_id, number, body, language, at_ms in notices:
                await self._enqueue_sms(
                    MessageClass.REPLY,
                    (number, body, language),
                    valid_until=_at(at_ms) + REPLY_VALID,
                    idempotency_key=f"neighbour-notice:{alert_id}",
                    link_sql="UPDATE neighbour_notice SET message_id = ? WHERE alert_id = ?",
                    link_params=(alert_id,),
                )
        self.email.kick()
        return len(relays) + len(replies) + len(notices)

    async def _decide(self, alert_id: int, *, approve: bool, by: str) -> bool:
        now_ms = to_ms(self._clock())
        settings = self.settings

        def decide(conn: sqlite3.Connection) -> bool:
            return store.decide(
                conn, alert_id, approve=approve, by=by, settings=settings, now_ms=now_ms
            )

        changed = await self._db.write_fn(decide)
        if changed:
            _LOGGER.info(
                "neighbour alert %d %s by %s", alert_id, "approved" if approve else "rejected", by
            )
            await self.flush()  # the relays, or the rejection notice
        return changed

    async def _select(self, where: str, params: tuple[object, ...]) -> list[NeighbourAlert]:
        def select(conn: sqlite3.Connection) -> list[NeighbourAlert]:
            return [
                store.alert_from_row(r) for r in conn.execute(store.ALERT_SELECT + where, params)
            ]

        return await self._db.read_fn(select)

    async def _enqueue_sms(
        self,
        message_class: MessageClass,
        text: tuple[object, object, object],
        *,
        valid_until: datetime,
        idempotency_key: str,
        link_sql: str,
        link_params: tuple[object, ...],
    ) -> None:
        """One SMS (number, body, language) into the outbox, then its id written back by
        `link_sql` (the id first), so the next flush does not queue it again."""
        number, body, language = text
        message_id = await self._outbox.enqueue(
            NewMessage(
                message_class=message_class,
                channel=Channel.SMS,
                destination=str(number),
                body=str(body),
                language=str(language),
                valid_until=valid_until,
                idempotency_key=idempotency_key,
            )
        )

        def update(conn: sqlite3.Connection) -> None:
            conn.execute(link_sql, (message_id, *link_params))

        await self._db.write_fn(update)


def _at(ms: object) -> datetime:
    return from_ms(int(str(ms)))
