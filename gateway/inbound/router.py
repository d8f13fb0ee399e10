"""Routes each committed inbound SMS exactly once: keyword, neighbour alert, or a notice.

The decision, its effects (opt-out, alert and recipients, the reply to send) and the
`processed_at` mark are one transaction, so a crash either routes a message fully or not at
all; what was decided is then put in the outbox with idempotency keys (relay.flush). On
start-up, whatever is unprocessed is routed and whatever was decided but not enqueued is.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway import keywords
from gateway.events import EventBus
from gateway.inbound import limits, lists, store, texts
from gateway.inbound.relay import NeighbourAlerts
from gateway.inbound.settings import InboundSettings
from gateway.keywords import Keyword
from gateway.outbox import Outbox
from gateway.storage.database import Database
from gateway.storage.inbox import Inbox
from gateway.storage.times import to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
_SELECT_INBOUND: Final = "SELECT sender, body, processed_at FROM inbound WHERE id = ?"
_MARK_PROCESSED: Final = "UPDATE inbound SET processed_at = ? WHERE id = ?"


class Route(enum.StrEnum):
    """What the router did with one inbound SMS."""

    ALREADY = "already"  # routed before (a second pass after a restart)
    MISSING = "missing"  # no such row
    NOT_ANSWERABLE = "not_answerable"  # short code or alphanumeric sender: kept, ignored
    KEYWORD = "keyword"
    ALERT = "alert"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"  # not a resident: the registration notice, at most once a day


@dataclass(frozen=True, slots=True)
class Routed:
    """The router's verdict on one message."""

    route: Route
    keyword: Keyword | None = None
    decision: store.Decision | None = None
    replied: bool = False


class InboundRouter:
    """Routes inbound SMS in one background task, in arrival order."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        inbox: Inbox,
        settings: InboundSettings,
        *,
        bus: EventBus | None = None,
        alerts: NeighbourAlerts | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.alerts = alerts or NeighbourAlerts(db, outbox, settings, clock=clock)
        self._db = db
        self._inbox = inbox
        self._bus = bus
        self._clock = clock
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Route what a previous run left unprocessed, finish its enqueues, then listen."""
        after = 0
        while batch := await self._inbox.unprocessed_inbound(after_id=after):
            for message in batch:
                await self.route(message.id)
            after = batch[-1].id
        await self.alerts.flush()
        self._worker = asyncio.create_task(self._work(), name="inbound router")

    async def stop(self) -> None:
        """Stop routing; anything not yet routed is routed at the next start."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        await self.alerts.email.stop()

    def submit(self, inbound_id: int) -> None:
        """A new inbound SMS was committed: route it soon."""
        self._queue.put_nowait(inbound_id)

    async def idle(self) -> None:
        """Wait until every submitted message is routed (tests)."""
        await self._queue.join()

    async def route(self, inbound_id: int) -> Routed:
        """Decide and commit, then enqueue what was decided."""
        now_ms = to_ms(self._clock())
        settings = self.settings

        def decide(conn: sqlite3.Connection) -> Routed:
            return _route_in_transaction(conn, inbound_id, settings, now_ms)

        routed = await self._db.write_fn(decide)
        _LOGGER.info("inbound %d routed: %s", inbound_id, routed.route)
        decision = routed.decision
        if routed.replied or (
            decision is not None and (decision.state is store.AlertState.RELAYED or decision.notice)
        ):
            await self.alerts.flush()
        if self._bus is not None and routed.decision is not None:
            self._bus.publish(
                "neighbour_alert",
                id=routed.decision.alert_id,
                state=str(routed.decision.state),
                reason=routed.decision.reason,
            )
        return routed

    async def _work(self) -> None:
        while True:
            inbound_id = await self._queue.get()
            try:
                await self.route(inbound_id)
            except Exception:
                # Left unprocessed: the next start routes it again.
                _LOGGER.exception("routing inbound %d failed", inbound_id)
            finally:
                self._queue.task_done()


def _route_in_transaction(
    conn: sqlite3.Connection, inbound_id: int, settings: InboundSettings, now_ms: int
) -> Routed:
    """The whole decision on the writer's thread, with processed_at set in the same commit."""
    row = conn.execute(_SELECT_INBOUND, (inbound_id,)).fetchone()
    if row is None:
        return Routed(Route.MISSING)
    if row[2] is not None:
        return Routed(Route.ALREADY)
    sender, body = str(row[0]), str(row[1])
    conn.execute(_MARK_PROCESSED, (now_ms, inbound_id))
    if not lists.is_answerable(sender):
        return Routed(Route.NOT_ANSWERABLE)
    match = keywords.match_keyword(body)
    if match is not None:
        return _keyword(conn, inbound_id, sender, match, settings=settings, now_ms=now_ms)
    if lists.is_blocked_in(conn, sender):
        return Routed(Route.BLOCKED)
    resident = store.sender_by_sms(conn, sender)
    if resident is not None:
        decision = store.create_alert(
            conn,
            resident,
            body=body,
            sender_number=sender,
            inbound_id=inbound_id,
            settings=settings,
            now_ms=now_ms,
        )
        return Routed(Route.ALERT, decision=decision)
    # Someone who said STOP hears nothing more from us, not even how to register.
    language = texts.language_or(None, settings.town_language)
    notice = texts.unknown_sender_reply(
        language,
        town=settings.town_name,
        website=settings.website,
        contact=settings.contact_number,
    )
    replied = not lists.opted_out_in(conn, sender) and _reply(
        conn,
        inbound_id,
        sender,
        kind="unknown",
        body=notice,
        language=language,
        settings=settings,
        now_ms=now_ms,
    )
    return Routed(Route.UNKNOWN, replied=replied)


def _keyword(
    conn: sqlite3.Connection,
    inbound_id: int,
    sender: str,
    match: keywords.KeywordMatch,
    *,
    settings: InboundSettings,
    now_ms: int,
) -> Routed:
    """STOP confirms once (a second STOP is not answered); START and HELP within the budget."""
    keyword = match.keyword
    if keyword is Keyword.STOP:
        changed = lists.opt_out_in(conn, sender, inbound_id, now_ms)
    elif keyword is Keyword.START:
        changed = lists.opt_in_in(conn, sender) or True
    else:
        changed = True
    if not changed:
        return Routed(Route.KEYWORD, keyword=keyword)
    resident = store.sender_by_sms(conn, sender)
    language = texts.language_or(
        match.language or (resident.language if resident else None), settings.town_language
    )
    text = keywords.reply_text(
        keyword, language, town=settings.town_name, contact=settings.contact_number
    )
    replied = _reply(
        conn,
        inbound_id,
        sender,
        kind=keyword.value,
        body=text,
        language=language,
        settings=settings,
        now_ms=now_ms,
    )
    return Routed(Route.KEYWORD, keyword=keyword, replied=replied)


def _reply(
    conn: sqlite3.Connection,
    inbound_id: int,
    number: str,
    *,
    kind: str,
    body: str,
    language: str,
    settings: InboundSettings,
    now_ms: int,
) -> bool:
    """Record an automatic reply, if the number's daily budget allows one."""
    if not limits.reply_allowed(conn, number, kind, settings=settings, now_ms=now_ms):
        _LOGGER.info("no %s reply to %s: daily reply budget used", kind, number)
        return False
    conn.execute(
        "INSERT INTO auto_reply (inbound_id, number, kind, body, language, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (inbound_id, number, kind, body, language, now_ms),
    )
    return True
