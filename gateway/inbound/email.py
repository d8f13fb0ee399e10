"""Email copies of neighbour alerts, over SMTP, in a background task that never blocks the SMS.

Each copy is a `neighbour_recipient` row (channel email) committed with the alert; this task
sends what is queued, retries with backoff, and marks the row sent or failed. A restart picks
up what is still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Final

import aiosmtplib

from gateway.inbound import texts
from gateway.inbound.settings import InboundSettings
from gateway.storage.database import Database

_LOGGER = logging.getLogger(__name__)
# Backoff doubles per attempt up to this factor of the base: a server down for an hour is
# retried a few times, not hammered.
_MAX_BACKOFF_FACTOR: Final = 32
# Copies sent per pass: one alert rarely reaches more; the next pass takes the rest.
_BATCH: Final = 200
_ERROR_CHARS: Final = 200  # enough to read the SMTP reply on the admin page

_QUEUED: Final = """
SELECT nr.alert_id, nr.destination, nr.body, nr.language, nr.attempts, a.sender_name
FROM neighbour_recipient nr JOIN neighbour_alert a ON a.id = nr.alert_id
WHERE nr.channel = 'email' AND nr.state = 'queued'
ORDER BY nr.alert_id, nr.destination LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class _Copy:
    alert_id: int
    destination: str
    body: str
    language: str
    attempts: int
    sender_name: str


Send = Callable[[EmailMessage], Awaitable[object]]


class EmailCopies:
    """Sends queued email copies in one background task; `kick` after an alert is relayed."""

    def __init__(self, db: Database, settings: InboundSettings, send: Send | None = None) -> None:
        self._db = db
        self._settings = settings
        self._send = send or self._smtp_send
        self._task: asyncio.Task[None] | None = None
        self._again = False

    async def deliver(self, message: EmailMessage) -> None:
        """Send one message now through the configured SMTP server (verification links)."""
        await self._send(message)

    def kick(self) -> None:
        """Start a pass, or ask the running one to look again when it ends."""
        if not self._settings.email_enabled:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run(), name="neighbour email copies")

    async def idle(self) -> None:
        """Wait until nothing is being sent (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Cancel the pass in progress; what is queued stays queued for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._settings.email_retry_base.total_seconds()
        while True:
            self._again = False
            copies = await self._db.read_fn(_queued)
            failures = 0
            for copy in copies:
                if not await self._send_one(copy):
                    failures += 1
            if failures:
                # Retry the failed copies after a pause, longer each time.
                await asyncio.sleep(delay)
                delay = min(
                    delay * 2, self._settings.email_retry_base.total_seconds() * _MAX_BACKOFF_FACTOR
                )
                continue
            if not self._again and len(copies) < _BATCH:
                return

    async def _send_one(self, copy: _Copy) -> bool:
        settings = self._settings
        message = EmailMessage()
        message["From"] = settings.email_from
        message["To"] = copy.destination
        message["Subject"] = texts.email_subject(
            copy.language, town=settings.town_name, name=copy.sender_name
        )
        footer = texts.email_footer(
            copy.language, website=settings.website, contact=settings.contact_number
        )
        message.set_content(f"{copy.body}\n\n-- \n{footer}\n")
        try:
            await self._send(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            attempts = copy.attempts + 1
            final = attempts >= settings.email_max_attempts
            _LOGGER.warning(
                "email copy of neighbour alert %d to %s failed (attempt %d%s): %s",
                copy.alert_id,
                copy.destination,
                attempts,
                ", giving up" if final else "",
                exc,
            )
            await self._record(copy, "failed" if final else "queued", attempts, str(exc))
            return final  # a copy given up on is not retried
        await self._record(copy, "sent", copy.attempts + 1, "")
        return True

    async def _record(self, copy: _Copy, state: str, attempts: int, error: str) -> None:
        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE neighbour_recipient SET state = ?, attempts = ?, last_error = ?"
                " WHERE alert_id = ? AND channel = 'email' AND destination = ?",
                (state, attempts, error[:_ERROR_CHARS], copy.alert_id, copy.destination),
            )

        await self._db.write_fn(update)

    async def _smtp_send(self, message: EmailMessage) -> object:
        return await smtp_send(self._settings, message)


async def smtp_send(settings: InboundSettings, message: EmailMessage) -> object:
    """One message through the configured SMTP server (also used for alarm notices)."""
    return await aiosmtplib.send(
        message,
        hostname=settings.email_host,
        port=settings.email_port,
        username=settings.email_user or None,
        password=settings.email_password or None,
        use_tls=settings.email_tls == "tls",
        start_tls=settings.email_tls == "starttls",
        timeout=settings.email_timeout.total_seconds(),
    )


def _queued(conn: sqlite3.Connection) -> list[_Copy]:
    return [
        _Copy(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]))
        for r in conn.execute(_QUEUED, (_BATCH,))
    ]
