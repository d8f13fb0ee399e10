"""Quiet hours as arithmetic: windows across midnight, DST, and finish times that skip windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.campaigns.quiet import QuietHours
from gateway.config import ConfigError, from_mapping

ZONE = ZoneInfo("America/Toronto")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def night() -> QuietHours:
    quiet = QuietHours.parse("21:00-08:00", ZONE)
    assert quiet is not None
    return quiet


def test_parse() -> None:
    assert QuietHours.parse("", ZONE) is None
    assert QuietHours.parse(" 9:30 - 17:00 ", ZONE) is not None
    for bad in ("21h-8h", "25:00-08:00", "21:00-21:00", "21:00", "21:60-08:00"):
        with pytest.raises(ValueError, match="quiet_hours"):
            QuietHours.parse(bad, ZONE)


def test_a_window_across_midnight() -> None:
    quiet = night()
    assert quiet.end_if_quiet(local("2026-06-10 20:59")) is None
    assert quiet.end_if_quiet(local("2026-06-10 21:00")) == local("2026-06-11 08:00")
    assert quiet.end_if_quiet(local("2026-06-11 03:00")) == local("2026-06-11 08:00")
    assert quiet.end_if_quiet(local("2026-06-11 08:00")) is None
    assert quiet.next_start(local("2026-06-11 03:00")) == local("2026-06-11 21:00")
    assert quiet.next_start(local("2026-06-11 21:00")) == local("2026-06-12 21:00")


def test_a_window_within_a_day() -> None:
    quiet = QuietHours.parse("12:00-13:30", ZONE)
    assert quiet is not None
    assert quiet.end_if_quiet(local("2026-06-10 12:15")) == local("2026-06-10 13:30")
    assert quiet.end_if_quiet(local("2026-06-10 13:30")) is None


def test_the_window_follows_daylight_saving() -> None:
    quiet = night()
    # The night of 2026-11-01 has one more hour (EDT → EST): 08:00 is still local 08:00.
    assert quiet.end_if_quiet(local("2026-10-31 23:00")) == local("2026-11-01 08:00")
    assert local("2026-11-01 08:00").astimezone(UTC).hour == 13  # EST, UTC-5
    assert local("2026-10-31 08:00").astimezone(UTC).hour == 12  # EDT, UTC-4


def test_finish_skips_the_window() -> None:
    quiet = night()
    # 2 h of sending from 20:00: one hour before 21:00, the rest from 08:00.
    assert quiet.finish(local("2026-06-10 20:00"), 7200) == local("2026-06-11 09:00")
    # Asked at night: it starts at 08:00.
    assert quiet.sending_starts(local("2026-06-11 02:00")) == local("2026-06-11 08:00")
    assert quiet.finish(local("2026-06-11 02:00"), 60) == local("2026-06-11 08:01")
    # Outside the window and short: unchanged.
    assert quiet.finish(local("2026-06-11 10:00"), 60) == local("2026-06-11 10:01")


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    seconds=st.floats(min_value=0, max_value=3 * 86400),
)
def test_finish_is_never_early_and_never_inside_the_window(start: datetime, seconds: float) -> None:
    quiet = night()
    end = quiet.finish(start, seconds)
    assert end >= start + timedelta(seconds=seconds) - timedelta(microseconds=1)
    if seconds > 0:
        # It ends at a moment sending is allowed, or exactly as a window starts.
        assert (
            quiet.end_if_quiet(end) is None
            or quiet.end_if_quiet(end - timedelta(microseconds=1)) is None
        )


def test_bad_clock_settings_are_reported_with_their_key() -> None:
    with pytest.raises(ConfigError, match=r"campaigns\.quiet_hours"):
        from_mapping({"campaigns": {"quiet_hours": "tonight"}})
    with pytest.raises(ConfigError, match=r"town\.timezone"):
        from_mapping({"town": {"timezone": "Mars/Olympus"}})
    assert from_mapping({"campaigns": {"quiet_hours": "22:00-07:00"}})
