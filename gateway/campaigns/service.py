"""Alerts as staff use them: preview, send, pause, resume, cancel, progress, report.

Pause is cancel-the-rest: `Outbox.cancel_campaign` cancels what is still queued (what a modem
holds carries on), and resume queues those recipients again under a new generation of
idempotency keys. The dispatcher needs no notion of campaigns, and a paused alert costs the
claim path nothing. Each recipient's latest outbox row is its truth.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from gateway.campaigns import repository as repo
from gateway.campaigns.admins import AdminAccounts, AdminSessions, AuditLog
from gateway.campaigns.errors import AlreadyStarted, DraftError, StateError
from gateway.campaigns.models import (
    Admin,
    Campaign,
    CampaignState,
    Draft,
    LanguagePreview,
    Preview,
    Progress,
    Recipient,
    ReportRow,
    Severity,
)
from gateway.campaigns.progress import Timeline, measure, timeline
from gateway.campaigns.reference import ReferenceData
from gateway.campaigns.scheduler import Scheduler
from gateway.campaigns.settings import CampaignSettings
from gateway.campaigns.targeting import Target, plan, select_contacts
from gateway.campaigns.templates import Templates
from gateway.campaigns.texts import plain_gsm, segments
from gateway.campaigns.totp import TotpFactor
from gateway.dispatcher import ModemPool
from gateway.events import EventBus
from gateway.modem_worker import Health
from gateway.outbox import Channel, MessageClass, NewMessage, Outbox
from gateway.service import Gateway
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
_TITLE_MAX = 120
_BODY_MAX = 1000
_LANGUAGES = ("fr", "en")
__all__ = ["AlreadyStarted", "CampaignService", "DraftError", "StateError"]


class CampaignService:
    """What the admin pages call; one per app, built in its lifespan."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        bus: EventBus,
        pool: ModemPool,
        settings: CampaignSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.accounts = AdminAccounts(db, clock=clock)
        self.sessions = AdminSessions(
            db, idle=settings.session_idle, absolute=settings.session_absolute, clock=clock
        )
        self.audit = AuditLog(db, clock=clock)
        self.totp = TotpFactor(
            db,
            clock=clock,
            max_failures=settings.totp_max_failures,
            lockout=settings.totp_lockout,
        )
        self.templates = Templates(db, clock=clock)
        self.reference = ReferenceData(db)
        self.bus = bus
        self._db = db
        self._outbox = outbox
        self._pool = pool
        self._clock = clock
        self.scheduler = Scheduler(self, db, outbox, clock=clock)

    @classmethod
    async def open(cls, gateway: Gateway) -> CampaignService:
        """For a started Gateway: settings from its config, interrupted fan-outs finished."""
        assert gateway.db is not None, "gateway not started"
        service = cls(
            gateway.db,
            gateway.outbox,
            gateway.bus,
            gateway.pool,
            CampaignSettings.from_config(gateway.config.values),
        )
        resumed = await service.resume_interrupted()
        if resumed:
            _LOGGER.info("finished %d alert fan-out(s) interrupted by a restart", resumed)
        service.scheduler.start()
        return service

    async def close(self) -> None:
        """Stop the scheduler task (scheduled alerts stay stored for the next start)."""
        await self.scheduler.stop()

    def now(self) -> datetime:
        """The service's clock (tests inject one)."""
        return self._clock()

    def hold_until(self, draft: Draft, moment: datetime) -> datetime | None:
        """The end of the quiet window `moment` is in, for an information alert; else None."""
        quiet = self.settings.quiet_hours
        if quiet is None or draft.severity is Severity.EMERGENCY:
            return None
        return quiet.end_if_quiet(moment)

    def finish_time(self, draft: Draft, start: datetime, sending_s: float) -> datetime:
        """When sending that takes `sending_s` ends if started at `start`, quiet hours counted."""
        quiet = self.settings.quiet_hours
        if quiet is None or draft.severity is Severity.EMERGENCY:
            return start + timedelta(seconds=sending_s)
        return quiet.finish(start, sending_s)

    async def resume_interrupted(self) -> int:
        """At start-up: finish fan-outs a crash interrupted (idempotency keys skip the rest)."""
        campaigns = await self._db.read_fn(lambda conn: repo.fetch_campaigns(conn, 1000))
        resumed = 0
        for campaign in campaigns:
            if campaign.state is CampaignState.SENDING and not campaign.fanned_out:
                recipients = await self._db.read_fn(
                    functools.partial(repo.all_recipients, campaign_id=campaign.id)
                )
                await self._fan_out(campaign, recipients)
                resumed += 1
        return resumed

    # ---- compose

    def check_draft(self, draft: Draft) -> Draft:
        """Trimmed, or DraftError: a title and a French text are required, English optional."""
        title, body_fr, body_en = draft.title.strip(), draft.body_fr.strip(), draft.body_en.strip()
        if not title or len(title) > _TITLE_MAX:
            raise DraftError("title", "title")
        if not body_fr or len(body_fr) > _BODY_MAX:
            raise DraftError("body_fr", "body")
        if len(body_en) > _BODY_MAX:
            raise DraftError("body_en", "body")
        return dataclasses.replace(draft, title=title, body_fr=body_fr, body_en=body_en)

    def consent_override(self, draft: Draft) -> bool:
        """Emergencies reach everyone only when the town configured it."""
        return draft.severity is Severity.EMERGENCY and self.settings.emergency_overrides_consent

    async def preview(
        self, draft: Draft, target: Target, *, send_at: datetime | None = None
    ) -> Preview:
        """Recipients, SMS cost per language and the ETA, as Send would do it (now or later)."""
        draft = self.check_draft(draft)
        override = self.consent_override(draft)
        matched, points = await self._db.read_fn(lambda conn: select_contacts(conn, target))
        chosen = plan(
            points,
            draft.channels.kinds,
            override_consent=override,
            default_language=self.settings.default_language,
        )
        languages = []
        total_parts = 0
        for language in _LANGUAGES:
            text = body_for(draft, language)
            info, plain = segments(text), segments(plain_gsm(text))
            numbers = sum(
                1 for r in chosen.recipients if r.channel == "sms" and r.language == language
            )
            calls = sum(
                1 for r in chosen.recipients if r.channel == "voice" and r.language == language
            )
            total_parts += numbers * info.parts
            languages.append(
                LanguagePreview(
                    language,
                    numbers,
                    calls,
                    info.encoding,
                    info.parts,
                    info.forcing_chars,
                    plain.parts,
                )
            )
        eta_s = self.eta_for_parts(total_parts)
        start = max(send_at or self._clock(), self._clock())
        held = self.hold_until(draft, start)
        ends = None if eta_s is None else self.finish_time(draft, start, eta_s)
        crosses = ends is not None and ends > start + timedelta(seconds=eta_s or 0) + timedelta(
            seconds=1
        )
        return Preview(
            residents_matched=matched,
            residents_reached=chosen.residents_reached,
            sms_numbers=chosen.per_kind.get("sms", 0),
            voice_numbers=chosen.per_kind.get("voice", 0),
            duplicates_merged=chosen.duplicates_merged,
            without_consent=chosen.without_consent,
            opted_out=chosen.opted_out,
            consent_override=override,
            languages=tuple(languages),
            sms_parts=total_parts,
            eta_s=eta_s,
            calls_possible=self.calls_possible(),
            recipients=chosen.recipients,
            starts_at=held
            or (send_at if send_at is not None and send_at > self._clock() else None),
            ends_at=ends,
            quiet_hold=held is not None or crosses,
        )

    def eta_for_parts(self, parts: int) -> float | None:
        """Seconds to hand `parts` SMS parts to the network at the pool's measured rate."""
        if parts == 0:
            return 0.0
        rate = self._pool.send_rate()
        return None if rate <= 0 else parts / rate

    def calls_possible(self) -> bool:
        """True when some modem up now places voice calls."""
        return any(
            "voice" in worker.settings.channels
            and worker.status.health not in (Health.DOWN, Health.BLOCKED)
            for worker in self._pool.workers
        )

    # ---- send and control

    async def send(
        self,
        draft: Draft,
        target: Target,
        admin: Admin | None,
        *,
        client: str = "",
        actor: str = "",
        on_insert: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> int:
        """Store the campaign and its recipients, then queue every message; returns its id.

        Without an `admin` (the HTTP API) the audit log names `actor`; `on_insert` runs in the
        campaign's own transaction (the API records its idempotency key there: both or none).
        """
        return await self.start(
            draft,
            target,
            admin.id if admin is not None else None,
            admin=admin,
            client=client,
            actor=actor,
            on_insert=on_insert,
        )

    async def start(
        self,
        draft: Draft,
        target: Target,
        created_by: int | None,
        *,
        admin: Admin | None = None,
        client: str = "",
        scheduled_id: int | None = None,
        actor: str = "",
        on_insert: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> int:
        """Send now; a scheduled alert is marked started in the same transaction (once only)."""
        preview = await self.preview(draft, target)
        draft = self.check_draft(draft)
        new = repo.NewCampaign(
            draft=draft,
            target=target.to_json(),
            consent_override=preview.consent_override,
            residents=preview.residents_reached,
            sms_parts=preview.sms_parts,
            eta_s=preview.eta_s,
            created_by=created_by,
            created_at_ms=to_ms(self._clock()),
        )

        def insert(conn: sqlite3.Connection) -> int:
            campaign_id = repo.insert_campaign(conn, new, preview.recipients)
            if scheduled_id is not None and not repo.mark_scheduled_started(
                conn, scheduled_id, campaign_id, new.created_at_ms
            ):
                raise AlreadyStarted(f"scheduled alert {scheduled_id} is no longer waiting")
            if on_insert is not None:
                on_insert(conn, campaign_id)
            return campaign_id

        campaign_id = await self._db.write_fn(insert)
        await self.audit.record(
            "campaign.send" if scheduled_id is None else "scheduled.start",
            admin=admin,
            username=actor or "scheduler",
            detail=f"#{campaign_id} {draft.title!r}: {len(preview.recipients)} recipients",
            client=client,
        )
        campaign = await self.get(campaign_id)
        assert campaign is not None
        await self._fan_out(campaign, preview.recipients)
        return campaign_id

    async def pause(
        self, campaign_id: int, admin: Admin | None, *, client: str = "", actor: str = ""
    ) -> int:
        """Cancel what is still queued; returns how many messages were held back.

        Pause, resume and cancel: without an `admin` (the HTTP API) the audit log names `actor`.
        """
        await self._move(campaign_id, CampaignState.PAUSED, (CampaignState.SENDING,))
        held = await self._outbox.cancel_campaign(campaign_id)
        await self.audit.record(
            "campaign.pause",
            admin=admin,
            username=actor,
            detail=f"#{campaign_id}: {held} held",
            client=client,
        )
        return held

    async def resume(
        self, campaign_id: int, admin: Admin | None, *, client: str = "", actor: str = ""
    ) -> int:
        """Queue again every recipient a pause held back; returns how many."""
        await self._move(
            campaign_id, CampaignState.SENDING, (CampaignState.PAUSED,), next_generation=True
        )
        campaign = await self.get(campaign_id)
        assert campaign is not None
        recipients = await self._db.read_fn(
            lambda conn: repo.recipients_to_queue(conn, campaign_id)
        )
        await self._fan_out(campaign, recipients)
        await self.audit.record(
            "campaign.resume",
            admin=admin,
            username=actor,
            detail=f"#{campaign_id}: {len(recipients)} queued again",
            client=client,
        )
        return len(recipients)

    async def cancel(
        self, campaign_id: int, admin: Admin | None, *, client: str = "", actor: str = ""
    ) -> int:
        """Nothing further is sent (what a modem holds right now finishes)."""
        await self._move(
            campaign_id,
            CampaignState.CANCELLED,
            (CampaignState.SENDING, CampaignState.PAUSED),
            finished=True,
        )
        cancelled = await self._outbox.cancel_campaign(campaign_id)
        await self.audit.record(
            "campaign.cancel",
            admin=admin,
            username=actor,
            detail=f"#{campaign_id}: {cancelled} cancelled",
            client=client,
        )
        return cancelled

    # ---- read

    async def get(self, campaign_id: int) -> Campaign | None:
        """One campaign with a readable target, or None."""
        campaign = await self._db.read_fn(lambda conn: repo.fetch_campaign(conn, campaign_id))
        if campaign is None:
            return None
        label = await self.reference.describe(Target.from_json(campaign.target))
        return dataclasses.replace(campaign, target_label=label)

    async def history(self, limit: int = 100) -> list[tuple[Campaign, Progress]]:
        """Newest first, each with its progress."""
        campaigns = await self._db.read_fn(lambda conn: repo.fetch_campaigns(conn, limit))
        return [(campaign, await self.progress(campaign)) for campaign in campaigns]

    async def progress(self, campaign: Campaign) -> Progress:
        """Counts and ETA now; marks the campaign done once every message is final."""
        now = self._clock()
        found = await self._db.read_fn(lambda conn: measure(conn, campaign.id, to_ms(now)))
        rate = found.rate
        if rate is not None:
            eta: float | None = found.queued_sms / rate
        else:
            per_message = campaign.sms_parts / max(1, found.total_sms)
            eta = self.eta_for_parts(round(found.queued_sms * max(1.0, per_message)))
        if eta is not None and campaign.state is CampaignState.SENDING:
            eta = (self.finish_time(campaign.draft, now, eta) - now).total_seconds()
        progress = found.progress(eta)
        if (
            campaign.state is CampaignState.SENDING
            and campaign.fanned_out
            and progress.finished == progress.total
        ):
            finished_ms = to_ms(now)
            await self._db.write_fn(
                lambda conn: repo.set_state(
                    conn,
                    campaign.id,
                    CampaignState.DONE,
                    allowed_from=(CampaignState.SENDING,),
                    finished_ms=finished_ms,
                )
            )
        return progress

    async def timeline(self, campaign: Campaign) -> Timeline:
        """Sends over time and per modem, for the chart."""
        end = campaign.finished_at or self._clock()
        return await self._db.read_fn(
            lambda conn: timeline(conn, campaign.id, to_ms(campaign.created_at), to_ms(end))
        )

    async def report(
        self,
        campaign_id: int,
        *,
        state: str = "",
        channel: str = "",
        search: str = "",
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[int, list[ReportRow]]:
        """Recipients with their latest message, filtered; and how many match in all."""
        states = repo.STATE_GROUPS.get(state, ())
        return await self._db.read_fn(
            lambda conn: repo.report_rows(
                conn,
                campaign_id,
                states=states,
                channel=channel if channel in ("sms", "voice") else "",
                search=search.strip()[:80],
                limit=limit,
                offset=offset,
            )
        )

    # ---- helpers

    async def _move(
        self,
        campaign_id: int,
        state: CampaignState,
        allowed: Sequence[CampaignState],
        *,
        finished: bool = False,
        next_generation: bool = False,
    ) -> None:
        finished_ms = to_ms(self._clock()) if finished else None

        def move(conn: sqlite3.Connection) -> bool:
            return repo.set_state(
                conn,
                campaign_id,
                state,
                allowed_from=allowed,
                finished_ms=finished_ms,
                next_generation=next_generation,
            )

        if not await self._db.write_fn(move):
            raise StateError(f"campaign {campaign_id} cannot become {state.value}")

    async def _fan_out(self, campaign: Campaign, recipients: Sequence[Recipient]) -> None:
        """Queue one message per recipient in their language, then mark the fan-out done."""
        now = self._clock()
        hold = self.hold_until(campaign.draft, now)
        valid_until = (hold or now) + self.settings.valid_for
        if hold is not None:
            _LOGGER.info("alert #%d waits for the end of quiet hours at %s", campaign.id, hold)
        await self._outbox.enqueue_many(
            campaign.id, _messages(campaign, recipients, valid_until, hold)
        )
        await self._db.write_fn(
            lambda conn: conn.execute(
                "UPDATE campaign SET fanned_out = 1 WHERE id = ?", (campaign.id,)
            )
        )
        # Let the dispatcher's first claims run before the caller renders a page.
        await asyncio.sleep(0)


def body_for(draft: Draft, language: str) -> str:
    """The text a resident of `language` gets: English when given, French otherwise."""
    return draft.body_en if language == "en" and draft.body_en else draft.body_fr


def idempotency_key(campaign_id: int, channel: str, number: str, generation: int) -> str:
    """One message per campaign, number and channel (and resume generation)."""
    key = f"campaign:{campaign_id}:{channel}:{number}"
    return key if generation == 0 else f"{key}:{generation}"


def _messages(
    campaign: Campaign,
    recipients: Sequence[Recipient],
    valid_until: datetime,
    not_before: datetime | None,
) -> Iterator[NewMessage]:
    bodies = {language: body_for(campaign.draft, language) for language in _LANGUAGES}
    for recipient in recipients:
        yield NewMessage(
            MessageClass.ALERT,
            Channel(recipient.channel),
            recipient.number,
            bodies.get(recipient.language, campaign.draft.body_fr),
            recipient.language,
            valid_until=valid_until,
            idempotency_key=idempotency_key(
                campaign.id, recipient.channel, recipient.number, campaign.generation
            ),
            campaign_id=campaign.id,
            not_before=not_before,
        )
