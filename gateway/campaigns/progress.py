"""A campaign's progress from its outbox rows: counts, measured rate, ETA, and the chart's data."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from gateway.campaigns import repository as repo
from gateway.campaigns.models import Progress

# The measured rate is over this window: long enough to smooth the lognormal send times,
# short enough to follow a modem that drops out.
RATE_WINDOW_MS = 60_000
# Fewer sends than this in the window say too little about the rate: use the pool's estimate.
MIN_SENDS_FOR_RATE = 5
# Bars in the sends-over-time chart.
CHART_BUCKETS = 30
_QUEUED = ("queued", "sending")
_FAILED = ("failed", "expired", "unknown")


@dataclass(frozen=True, slots=True)
class Measured:
    """What one read transaction found."""

    counts: dict[tuple[str, str], int]
    confirmed: int
    sent_in_window: int
    window_s: float

    def count(self, states: tuple[str, ...], channel: str | None = None) -> int:
        """Recipients whose latest row is in one of `states` (on `channel`, or any)."""
        return sum(
            n
            for (chan, state), n in self.counts.items()
            if state in states and (channel is None or chan == channel)
        )

    @property
    def queued_sms(self) -> int:
        """SMS still to hand to a modem."""
        return self.count(_QUEUED, "sms")

    @property
    def total_sms(self) -> int:
        """SMS recipients with a row."""
        return sum(n for (chan, _state), n in self.counts.items() if chan == "sms")

    @property
    def rate(self) -> float | None:
        """Messages per second handed to the network lately; None if too few to tell."""
        if self.sent_in_window < MIN_SENDS_FOR_RATE or self.window_s <= 0:
            return None
        return self.sent_in_window / self.window_s

    def progress(self, eta_s: float | None) -> Progress:
        """The page's counters."""
        return Progress(
            total=sum(self.counts.values()),
            queued=self.count(_QUEUED),
            sent=self.count(("sent",)),
            delivered=self.count(("delivered",)),
            failed=self.count(_FAILED),
            cancelled=self.count(("cancelled",)),
            confirmed=self.confirmed,
            eta_s=eta_s,
            rate_per_s=self.rate,
        )


@dataclass(frozen=True, slots=True)
class Timeline:
    """Sends per bucket since the campaign was created, and sends per modem."""

    start_ms: int
    width_ms: int
    counts: tuple[int, ...]
    per_modem: tuple[tuple[str, int], ...] = field(default=())
    # Each modem's sends per bucket (same buckets as `counts`), by modem name.
    modem_counts: tuple[tuple[str, tuple[int, ...]], ...] = field(default=())

    @property
    def peak(self) -> int:
        """The tallest bar (at least 1, so scales never divide by zero)."""
        return max((*self.counts, 1))


def measure(conn: sqlite3.Connection, campaign_id: int, now_ms: int) -> Measured:
    """Counts over each recipient's latest row, confirmed calls, and sends in the window."""
    counts = repo.latest_counts(conn, campaign_id)
    sent, first = repo.sent_since(conn, campaign_id, now_ms - RATE_WINDOW_MS)
    # A campaign younger than the window is measured from its first send.
    window_s = (now_ms - first) / 1000 if first is not None else RATE_WINDOW_MS / 1000
    return Measured(counts, _confirmed(conn, campaign_id), sent, window_s)


def timeline(conn: sqlite3.Connection, campaign_id: int, start_ms: int, end_ms: int) -> Timeline:
    """The chart's data: CHART_BUCKETS bars between creation and now (or the end)."""
    span = max(1000, end_ms - start_ms)
    width = -(-span // CHART_BUCKETS)
    buckets = repo.send_buckets(conn, campaign_id, start_ms, width)
    counts = tuple(buckets.get(i, 0) for i in range(CHART_BUCKETS))
    per_bucket = repo.send_buckets_per_modem(conn, campaign_id, start_ms, width)
    modem_counts = tuple(
        (name, tuple(found.get(i, 0) for i in range(CHART_BUCKETS)))
        for name, found in sorted(per_bucket.items())
    )
    return Timeline(start_ms, width, counts, tuple(repo.per_modem(conn, campaign_id)), modem_counts)


def _confirmed(conn: sqlite3.Connection, campaign_id: int) -> int:
    """Voice recipients whose latest call was confirmed by a key press (issue 5's calls)."""
    try:
        row = conn.execute(
            "SELECT count(DISTINCT v.message_id) FROM voice_call v JOIN message m"
            " ON m.id = v.message_id WHERE m.campaign_id = ? AND v.outcome = 'confirmed'",
            (campaign_id,),
        ).fetchone()
    except sqlite3.OperationalError:  # no voice_call table in this schema
        return 0
    return int(row[0])
