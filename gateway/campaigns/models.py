"""What the campaigns package returns: enums and frozen dataclasses, no rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Role(enum.StrEnum):
    """What a staff account may do; each role includes the ones below it."""

    ADMIN = "admin"  # everything, reference data included
    OPERATOR = "operator"  # composes, sends, pauses and cancels alerts
    VIEWER = "viewer"  # reads progress, reports and history

    def allows(self, needed: Role) -> bool:
        """True when this role is at least `needed`."""
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


class Channels(enum.StrEnum):
    """How an alert reaches residents."""

    SMS = "sms"
    VOICE = "voice"
    BOTH = "both"

    @property
    def kinds(self) -> tuple[str, ...]:
        """The contact kinds (and outbox channels) this choice uses."""
        return ("sms", "voice") if self is Channels.BOTH else (self.value,)


class Severity(enum.StrEnum):
    """Emergency may override consent when the town allows it; information never does."""

    EMERGENCY = "emergency"
    INFORMATION = "information"


class CampaignState(enum.StrEnum):
    """Where a campaign is; its messages' states are in the outbox."""

    SENDING = "sending"
    PAUSED = "paused"  # queued messages cancelled; resume queues them again
    CANCELLED = "cancelled"  # nothing further is sent
    DONE = "done"  # every message reached a final state


@dataclass(frozen=True, slots=True)
class Admin:
    """A staff account (never the password hash outside admins.py)."""

    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    username: str
    action: str
    detail: str
    client: str


@dataclass(frozen=True, slots=True)
class Draft:
    """An alert as composed, before it is sent."""

    title: str
    body_fr: str
    body_en: str
    channels: Channels
    severity: Severity

    def columns(self) -> tuple[str, str, str, str, str]:
        """Title, bodies, channels, severity: the order the alert tables store them in."""
        return (self.title, self.body_fr, self.body_en, self.channels.value, self.severity.value)


@dataclass(frozen=True, slots=True)
class Recipient:
    """One number to reach on one channel, after deduplication."""

    channel: str  # "sms" | "voice"
    number: str  # E.164
    language: str
    residents: tuple[str, ...]  # display names of the residents behind the number


@dataclass(frozen=True, slots=True)
class LanguagePreview:
    """How one language's text goes out by SMS."""

    language: str
    numbers: int  # SMS numbers in this language
    calls: int  # voice numbers in this language
    encoding: str  # gsm7 | ucs2
    parts: int  # per message
    forcing_chars: str  # what forced UCS-2 ("" for gsm7)
    plain_parts: int  # parts if the plain-GSM variant were used


@dataclass(frozen=True, slots=True)
class Preview:
    """Everything the compose page shows before Send."""

    residents_matched: int
    residents_reached: int
    sms_numbers: int
    voice_numbers: int
    duplicates_merged: int  # contact points that shared a number with another on a channel
    without_consent: int  # contact points left out for lack of consent
    opted_out: int  # SMS numbers that texted STOP (when the inbound package can tell)
    consent_override: bool  # emergency override in force (shown on the page)
    languages: tuple[LanguagePreview, ...]
    sms_parts: int  # total SMS parts
    eta_s: float | None  # None: no modem can send now
    calls_possible: bool  # some modem serves voice calls
    recipients: tuple[Recipient, ...] = field(repr=False, default=())
    starts_at: datetime | None = None  # when sending starts (None: at once)
    ends_at: datetime | None = None  # when the SMS should all be out (None: unknown)
    quiet_hold: bool = False  # quiet hours hold (or will interrupt) this information alert


@dataclass(frozen=True, slots=True)
class Campaign:
    """A stored alert and its bookkeeping."""

    id: int
    draft: Draft
    target: str  # JSON
    target_label: str
    state: CampaignState
    generation: int
    fanned_out: bool
    consent_override: bool
    residents: int
    sms_parts: int
    eta_s: float | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    """Counts over each recipient's latest message, and the ETA from what was measured."""

    total: int
    queued: int  # queued or being sent
    sent: int  # accepted by the network, waiting for a status report
    delivered: int
    failed: int  # failed, expired or outcome unknown
    cancelled: int
    confirmed: int  # voice calls acknowledged (none until calls report keys pressed)
    eta_s: float | None
    rate_per_s: float | None  # measured SMS sends per second over the last minute

    @property
    def finished(self) -> int:
        """Messages in a final state."""
        return self.delivered + self.failed + self.cancelled

    @property
    def percent(self) -> int:
        """Whole percent finished (100 when there was nothing to send)."""
        return 100 if self.total == 0 else (100 * self.finished) // self.total

    def counts(self) -> dict[str, int]:
        """The counts by state, as the progress stream and the API show them."""
        return {
            "total": self.total,
            "queued": self.queued,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "confirmed": self.confirmed,
        }


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One recipient of the report: its latest message."""

    residents: str
    number: str
    channel: str
    language: str
    state: str
    attempts: int
    modem: str | None
    created_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None
    error: str | None


class ScheduledState(enum.StrEnum):
    """Where an alert scheduled for later is."""

    WAITING = "waiting"  # can still be edited or cancelled
    STARTED = "started"  # became campaign `campaign_id`
    CANCELLED = "cancelled"
    FAILED = "failed"  # could not start (nobody to reach, a target gone); `error` says why


@dataclass(frozen=True, slots=True)
class ScheduledAlert:
    """An alert to start at `send_at`; its recipients are chosen then."""

    id: int
    draft: Draft
    target: str  # JSON
    target_label: str
    send_at: datetime
    state: ScheduledState
    campaign_id: int | None
    error: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AlertTemplate:
    """A named draft staff start from."""

    id: int
    name: str
    draft: Draft
    updated_by: str
    updated_at: datetime
