"""What the HTTP API does: one SMS through the outbox, alerts through the campaign service.

Idempotency: an SMS with a key is one outbox row keyed `api:TOKEN:KEY` (the outbox returns
the first row for a repeated key, and its crash policy then never sends it twice); an alert
with a key is recorded in api_campaign inside the campaign's own transaction. Either way a
retried POST finds the first result, and the same key with another body is a conflict.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.api.ratelimit import RateLimiter
from gateway.api.settings import ApiSettings
from gateway.api.tokens import ApiToken, ApiTokens
from gateway.campaigns.models import Campaign, Draft, Progress
from gateway.campaigns.service import CampaignService, DraftError
from gateway.campaigns.targeting import Target, TargetKind
from gateway.campaigns.texts import segments
from gateway.outbox import Channel, MessageClass, NewMessage, OutboundMessage, Outbox
from gateway.residents.errors import InvalidNumber
from gateway.residents.phones import normalize
from gateway.storage.database import Database
from gateway.storage.times import utc_now

_LOGGER = logging.getLogger(__name__)
# An API SMS is a notice, not a letter: ten parts (~1,500 GSM-7 characters) at most.
MAX_SMS_PARTS = 10
MAX_SMS_CHARS = 1600
IDEMPOTENCY_KEY_MAX = 200
LANGUAGES = ("fr", "en")
# Ids in paths beyond this cannot be rows (and would overflow SQLite's integers).
MAX_ID = 2**62


class RequestError(ValueError):
    """A well-formed request the gateway refuses; `field` and `code` say why (HTTP 422)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.message = message


