"""Quiet hours: the nightly window in which information alerts wait (emergencies never do).

The window is wall-clock time in the town's time zone ("21:00-08:00" crosses midnight), so it
follows daylight-saving changes. Everything here is pure arithmetic on aware datetimes, so tests
pass any instant they like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A finish-time estimate crosses at most this many windows (an ETA of weeks is no ETA).
_MAX_WINDOWS = 60


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window [start, end) in `zone`; start == end means none."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> QuietHours | None:
        """'21:00-08:00' → a window; '' → None; ValueError names a bad value."""
        if not text.strip():
            return None
        found = _WINDOW.match(text)
        if found is None:
            raise ValueError(f"campaigns.quiet_hours: {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(part) for part in found.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise ValueError(f"campaigns.quiet_hours: {text!r} is not a window of the day")
        return cls(time(h1, m1), time(h2, m2), zone)

    @property
    def label(self) -> str:
        """'21:00–08:00', for pages."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def end_if_quiet(self, moment: datetime) -> datetime | None:
        """When the window holding `moment` ends (aware, UTC), or None if it is not quiet."""
        local = moment.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:  # the same day, e.g. 12:00-13:30
            if self.start <= now < self.end:
                return self._at(day, self.end)
            return None
        if now >= self.start:  # crosses midnight: the evening part
            return self._at(day + timedelta(days=1), self.end)
        if now < self.end:  # ... and the morning part
            return self._at(day, self.end)
        return None

    def next_start(self, moment: datetime) -> datetime:
        """The first window start strictly after `moment` (aware, UTC)."""
        local = moment.astimezone(self.zone)
        for days in range(3):
            start = self._at(local.date() + timedelta(days=days), self.start)
            if start > moment:
                return start
        raise AssertionError("a daily window starts within three days")  # pragma: no cover

    def sending_starts(self, moment: datetime) -> datetime:
        """When information sending may start if asked at `moment`."""
        return self.end_if_quiet(moment) or moment

    def finish(self, start: datetime, sending_s: float) -> datetime:
        """When `sending_s` seconds of sending end if it starts at `start`, pausing each window."""
        moment = self.sending_starts(start)
        left = timedelta(seconds=max(0.0, sending_s))
        for _ in range(_MAX_WINDOWS):
            quiet_from = self.next_start(moment)
            if moment + left <= quiet_from:
                return moment + left
            left -= quiet_from - moment
            moment = self.end_if_quiet(quiet_from) or quiet_from
        return moment + left

    def _at(self, day: date, at: time) -> datetime:
        # fold=0 picks the first of a repeated hour; a skipped hour resolves forward.
        local = datetime.combine(day, at, tzinfo=self.zone)
        return local.astimezone(UTC)
