"""Alerts scheduled for later, and quiet hours for alerts already running.

One task sleeps until the next thing to do (a scheduled alert's time, or the start of quiet
hours), then does it (`tick`); creating, editing or cancelling a scheduled alert wakes it. The
alerts are rows, so a restart loses none: the task reads them again when the service opens,
and an alert whose time passed while the gateway was down starts at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway.campaigns import repository as repo
from gateway.campaigns.errors import AlreadyStarted, DraftError
from gateway.campaigns.models import Admin, CampaignState, Draft, ScheduledAlert, Severity
from gateway.campaigns.targeting import Target, TargetError
from gateway.outbox import Outbox
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

if TYPE_CHECKING:
    from gateway.campaigns.service import CampaignService

_LOGGER = logging.getLogger(__name__)
# The task re-reads the clock at least this often, so a clock change (NTP step, DST is not
# one: times are UTC) is noticed within the hour.
MAX_SLEEP_S = 3600.0
# How many scheduled alerts the list shows (waiting ones first).
RECENT = 50


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one pass did, for logs and tests."""

    started: tuple[int, ...] = ()  # campaign ids
    failed: tuple[int, ...] = ()  # scheduled ids that could not start
    deferred: int = 0  # queued messages held for quiet hours


class Scheduler:
    """The scheduled_alert table's door, and the task that starts them on time."""

    def __init__(
        self,
        service: CampaignService,
        db: Database,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._service = service
        self._db = db
        self._outbox = outbox
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ---- staff actions

    async def schedule(
        self, draft: Draft, target: Target, send_at: datetime, admin: Admin, *, client: str = ""
    ) -> int:
        """Store an alert for `send_at` (which must be ahead); returns its id."""
        draft = self._service.check_draft(draft)
        now = self._clock()
        if send_at <= now:
            raise DraftError("send_at", "send_at")
        scheduled_id = await self._db.write_fn(
            lambda conn: repo.insert_scheduled(
                conn,
                draft,
                target.to_json(),
                send_at_ms=to_ms(send_at),
                created_by=admin.id,
                now_ms=to_ms(now),
            )
        )
        await self._service.audit.record(
            "scheduled.create",
            admin=admin,
            detail=f"@{scheduled_id} {draft.title!r} at {send_at.isoformat()}",
            client=client,
        )
        self._wake.set()
        return scheduled_id

    async def update(
        self,
        scheduled_id: int,
        draft: Draft,
        target: Target,
        send_at: datetime,
        admin: Admin,
        *,
        client: str = "",
    ) -> None:
        """Edit a waiting alert; AlreadyStarted once it started or was cancelled."""
        draft = self._service.check_draft(draft)
        now = self._clock()
        if send_at <= now:
            raise DraftError("send_at", "send_at")
        changed = await self._db.write_fn(
            lambda conn: repo.update_scheduled(
                conn,
                scheduled_id,
                draft,
                target=target.to_json(),
                send_at_ms=to_ms(send_at),
                now_ms=to_ms(now),
            )
        )
        if not changed:
            raise AlreadyStarted(f"scheduled alert {scheduled_id} is no longer waiting")
        await self._service.audit.record(
            "scheduled.edit",
            admin=admin,
            detail=f"@{scheduled_id} {draft.title!r} at {send_at.isoformat()}",
            client=client,
        )
        self._wake.set()

    async def cancel(self, scheduled_id: int, admin: Admin, *, client: str = "") -> None:
        """Cancel a waiting alert; AlreadyStarted once it started."""
        now_ms = to_ms(self._clock())
        if not await self._db.write_fn(
            lambda conn: repo.end_scheduled(conn, scheduled_id, "cancelled", now_ms)
        ):
            raise AlreadyStarted(f"scheduled alert {scheduled_id} is no longer waiting")
        await self._service.audit.record(
            "scheduled.cancel", admin=admin, detail=f"@{scheduled_id}", client=client
        )
        self._wake.set()

    async def get(self, scheduled_id: int) -> ScheduledAlert | None:
        """One scheduled alert with a readable target."""
        found = await self._db.read_fn(lambda conn: repo.fetch_scheduled(conn, scheduled_id))
        return None if found is None else await self._labelled(found)

    async def recent(self) -> list[ScheduledAlert]:
        """For the alerts page: waiting ones by time, then the latest others."""
        found = await self._db.read_fn(lambda conn: repo.fetch_recent_scheduled(conn, RECENT))
        return [await self._labelled(item) for item in found]

    # ---- the task

    def start(self) -> None:
        """Start the task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tocsin-campaign-scheduler")

    async def stop(self) -> None:
        """Stop the task; nothing is lost (the rows stay)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def tick(self) -> TickResult:
        """Start what is due; in quiet hours, hold running information alerts."""
        now = self._clock()
        due = await self._db.read_fn(lambda conn: repo.fetch_waiting(conn, to_ms(now)))
        started: list[int] = []
        failed: list[int] = []
        for item in due:
            campaign_id = await self._start(item)
            if campaign_id is None:
                failed.append(item.id)
            else:
                started.append(campaign_id)
        deferred = await self._hold_for_quiet_hours(now)
        return TickResult(tuple(started), tuple(failed), deferred)

    async def next_wake(self) -> datetime | None:
        """The next time `tick` has work: a scheduled alert's time or quiet hours' start."""
        now = self._clock()
        waiting = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT min(send_at) FROM scheduled_alert WHERE state = 'waiting'"
            ).fetchone()[0]
        )
        times = [] if waiting is None else [from_ms(int(waiting))]
        quiet = self._service.settings.quiet_hours
        if quiet is not None:
            times.append(quiet.next_start(now))
        return min(times) if times else None

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                await self.tick()
                wake = await self.next_wake()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad row must not stop the alerts behind it
                _LOGGER.exception("campaign scheduler pass failed; trying again in a minute")
                wake = self._clock() + timedelta(minutes=1)
            delay = MAX_SLEEP_S if wake is None else (wake - self._clock()).total_seconds()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(MAX_SLEEP_S, max(0, delay)))

    async def _start(self, item: ScheduledAlert) -> int | None:
        try:
            target = Target.from_json(item.target)
            preview = await self._service.preview(item.draft, target)
            if not preview.recipients:
                raise DraftError("target", "nobody")
            creator = await self._db.read_fn(
                lambda conn: conn.execute(
                    "SELECT created_by FROM scheduled_alert WHERE id = ?", (item.id,)
                ).fetchone()[0]
            )
            campaign_id = await self._service.start(
                item.draft, target, creator, scheduled_id=item.id
            )
        except AlreadyStarted:
            return None
        except (DraftError, TargetError, ValueError) as exc:
            reason = getattr(exc, "code", str(exc))
            _LOGGER.warning("scheduled alert @%d could not start: %s", item.id, reason)
            now_ms = to_ms(self._clock())
            await self._db.write_fn(
                lambda conn: repo.end_scheduled(conn, item.id, "failed", now_ms, reason)
            )
            await self._service.audit.record(
                "scheduled.failed", username="scheduler", detail=f"@{item.id}: {reason}"
            )
            return None
        _LOGGER.info("scheduled alert @%d started as alert #%d", item.id, campaign_id)
        return campaign_id

    async def _hold_for_quiet_hours(self, now: datetime) -> int:
        quiet = self._service.settings.quiet_hours
        until = None if quiet is None else quiet.end_if_quiet(now)
        if until is None:
            return 0
        campaigns = await self._db.read_fn(lambda conn: repo.fetch_campaigns(conn, 1000))
        held = 0
        valid_until = until + self._service.settings.valid_for
        for campaign in campaigns:
            if (
                campaign.state is CampaignState.SENDING
                and campaign.draft.severity is Severity.INFORMATION
            ):
                count = await self._outbox.defer_campaign(campaign.id, until, valid_until, now)
                if count:
                    _LOGGER.info(
                        "quiet hours: alert #%d holds %d message(s) until %s",
                        campaign.id,
                        count,
                        until,
                    )
                held += count
        return held

    async def _labelled(self, item: ScheduledAlert) -> ScheduledAlert:
        label = await self._service.reference.describe(Target.from_json(item.target))
        return replace(item, target_label=label)