class ConflictError(RuntimeError):
    """The idempotency key was already used for a different request (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """The message an SMS request made (or made before, when `replayed`)."""

    message: OutboundMessage
    replayed: bool


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """An alert with its progress now; `replayed` when an earlier request made it."""

    campaign: Campaign
    progress: Progress
    replayed: bool = False


def fingerprint(body: bytes) -> str:
    """What ties an idempotency key to one request body."""
    return hashlib.sha256(body).hexdigest()


class ApiService:
    """One per app, built in its lifespan beside the campaign service."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        campaigns: CampaignService,
        settings: ApiSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.tokens = ApiTokens(db, clock=clock)
        self.limiter = RateLimiter(settings.requests_per_minute)
        self.campaigns = campaigns
        self._db = db
        self._outbox = outbox
        self._clock = clock

    # ---- SMS

    async def send_sms(
        self,
        token: ApiToken,
        *,
        to: str,
        text: str,
        language: str = "fr",
        idempotency_key: str | None = None,
        client: str = "",
    ) -> Sent:
        """Queue one SMS (class `api`, after every OTP, relay, reply and alert)."""
        number = self._number(to)
        body = self._sms_text(text)
        if language not in LANGUAGES:
            raise RequestError("language", "language", "must be fr or en")
        key = f"api:{token.id}:{idempotency_key}" if idempotency_key else None
        if key is not None:
            earlier = await self._message_by_key(key)
            if earlier is not None:
                return Sent(self._same_message(earlier, number, body), replayed=True)
        message = NewMessage(
            MessageClass.API,
            Channel.SMS,
            number,
            body,
            language,
            valid_until=self._clock() + self.settings.sms_valid_for,
            idempotency_key=key,
        )
        message_id = await self._outbox.enqueue(message)
        stored = await self._outbox.get(message_id)
        assert stored is not None
        if stored.destination != number or stored.body != body:
            # Two concurrent requests with one key and different bodies: the first one won.
            raise ConflictError("idempotency key already used for another message")
        await self.campaigns.audit.record(
            "api.sms", username=token.actor, detail=f"message #{message_id}", client=client
        )
        return Sent(stored, replayed=False)

    async def message(self, message_id: int) -> OutboundMessage | None:
        """A message sent through the API (other classes are not the API's to show)."""
        if not 0 < message_id <= MAX_ID:
            return None
        found = await self._outbox.get(message_id)
        if found is None or found.message_class is not MessageClass.API:
            return None
        return found

    # ---- alerts

    async def create_alert(
        self,
        token: ApiToken,
        draft: Draft,
        target: Target,
        *,
        idempotency_key: str | None = None,
        request_fingerprint: str = "",
        client: str = "",
    ) -> AlertStatus:
        """Check and send an alert as the admin console does; the first one for a repeated key."""
        if idempotency_key is not None:
            earlier = await self._alert_by_key(token.id, idempotency_key, request_fingerprint)
            if earlier is not None:
                return earlier
        await self._check_target(target)
        try:
            preview = await self.campaigns.preview(draft, target)
        except DraftError as exc:
            raise RequestError(exc.field, exc.code, _DRAFT_MESSAGES[exc.code]) from None
        if not preview.recipients:
            raise RequestError("target", "nobody", "this alert would reach nobody")

        def record(conn: sqlite3.Connection, campaign_id: int) -> None:
            conn.execute(
                "INSERT INTO api_campaign (campaign_id, token_id, idempotency_key, fingerprint)"
                " VALUES (?, ?, ?, ?)",
                (campaign_id, token.id, idempotency_key, request_fingerprint),
            )

        try:
            campaign_id = await self.campaigns.send(
                draft, target, None, client=client, actor=token.actor, on_insert=record
            )
        except sqlite3.IntegrityError:
            # The same key, sent twice at once: the other request's alert stands.
            assert idempotency_key is not None
            earlier = await self._alert_by_key(token.id, idempotency_key, request_fingerprint)
            if earlier is None:
                raise
            return earlier
        found = await self.alert(campaign_id)
        assert found is not None
        return found

    async def alert(self, campaign_id: int) -> AlertStatus | None:
        """Any alert (the console's too) with its progress now."""
        if not 0 < campaign_id <= MAX_ID:
            return None
        campaign = await self.campaigns.get(campaign_id)
        if campaign is None:
            return None
        progress = await self.campaigns.progress(campaign)
        campaign = await self.campaigns.get(campaign_id) or campaign  # it may have just finished
        return AlertStatus(campaign, progress)

    async def control_alert(
        self, token: ApiToken, campaign_id: int, action: str, *, client: str = ""
    ) -> AlertStatus | None:
        """Pause, resume or cancel as the console does (same rules, audit log under the
        token's name); None when there is no such alert, StateError when its state forbids."""
        if not 0 < campaign_id <= MAX_ID or await self.campaigns.get(campaign_id) is None:
            return None
        control = {
            "pause": self.campaigns.pause,
            "resume": self.campaigns.resume,
            "cancel": self.campaigns.cancel,
        }[action]
        await control(campaign_id, None, client=client, actor=token.actor)
        return await self.alert(campaign_id)

    # ---- helpers

    def _number(self, raw: str) -> str:
        if not raw.startswith("+"):
            raise RequestError("to", "number", "give the number in E.164 form, e.g. +15145550101")
        try:
            number = normalize(raw, self.settings.regions)
        except InvalidNumber:
            raise RequestError(
                "to", "number", "not a number this gateway texts (town region, no short codes)"
            ) from None
        if number != raw.strip():
            raise RequestError("to", "number", "give the number in E.164 form, e.g. +15145550101")
        return number

    @staticmethod
    def _sms_text(raw: str) -> str:
        text = raw.strip()
        if not text:
            raise RequestError("text", "empty", "the text is empty")
        if len(text) > MAX_SMS_CHARS or segments(text).parts > MAX_SMS_PARTS:
            raise RequestError(
                "text", "too_long", f"the text takes more than {MAX_SMS_PARTS} SMS parts"
            )
        return text

    async def _message_by_key(self, key: str) -> OutboundMessage | None:
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT id FROM message WHERE idempotency_key = ?", (key,)
            ).fetchall()
        )
        return await self._outbox.get(int(rows[0][0])) if rows else None

    @staticmethod
    def _same_message(earlier: OutboundMessage, number: str, body: str) -> OutboundMessage:
        if earlier.destination != number or earlier.body != body:
            raise ConflictError("idempotency key already used for another message")
        return earlier

    async def _alert_by_key(self, token_id: int, key: str, digest: str) -> AlertStatus | None:
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT campaign_id, fingerprint FROM api_campaign"
                " WHERE token_id = ? AND idempotency_key = ?",
                (token_id, key),
            ).fetchall()
        )
        if not rows:
            return None
        if str(rows[0][1]) != digest:
            raise ConflictError("idempotency key already used for another alert")
        found = await self.alert(int(rows[0][0]))
        assert found is not None
        return AlertStatus(found.campaign, found.progress, replayed=True)

    async def _check_target(self, target: Target) -> None:
        """Ids that name no zone or street are a caller's mistake, not an empty alert."""
        if target.kind is TargetKind.ZONES:
            known = {zone.id for zone in await self.campaigns.reference.zones()}
            if not set(target.zone_ids) <= known:
                raise RequestError("target.zone_ids", "unknown", "no such zone")
        wanted = (
            set(target.street_ids)
            if target.kind is TargetKind.STREETS
            else {target.street_id}
            if target.kind is TargetKind.RANGE and target.street_id is not None
            else set()
        )
        if wanted:
            known = {street.id for street in await self.campaigns.reference.streets()}
            if not wanted <= known:
                field = "target.street_ids" if target.kind is TargetKind.STREETS else "target"
                raise RequestError(field, "unknown", "no such street")


_DRAFT_MESSAGES = {
    "title": "a title of 1 to 120 characters is required",
    "body": "a text of 1 to 1000 characters is required",
}
