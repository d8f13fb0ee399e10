"""Time as the database stores it: integer milliseconds since the epoch, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """Integers compare and index faster than ISO text, and carry no time-zone ambiguity."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: storage only takes aware times")
    return (moment - _EPOCH) // _ONE_MS


def from_ms(ms: int) -> datetime:
    """Callers get aware UTC datetimes back, never raw integers."""
    return _EPOCH + ms * _ONE_MS


def opt_from_ms(ms: int | None) -> datetime | None:
    """Nullable columns map to None rather than to the epoch."""
    return None if ms is None else from_ms(ms)


def opt_to_ms(moment: datetime | None) -> int | None:
    """Nullable columns map from None rather than failing."""
    return None if moment is None else to_ms(moment)


def utc_now() -> datetime:
    """The default clock; tests pass their own."""
    return datetime.now(UTC)
