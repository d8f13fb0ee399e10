"""Per-SIM send limits: carriers block a consumer SIM that sends too fast or too much.

Rolling windows (a minute, an hour, a day), counted in SMS parts since that is what the carrier
counts. The day's sends are reloaded from the outbox at start, so a restart does not reset them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

MINUTE: Final = 60.0
HOUR: Final = 3600.0
DAY: Final = 86400.0


@dataclass(frozen=True)
class QuotaLimits:
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def windows(self) -> list[tuple[float, int]]:
        return [
            (span, limit)
            for span, limit in (
                (MINUTE, self.per_minute),
                (HOUR, self.per_hour),
                (DAY, self.per_day),
            )
            if limit is not None
        ]


class SendQuota:
    """Counts recent sends (epoch seconds) against the limits of one SIM."""

    def __init__(self, limits: QuotaLimits) -> None:
        self.limits = limits
        self._sent: deque[float] = deque()

    def preload(self, times: Iterable[float]) -> None:
        """Sends already made in the last day (from the outbox) count against today's cap."""
        self._sent.extend(sorted(times))

    def record(self, now: float, parts: int = 1) -> None:
        self._sent.extend([now] * parts)
        self._trim(now)

    def available_at(self, now: float, parts: int = 1) -> float:
        """The earliest time `parts` more parts may go out (== now when they may go now)."""
        self._trim(now)
        earliest = now
        for span, limit in self.limits.windows():
            if parts > limit:
                return float("inf")  # never fits this window: the caller must not wait for it
            in_window = [t for t in self._sent if t > now - span]
            excess = len(in_window) + parts - limit
            if excess > 0:
                earliest = max(earliest, in_window[excess - 1] + span)
        return earliest

    def remaining(self, now: float) -> dict[str, int | None]:
        """What is left in each window, for the health page and the campaign ETA."""
        self._trim(now)
        left: dict[str, int | None] = {"minute": None, "hour": None, "day": None}
        for name, (span, limit) in zip(
            ("minute", "hour", "day"),
            (
                (MINUTE, self.limits.per_minute),
                (HOUR, self.limits.per_hour),
                (DAY, self.limits.per_day),
            ),
            strict=True,
        ):
            if limit is not None:
                left[name] = max(0, limit - sum(1 for t in self._sent if t > now - span))
        return left

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - DAY:
            self._sent.popleft()
