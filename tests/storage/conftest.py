"""Fixtures for the storage tests: a fresh database file and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.outbox import Channel, MessageClass, NewMessage, Outbox
from gateway.storage import Database, Inbox

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time stands still until the test moves it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def message(
    message_class: MessageClass = MessageClass.ALERT,
    destination: str = "+15145550100",
    *,
    channel: Channel = Channel.SMS,
    body: str = "Avis d'ébullition",
    valid_until: datetime | None = None,
    key: str | None = None,
    campaign_id: int | None = None,
    not_before: datetime | None = None,
) -> NewMessage:
    """A NewMessage with defaults, so each test names only what it is about."""
    return NewMessage(
        message_class=message_class,
        channel=channel,
        destination=destination,
        body=body,
        language="fr",
        valid_until=valid_until,
        idempotency_key=key,
        campaign_id=campaign_id,
        not_before=not_before,
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "tocsin.sqlite3")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(db: Database, clock: FakeClock) -> Outbox:
    return Outbox(db, clock=clock)


@pytest.fixture
def inbox(db: Database, clock: FakeClock) -> Inbox:
    return Inbox(db, clock=clock)
