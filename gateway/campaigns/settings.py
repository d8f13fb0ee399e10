"""The admin console's settings, read from gateway.config into one dataclass tests can build."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.campaigns.quiet import QuietHours

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Loopback and the private ranges: the town hall's LAN, never the Internet.
DEFAULT_ALLOWED_NETWORKS: tuple[str, ...] = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "fe80::/10",
)


def parse_networks(
    values: Sequence[str], *, key: str = "admin.allowed_networks"
) -> tuple[IPNetwork, ...]:
    """CIDR strings to networks; ValueError names the setting and the bad one."""
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            raise ValueError(f"{key}: {value!r} is not a network") from None
    return tuple(networks)


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone name; ValueError names a bad one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"town.timezone: {name!r} is not a time zone") from None


def allows(networks: Sequence[IPNetwork], host: str | None) -> bool:
    """True when a client address is inside one of `networks` (IPv4-mapped IPv6 too)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


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
