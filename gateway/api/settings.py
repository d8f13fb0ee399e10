"""The HTTP API's settings, read from gateway.config into one dataclass tests can build."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gateway.campaigns.settings import DEFAULT_ALLOWED_NETWORKS, IPNetwork, allows, parse_networks


@dataclass(frozen=True)
class ApiSettings:
    """Where the API answers and how much one token may ask of it."""

    # Like the admin console: the town's LAN by default, configurable apart from it (a
    # county's dispatch system may sit on another network than the town hall's staff).
    allowed_networks: tuple[IPNetwork, ...] = field(
        default_factory=lambda: parse_networks(DEFAULT_ALLOWED_NETWORKS)
    )
    requests_per_minute: int = 60
    # An SMS the modems could not send within this long is stale: it expires, unsent.
    sms_valid_for: timedelta = timedelta(hours=1)
    regions: tuple[str, ...] = ("CA",)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> ApiSettings:
        """From gateway.config's values (keys documented in README's settings table)."""
        return cls(
            allowed_networks=parse_networks(
                values["api.allowed_networks"], key="api.allowed_networks"
            ),
            requests_per_minute=int(values["api.requests_per_minute"]),
            sms_valid_for=timedelta(seconds=float(values["api.sms_valid_s"])),
            regions=(str(values["town.region"]),),
        )

    def allows(self, host: str | None) -> bool:
        """True when a client address is inside one of the allowed networks."""
        return allows(self.allowed_networks, host)
