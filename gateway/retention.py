"""The retention purge: old personal data goes after the configured number of days (0 keeps it).

Runs once a day inside the service (and once shortly after start, since a box may be rebooted
more often than daily). Nothing still queued, in flight or awaiting a decision is touched: a
neighbour alert with a relay not yet sent, an inbound message not yet routed or whose reply
is not yet queued, a message not yet finished, a code whose voice call is still pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Final

from gateway.config import Config
from gateway.outbox import Outbox
from gateway.residents.erase import erase_resident
from gateway.residents.phones import spellings
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

_LOGGER = logging.getLogger(__name__)

PURGE_INTERVAL_S: Final = 86400.0
# After start: long enough that start-up work (recovery, the first sends) goes first.
FIRST_PURGE_DELAY_S: Final = 300.0


def _alert_settled(alert: str) -> str:
    """SQL true once neighbour alert `alert` (a table name or alias) is decided and no relay is
    in flight: an SMS not yet enqueued or whose message is queued or sending, or an email copy
    still queued."""
    return f"""
    {alert}.state <> 'pending' AND NOT EXISTS (
        SELECT 1 FROM neighbour_recipient r
        LEFT JOIN message m ON m.id = r.message_id
        WHERE r.alert_id = {alert}.id AND (
            (r.channel = 'email' AND r.state = 'queued')
            OR (r.channel = 'sms' AND (r.message_id IS NULL OR m.state IN ('queued', 'sending')))
        )
    )"""


_NEIGHBOUR_DONE: Final = _alert_settled("neighbour_alert")
# An inbound message is done once routed, its automatic reply queued and its alert settled.
_INBOUND_DONE: Final = f"""
    processed_at IS NOT NULL
    AND NOT EXISTS (
        SELECT 1 FROM auto_reply a WHERE a.inbound_id = inbound.id AND a.message_id IS NULL
    )
    AND NOT EXISTS (
        SELECT 1 FROM neighbour_alert n WHERE n.inbound_id = inbound.id
        AND NOT ({_alert_settled("n")})
    )"""
_FINISHED_STATES: Final = "('delivered', 'failed', 'cancelled', 'expired', 'unknown')"


@dataclass(frozen=True)
class RetentionSettings:
    """Days each kind of record is kept; 0 keeps it forever."""

    neighbour_alert_days: int = 0
    inbound_days: int = 0
    audit_days: int = 0
    message_body_days: int = 0
    inactive_account_days: int = 0
    admin_session_idle_s: float = 1800.0
    admin_session_absolute_s: float = 43200.0

    @classmethod
    def from_config(cls, config: Config) -> RetentionSettings:
        return cls(
            neighbour_alert_days=config.get_int("retention.neighbour_alert_days"),
            inbound_days=config.get_int("retention.inbound_days"),
            audit_days=config.get_int("retention.audit_days"),
            message_body_days=config.get_int("retention.message_body_days"),
            inactive_account_days=config.get_int("retention.inactive_account_days"),
            admin_session_idle_s=config.get_float("admin.session_idle_s"),
            admin_session_absolute_s=config.get_float("admin.session_absolute_s"),
        )


@dataclass(frozen=True)
class PurgeReport:
    """Rows removed (or, for message bodies and staff accounts, emptied and disabled)."""

    neighbour_alerts: int = 0
    inbound: int = 0
    audit: int = 0
    message_bodies: int = 0
    sessions: int = 0
    residents: int = 0
    admins_disabled: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Retention:
    """One purge pass over the database, by an injected clock (tests shift it)."""

    def __init__(
        self,
        db: Database,
        settings: RetentionSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        outbox: Outbox | None = None,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._erased: list[str] = []
        self._settings = settings
        self._clock = clock

    async def purge(self) -> PurgeReport:
        """Everything due, in one transaction (all or nothing on a power cut)."""
        now = self._clock()
        self._erased = []
        report = await self._db.write_fn(lambda conn: self._purge(conn, now))
        # Abandoned accounts go as an account deletion does: their numbers leave the outbox too.
        if self._outbox is not None:
            for number in self._erased:
                await self._outbox.forget_destination(number, spellings(number)[1:], now)
        if any(report.as_dict().values()):
            _LOGGER.info("retention purge: %s", report.as_dict())
        return report

    def _purge(self, conn: sqlite3.Connection, now: datetime) -> PurgeReport:
        s = self._settings

        def cutoff(days: int) -> int | None:
            return to_ms(now - timedelta(days=days)) if days > 0 else None

        def run(sql: str, *params: object) -> int:
            return conn.execute(sql, params).rowcount

        counts: dict[str, int] = {}
        if (cut := cutoff(s.neighbour_alert_days)) is not None:
            # Their relays (recipient rows, bodies included) go with them (ON DELETE CASCADE).
            counts["neighbour_alerts"] = run(
                f"DELETE FROM neighbour_alert WHERE created_at < ? AND {_NEIGHBOUR_DONE}", cut
            )
        if (cut := cutoff(s.inbound_days)) is not None:
            counts["inbound"] = run(
                f"DELETE FROM inbound WHERE received_at < ? AND {_INBOUND_DONE}", cut
            )
        if (cut := cutoff(s.audit_days)) is not None:
            counts["audit"] = run("DELETE FROM audit_log WHERE at < ?", cut)
        if (cut := cutoff(s.message_body_days)) is not None:
            # The row stays (counts, reports, delivery history); only the text goes.
            counts["message_bodies"] = run(
                "UPDATE message SET body = '' WHERE finished_at IS NOT NULL AND finished_at < ?"
                f" AND state IN {_FINISHED_STATES} AND body <> ''",
                cut,
            )
        # Resident codes and sessions are purged every few minutes by residents/purge.py.
        counts["sessions"] = run(
            "DELETE FROM admin_session WHERE last_seen_at < ? OR created_at < ?",
            to_ms(now - timedelta(seconds=s.admin_session_idle_s)),
            to_ms(now - timedelta(seconds=s.admin_session_absolute_s)),
        )
        if (cut := cutoff(s.inactive_account_days)) is not None:
            # Abandoned: no sign-in or profile change for that long AND nothing that receives
            # alerts. A resident who only ever receives alerts is using the service.
            abandoned = [
                int(row[0])
                for row in conn.execute(
                    "SELECT id FROM resident WHERE coalesce(last_login_at, updated_at) < ?"
                    " AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM contact c"
                    " WHERE c.resident_id = resident.id AND c.active = 1 AND c.verified = 1)",
                    (cut, cut),
                )
            ]
            for resident_id in abandoned:
                self._erased.extend(erase_resident(conn, resident_id)[1])
            counts["residents"] = len(abandoned)
            # Staff accounts are disabled, not deleted: the audit log names them.
            counts["admins_disabled"] = run(
                "UPDATE admin SET active = 0 WHERE active = 1"
                " AND coalesce(last_login_at, created_at) < ?",
                cut,
            )
        return PurgeReport(**counts)


async def run_daily(retention: Retention, *, first_delay_s: float, interval_s: float) -> None:
    """Purge after `first_delay_s`, then every `interval_s`, until cancelled; errors logged."""
    delay = first_delay_s
    while True:
        await asyncio.sleep(delay)
        delay = interval_s
        try:
            await retention.purge()
        except (sqlite3.Error, OSError) as exc:
            _LOGGER.error("retention purge failed: %s", exc)


def start_scheduled(
    db: Database,
    config: Config,
    outbox: Outbox | None = None,
    *,
    first_delay_s: float = FIRST_PURGE_DELAY_S,
    interval_s: float = PURGE_INTERVAL_S,
) -> asyncio.Task[None]:
    """The service's daily purge task (expired staff sessions go even when all days are 0)."""
    retention = Retention(db, RetentionSettings.from_config(config), outbox=outbox)
    return asyncio.create_task(
        run_daily(retention, first_delay_s=first_delay_s, interval_s=interval_s),
        name="retention purge",
    )


async def stop_scheduled(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
