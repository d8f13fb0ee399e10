"""Webhook settings: receivers, the shared secret, events, retries (all from the TOML file).

Settings rather than an admin page: the secret must be typed into the receiving system too,
so whoever sets one up edits both configurations anyway; the secret then stays out of the
database and its backups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.config import ConfigError

EVENTS: Final = ("sms.received", "message.status")
# A secret shorter than this is guessable offline from one captured delivery.
MIN_SECRET_CHARS: Final = 16


@dataclass(frozen=True)
class WebhookSettings:
    """Where to post, how to sign, how hard to try."""

    urls: tuple[str, ...] = ()
    secret: str = ""
    events: frozenset[str] = frozenset(EVENTS)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=10)
    retry_max: timedelta = timedelta(hours=1)
    timeout_s: float = 10.0
    concurrency: int = 4

    def __post_init__(self) -> None:
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"webhooks.urls: {url!r} is not an http(s) address")
        if self.urls and len(self.secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"webhooks.secret: {MIN_SECRET_CHARS} characters or more are needed with urls"
            )
        unknown = set(self.events) - set(EVENTS)
        if unknown:
            raise ConfigError(f"webhooks.events: unknown {sorted(unknown)}")
        if self.max_attempts < 1 or self.concurrency < 1:
            raise ConfigError("webhooks.max_attempts and webhooks.concurrency must be 1 or more")

    @property
    def enabled(self) -> bool:
        """Receivers are configured."""
        return bool(self.urls)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> WebhookSettings:
        """From gateway.config's values; ConfigError names the bad key."""
        return cls(
            urls=tuple(str(u) for u in values["webhooks.urls"]),
            secret=str(values["webhooks.secret"]),
            events=frozenset(str(e) for e in values["webhooks.events"]),
            max_attempts=int(values["webhooks.max_attempts"]),
            retry_base=timedelta(seconds=float(values["webhooks.retry_base_s"])),
            retry_max=timedelta(seconds=float(values["webhooks.retry_max_s"])),
            timeout_s=float(values["webhooks.timeout_s"]),
            concurrency=int(values["webhooks.concurrency"]),
        )

    def retry_after(self, attempts: int) -> timedelta:
        """Exponential backoff after the `attempts`-th failure, capped."""
        delay: timedelta = self.retry_base * (2 ** max(0, attempts - 1))
        return min(delay, self.retry_max)
