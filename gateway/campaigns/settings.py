"""The admin console's settings, read from gateway.config into one dataclass tests can build."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.campaigns.quiet import QuietHours
from gateway.networks import DEFAULT_ALLOWED_NETWORKS, IPNetwork, allows, parse_networks

# The network names stay importable from here (gateway/api/settings.py and tests use them).
__all__ = [
    "DEFAULT_ALLOWED_NETWORKS",
    "CampaignSettings",
    "IPNetwork",
    "allows",
    "parse_networks",
    "parse_timezone",
]


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone name; ValueError names a bad one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"town.timezone: {name!r} is not a time zone") from None


@dataclass(frozen=True)
class CampaignSettings:
    """Every knob of the admin console."""

    allowed_networks: tuple[IPNetwork, ...] = field(
        default_factory=lambda: parse_networks(DEFAULT_ALLOWED_NETWORKS)
    )
    # Staff sessions: short idle time, since a console left open can alert a whole town.
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    # Emergencies reach residents who did not consent, when the town decides so (shown).
    emergency_overrides_consent: bool = False
    # An alert not sent within this long is stale: its messages expire instead.
    valid_for: timedelta = timedelta(hours=6)
    default_language: str = "fr"
    # Quiet hours and "send at" times are read and shown on the town's clock.
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Toronto"))
    quiet_hours: QuietHours | None = None  # None: information alerts go out at any hour
    totp_max_failures: int = 5
    totp_lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> CampaignSettings:
        """From gateway.config's values (keys documented in README's settings table)."""
        zone = parse_timezone(str(values["town.timezone"]))
        return cls(
            allowed_networks=parse_networks(values["admin.allowed_networks"]),
            session_idle=timedelta(seconds=float(values["admin.session_idle_s"])),
            session_absolute=timedelta(seconds=float(values["admin.session_absolute_s"])),
            emergency_overrides_consent=bool(values["campaigns.emergency_overrides_consent"]),
            valid_for=timedelta(seconds=float(values["campaigns.valid_s"])),
            default_language=str(values["town.language"]),
            timezone=zone,
            quiet_hours=QuietHours.parse(str(values["campaigns.quiet_hours"]), zone),
            totp_max_failures=int(values["admin.totp_max_failures"]),
            totp_lockout=timedelta(seconds=float(values["admin.totp_lockout_s"])),
        )

    def allows(self, host: str | None) -> bool:
        """True when a client address is inside one of the allowed networks."""
        return allows(self.allowed_networks, host)
