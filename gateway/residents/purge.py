"""Periodic clean-up of what expires: one-time codes, sessions, spent captchas, old counters.

Every check already ignores expired rows; purging keeps the tables small and, for codes and
sessions, removes data nobody may use any more. The service runs `purge_expired` on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
# Often enough that a dead session or code lingers minutes, not hours; each pass is one
# short write transaction on indexed columns.
PURGE_EVERY: Final = timedelta(minutes=10)
# Budget and sign-in counters look back at most a day (budgets.py, throttle.py).
COUNTER_WINDOW: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Purged:
    """Rows deleted by one pass, per kind."""

    codes: int
    sessions: int
    captchas: int
    counters: int


async def purge_expired(
    db: Database, settings: ResidentSettings, now: datetime | None = None
) -> Purged:
    """Delete expired codes and sessions, spent captchas past expiry and day-old counters."""
    moment = now or utc_now()
    now_ms = to_ms(moment)
    old_ms = to_ms(moment - COUNTER_WINDOW)
    async with db.write() as conn:
        # A code whose voice fallback call still waits stays until that call is over.
        codes = await conn.execute(
            "DELETE FROM otp_code WHERE expires_at <= ? AND (fallback_id IS NULL OR NOT EXISTS"
            " (SELECT 1 FROM message m WHERE m.id = fallback_id"
            " AND m.state IN ('queued', 'sending')))",
            (now_ms,),
        )
        sessions = await conn.execute(
            "DELETE FROM web_session WHERE last_seen_at <= ? OR created_at <= ?",
            (to_ms(moment - settings.session_idle), to_ms(moment - settings.session_absolute)),
        )
        captchas = await conn.execute("DELETE FROM captcha_spent WHERE expires_at <= ?", (now_ms,))
        sends = await conn.execute("DELETE FROM send_event WHERE at <= ?", (old_ms,))
        failures = await conn.execute("DELETE FROM signin_failure WHERE at <= ?", (old_ms,))
        return Purged(
            codes=codes.rowcount,
            sessions=sessions.rowcount,
            captchas=captchas.rowcount,
            counters=sends.rowcount + failures.rowcount,
        )


def start_purging(db: Database, settings: ResidentSettings) -> asyncio.Task[None]:
    """Purge now and then every PURGE_EVERY until cancelled (stop_purging)."""
    return asyncio.create_task(_purge_forever(db, settings), name="residents purge")


async def stop_purging(task: asyncio.Task[None] | None) -> None:
    """Cancel the timer task and wait for it."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _purge_forever(db: Database, settings: ResidentSettings) -> None:
    while True:
        try:
            purged = await purge_expired(db, settings)
            _LOGGER.debug("purged %s", purged)
        except Exception:
            # A busy or failing database must not kill the timer: the next pass tries again.
            _LOGGER.exception("purge of expired codes and sessions failed")
        await asyncio.sleep(PURGE_EVERY.total_seconds())
