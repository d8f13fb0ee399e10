"""Client networks: the private ranges the LAN-only pages answer, parsed and matched in one place.

The admin console, /metrics and the HTTP API each have their own `*.allowed_networks` setting;
they share the default list and the matching rule here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

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
