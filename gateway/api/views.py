"""The JSON shapes of the API's resources, shared by its answers and the webhooks' bodies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.campaigns.targeting import Target
from gateway.outbox import OutboundMessage
from gateway.storage.inbox import InboundMessage

if TYPE_CHECKING:  # the service imports the campaign service, which imports the Gateway
    from gateway.api.service import AlertStatus


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with milliseconds, or None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_view(message: OutboundMessage, *, state: str | None = None) -> dict[str, Any]:
    """A message sent through the API (the text is the caller's own; kept out of lists)."""
    return {
        "id": message.id,
        "to": message.destination,
        "channel": message.channel.value,
        "state": state or message.state.value,
        "attempts": message.attempts,
        "created_at": iso(message.created_at),
        "sent_at": iso(message.sent_at),
        "finished_at": iso(message.finished_at),
        "valid_until": iso(message.valid_until),
        "error": message.last_error,
    }


def alert_view(status: AlertStatus) -> dict[str, Any]:
    """An alert, its targeting and its progress now."""
    campaign, progress = status.campaign, status.progress
    target = Target.from_json(campaign.target)
    return {
        "id": campaign.id,
        "title": campaign.draft.title,
        "body_fr": campaign.draft.body_fr,
        "body_en": campaign.draft.body_en,
        "channels": campaign.draft.channels.value,
        "severity": campaign.draft.severity.value,
        "target": target_view(target),
        "target_label": campaign.target_label,
        "state": campaign.state.value,
        "created_by": campaign.created_by,
        "created_at": iso(campaign.created_at),
        "finished_at": iso(campaign.finished_at),
        "residents": campaign.residents,
        "consent_override": campaign.consent_override,
        "progress": {
            **progress.counts(),
            "percent": progress.percent,
            "eta_s": None if progress.eta_s is None else round(progress.eta_s, 1),
        },
    }


def target_view(target: Target) -> dict[str, Any]:
    """The target as the API takes it (only the fields its kind uses)."""
    view: dict[str, Any] = {"kind": target.kind.value}
    if target.zone_ids:
        view["zone_ids"] = list(target.zone_ids)
    if target.street_ids:
        view["street_ids"] = list(target.street_ids)
    if target.street_id is not None:
        view["street_id"] = target.street_id
        view["civic_from"] = target.civic_from
        view["civic_to"] = target.civic_to
    return view


def inbound_view(message: InboundMessage) -> dict[str, Any]:
    """An SMS the town received, as the sms.received webhook posts it."""
    return {
        "id": message.id,
        "from": message.sender,
        "text": message.body,
        "received_at": iso(message.received_at),
        "sent_at": iso(message.network_timestamp),
        "modem": message.modem,
        "complete": message.complete,
    }
