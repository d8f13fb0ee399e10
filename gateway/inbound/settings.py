"""Inbound routing, relay, limit and email settings, read once from the gateway config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gateway.config import Config, ConfigError

_TLS_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class InboundSettings:
    """Every knob of the router, the relay and the email copies, in one place for tests."""

    town_name: str = "Ville de Démo"
    town_language: str = "fr"
    contact_number: str = ""
    website: str = ""  # the town's resident pages, given to unknown senders
    # Neighbour alerts one resident may start per hour: a real emergency rarely needs more.
    sender_per_hour: int = 3
    # Alerts relayed in one zone per hour, whoever starts them: bounds a flood of neighbours.
    zone_per_hour: int = 10
    # The relayed text (prefix included): cut past this many characters or SMS parts.
    max_chars: int = 320
    max_segments: int = 3
    moderation: bool = False
    # A relay still queued after this is stale news; the outbox expires it.
    relay_valid: timedelta = timedelta(hours=6)
    # Automatic replies (keywords and the unknown-sender notice) one number gets per day.
    replies_per_day: int = 5
    email_host: str = ""  # empty: no email copies
    email_port: int = 587
    email_tls: str = "starttls"  # none | starttls | tls
    email_user: str = ""
    email_password: str = ""
    email_from: str = ""
    email_max_attempts: int = 5
    email_retry_base: timedelta = timedelta(seconds=30)
    email_timeout: timedelta = timedelta(seconds=30)

    @classmethod
    def from_config(cls, config: Config) -> InboundSettings:
        """Build from the dotted keys of gateway.config.SETTINGS."""
        values = config.values
        if values["email.tls"] not in _TLS_MODES:
            raise ConfigError(f"email.tls: expected one of {', '.join(_TLS_MODES)}")
        return cls(
            town_name=str(values["town.name"]),
            town_language=str(values["town.language"]),
            contact_number=str(values["town.contact_number"]),
            website=str(values["town.website"]),
            sender_per_hour=int(values["neighbours.sender_per_hour"]),
            zone_per_hour=int(values["neighbours.zone_per_hour"]),
            max_chars=int(values["neighbours.max_chars"]),
            max_segments=int(values["neighbours.max_segments"]),
            moderation=bool(values["neighbours.moderation"]),
            relay_valid=timedelta(seconds=float(values["neighbours.relay_valid_s"])),
            replies_per_day=int(values["inbound.replies_per_day"]),
            email_host=str(values["email.host"]),
            email_port=int(values["email.port"]),
            email_tls=str(values["email.tls"]),
            email_user=str(values["email.user"]),
            email_password=str(values["email.password"]),
            email_from=str(values["email.from"]),
            email_max_attempts=int(values["email.max_attempts"]),
            email_retry_base=timedelta(seconds=float(values["email.retry_base_s"])),
            email_timeout=timedelta(seconds=float(values["email.timeout_s"])),
        )

    @property
    def email_enabled(self) -> bool:
        """Copies go out only when an SMTP server and a sender address are configured."""
        return bool(self.email_host and self.email_from)
