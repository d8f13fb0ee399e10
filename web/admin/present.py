"""Presentation helpers: durations, times, the sends-over-time SVG bars, progress as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from gateway.campaigns.models import Campaign, Progress
from gateway.campaigns.progress import Timeline

# The chart's drawing box (SVG user units); the CSS scales it to the column's width.
CHART_WIDTH = 300
CHART_HEIGHT = 100


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle of the chart, and what it means for its tooltip."""

    x: float
    y: float
    width: float
    height: float
    count: int
    offset_s: int


def duration(seconds: float | None, _: Callable[[str], str]) -> str:
    """'2 h 05 min', '3 min 20 s', '12 s', or 'unknown' (translated)."""
    if seconds is None:
        return _("inconnue")
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def clock(moment: datetime | None) -> str:
    """Local wall-clock time for tables ('' when absent)."""
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def bars(timeline: Timeline) -> list[Bar]:
    """The chart's bars, tallest at full height."""
    count = len(timeline.counts) or 1
    width = CHART_WIDTH / count
    peak = timeline.peak
    found = []
    for index, sends in enumerate(timeline.counts):
        height = CHART_HEIGHT * sends / peak
        found.append(
            Bar(
                x=round(index * width, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(width * 0.85, 2),
                height=round(height, 2),
                count=sends,
                offset_s=index * timeline.width_ms // 1000,
            )
        )
    return found


def progress_json(campaign: Campaign, progress: Progress, gettext: Callable[[str], str]) -> str:
    """What the progress stream sends and admin-progress.js shows."""
    return json.dumps(
        {
            "state": campaign.state.value,
            "counts": progress.counts(),
            "percent": progress.percent,
            "eta": duration(progress.eta_s, gettext) if progress.queued else "",
            "done": progress.finished == progress.total,
        }
    )


# The per-modem chart: one row of bars per modem, all on the same scale, a label on the left.
MODEM_LABEL_WIDTH = 70
MODEM_ROW_HEIGHT = 36
MODEM_BAR_HEIGHT = 28


@dataclass(frozen=True, slots=True)
class ModemRow:
    """One modem's row of the per-modem chart and the figures of its table row."""

    name: str
    y: float
    bars: tuple[Bar, ...]
    total: int
    peak: int  # most sends in one interval
    share: int  # whole percent of the campaign's sends


def modem_rows(timeline: Timeline) -> list[ModemRow]:
    """Rows for the per-modem chart, scaled to the busiest interval of any modem."""
    peak = max((max(counts, default=0) for _name, counts in timeline.modem_counts), default=0)
    peak = max(1, peak)
    everything = max(1, sum(sum(counts) for _name, counts in timeline.modem_counts))
    rows = []
    for index, (name, counts) in enumerate(timeline.modem_counts):
        width = (CHART_WIDTH - MODEM_LABEL_WIDTH) / (len(counts) or 1)
        top = index * MODEM_ROW_HEIGHT
        row_bars = []
        for position, sends in enumerate(counts):
            height = MODEM_BAR_HEIGHT * sends / peak
            row_bars.append(
                Bar(
                    x=round(MODEM_LABEL_WIDTH + position * width, 2),
                    y=round(top + MODEM_BAR_HEIGHT - height, 2),
                    width=round(width * 0.85, 2),
                    height=round(height, 2),
                    count=sends,
                    offset_s=position * timeline.width_ms // 1000,
                )
            )
        total = sum(counts)
        rows.append(
            ModemRow(
                name=name,
                y=top,
                bars=tuple(row_bars),
                total=total,
                peak=max(counts, default=0),
                share=round(100 * total / everything),
            )
        )
    return rows


def town_clock(moment: datetime | None, zone: tzinfo) -> str:
    """'2026-11-22 21:00' on the town's clock ('' when absent)."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
