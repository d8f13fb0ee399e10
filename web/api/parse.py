"""JSON bodies to the gateway's types; every problem is named by its field (HTTP 400).

Types, presence and allowed values are checked here; what only the gateway can judge (a
number it will not text, a text too long, a zone that does not exist) comes back from it
as a 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.campaigns.models import Channels, Draft, Severity
from gateway.campaigns.targeting import Target, TargetError, TargetKind
from web.api.errors import ApiError

SMS_FIELDS = frozenset({"to", "text", "language"})
ALERT_FIELDS = frozenset({"title", "body_fr", "body_en", "channels", "severity", "target"})
TARGET_FIELDS = frozenset({"kind", "zone_ids", "street_ids", "street_id", "civic_from", "civic_to"})
# A town has tens of zones and a few hundred streets; this bounds the work of one request.
MAX_IDS = 1000
_INT_MAX = 2**53


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """A checked POST /messages body."""

    to: str
    text: str
    language: str


class _Fields:
    """Collects every field problem of one body, so the client sees them all at once."""

    def __init__(self, body: dict[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
        self.body = body
        self.prefix = prefix
        self.errors: dict[str, str] = {
            f"{prefix}{name}": "unknown" for name in body if name not in allowed
        }

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.body.get(name)
        if value is None:
            if required:
                self.errors[self.prefix + name] = "required"
            return default
        if not isinstance(value, str):
            self.errors[self.prefix + name] = "string"
            return default
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, required=False, default=default)
        if value not in allowed:
            self.errors[self.prefix + name] = "one_of:" + "|".join(allowed)
            return default
        return value

    def integer(self, name: str) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _INT_MAX:
            self.errors[self.prefix + name] = "integer"
            return None
        return value

    def integers(self, name: str) -> tuple[int, ...]:
        value = self.body.get(name)
        if value is None:
            return ()
        if (
            not isinstance(value, list)
            or len(value) > MAX_IDS
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and abs(v) <= _INT_MAX for v in value
            )
        ):
            self.errors[self.prefix + name] = f"integers (at most {MAX_IDS})"
            return ()
        return tuple(value)

    def check(self) -> None:
        if self.errors:
            raise ApiError(400, message="some fields are missing or wrong", fields=self.errors)


def sms_request(body: dict[str, Any]) -> SmsRequest:
    """POST /messages: to, text, language (fr by default)."""
    fields = _Fields(body, SMS_FIELDS)
    request = SmsRequest(
        to=fields.text("to"),
        text=fields.text("text"),
        language=fields.choice("language", ("fr", "en"), "fr"),
    )
    fields.check()
    return request


def alert_request(body: dict[str, Any]) -> tuple[Draft, Target]:
    """POST /alerts: the admin compose form's fields, the target as an object."""
    fields = _Fields(body, ALERT_FIELDS)
    channels = fields.choice("channels", tuple(c.value for c in Channels), "sms")
    severity = fields.choice("severity", tuple(s.value for s in Severity), "information")
    draft = Draft(
        title=fields.text("title"),
        body_fr=fields.text("body_fr"),
        body_en=fields.text("body_en", required=False),
        channels=Channels(channels),
        severity=Severity(severity),
    )
    raw_target = body.get("target")
    target: Target | None = None
    if not isinstance(raw_target, dict):
        fields.errors["target"] = "required" if raw_target is None else "object"
    else:
        target = _target(raw_target, fields)
    fields.check()
    assert target is not None
    return draft, target


def _target(raw: dict[str, Any], outer: _Fields) -> Target | None:
    fields = _Fields(raw, TARGET_FIELDS, prefix="target.")
    kind_value = fields.choice("kind", tuple(k.value for k in TargetKind), "")
    if "kind" not in raw:
        fields.errors["target.kind"] = "required"
    zone_ids = fields.integers("zone_ids")
    street_ids = fields.integers("street_ids")
    street_id = fields.integer("street_id")
    civic_from = fields.integer("civic_from")
    civic_to = fields.integer("civic_to")
    outer.errors.update(fields.errors)
    if fields.errors:
        return None
    kind = TargetKind(kind_value)
    try:
        return Target(
            kind=kind,
            zone_ids=zone_ids if kind is TargetKind.ZONES else (),
            street_ids=street_ids if kind is TargetKind.STREETS else (),
            street_id=street_id if kind is TargetKind.RANGE else None,
            civic_from=civic_from if kind is TargetKind.RANGE else None,
            civic_to=civic_to if kind is TargetKind.RANGE else None,
        )
    except TargetError as exc:
        name = {"zones": "zone_ids", "streets": "street_ids", "range": "street_id"}[exc.code]
        outer.errors[f"target.{name}"] = "required" if exc.code != "range" else "range"
        return None
