"""Webhook signatures as Stripe and GitHub do them: HMAC-SHA256 over "timestamp.body".

Header: `Tocsin-Signature: t=1767225600,v1=<64 hex digits>`. The timestamp is inside the
signed bytes, so a captured delivery cannot be replayed later with a fresh time; receivers
refuse a timestamp older than a few minutes. The README shows a receiver's check.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

SIGNATURE_HEADER: Final = "Tocsin-Signature"
EVENT_HEADER: Final = "Tocsin-Event"
DELIVERY_HEADER: Final = "Tocsin-Event-Id"
# What receivers should accept by default: the clocks of two LAN hosts agree within this.
DEFAULT_TOLERANCE_S: Final = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp.body` under the shared secret."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The Tocsin-Signature value for one attempt."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={signature(secret, moment, body)}"


def verify(
    secret: str,
    value: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when `value` (the header) signs `body` with `secret`, recently enough."""
    fields: dict[str, list[str]] = {}
    for item in value.split(","):
        name, _, content = item.strip().partition("=")
        fields.setdefault(name, []).append(content)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    # Several v1 values are allowed, for a receiver rotating its secret.
    return any(hmac.compare_digest(expected, offered) for offered in fields.get("v1", []))
