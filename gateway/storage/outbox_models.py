"""The outbox's vocabulary: classes, channels, states, and the dataclasses it returns."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

TP_ST_PENDING_FROM = 0x20
TP_ST_FAILED_FROM = 0x40
_TP_ST_MAX = 0xFF
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


class MessageClass(enum.StrEnum):
    """What a message is for; its priority and crash policy live in message_class."""

    OTP = "otp"
    RELAY = "relay"  # a neighbour alert passed on
    REPLY = "reply"  # an answer to an incoming SMS
    ALERT = "alert"  # a municipal campaign
    API = "api"  # bulk traffic from the HTTP API


class Channel(enum.StrEnum):
    """How the message reaches the resident."""

    SMS = "sms"
    VOICE = "voice"


class MessageState(enum.StrEnum):
    """Where a message is in its life; the allowed moves are in message_transition."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a modem; the command may or may not have gone out
    SENT = "sent"  # the network accepted every part; waiting for status reports
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # interrupted mid-send and not to be resent


TERMINAL_STATES = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.FAILED,
        MessageState.EXPIRED,
        MessageState.CANCELLED,
        MessageState.UNKNOWN,
    }
)


class PartState(enum.StrEnum):
    """What the status reports said about one SMS part."""

    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewMessage:
    """What the rest of the gateway hands to `enqueue`."""

    message_class: MessageClass
    channel: Channel
    destination: str  # E.164
    body: str
    language: str
    valid_until: datetime | None = None  # None: never expires
    idempotency_key: str | None = None
    campaign_id: int | None = None
    not_before: datetime | None = None  # a scheduled send; None: as soon as possible

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.destination):
            raise ValueError(f"destination {self.destination!r} is not an E.164 number")


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message row as the dispatcher and the UI see it."""

    id: int
    message_class: MessageClass
    priority: int
    channel: Channel
    destination: str
    body: str
    language: str
    campaign_id: int | None
    idempotency_key: str | None
    valid_until: datetime | None
    state: MessageState
    attempts: int
    next_attempt_at: datetime
    modem: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class PartRef:
    """One part the network accepted: the modem and the TP-MR it answered in +CMGS."""

    modem: str
    part_no: int  # 1-based
    mr: int


@dataclass(frozen=True, slots=True)
class SentPart:
    """A stored part with what its status reports said."""

    message_id: int
    attempt: int
    part_no: int
    modem: str
    mr: int
    state: PartState
    status: int | None
    sent_at: datetime
    reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedAhead:
    """A job claimed while its modem was still busy, and what may still preempt it."""

    job: OutboundMessage | None
    # When the earliest queued job more urgent than `job` falls due (None: there is none).
    # Once that time has come, the holder gives `job` back and claims again.
    preempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What start-up recovery did, for the log and the admin page."""

    requeued: int  # interrupted mid-send and resent (alerts, unkeyed api)
    unknown: int  # interrupted mid-send and not resent (otp, relay, reply, keyed api)
    expired: int  # queued past valid_until


def classify_status(status: int) -> PartState | None:
    """Map a TP-ST to the part's final state; None while the SC is still trying."""
    if not 0 <= status <= _TP_ST_MAX:
        raise ValueError(f"TP-ST {status} is not an octet")
    if status < TP_ST_PENDING_FROM:
        return PartState.DELIVERED
    if status < TP_ST_FAILED_FROM:
        return None
    return PartState.FAILED
