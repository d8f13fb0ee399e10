"""A migrated database, a real outbox and bus, and a clock the tests move by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.events import EventBus
from gateway.outbox import Outbox
from gateway.residents.keys import Keyring
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database


class Clock:
    """Time stands still unless a test advances it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "residents.sqlite")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def keys(db: Database) -> Keyring:
    return await Keyring.load(db)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
async def service(db: Database, bus: EventBus, clock: Clock) -> ResidentService:
    return await ResidentService.open(
        db, Outbox(db, clock=clock), bus, ResidentSettings(), clock=clock
    )


async def outbox_rows(db: Database) -> list[tuple[str, str, str, str]]:
    """(class, channel, destination, body) of every queued message, oldest first."""
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT class, channel, destination, body FROM message ORDER BY id"
        )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def code_in(body: str) -> str:
    """The six digits of a code message (SMS or spoken)."""
    digits = "".join(ch for ch in body.split("code", 1)[1] if ch.isdigit())
    return digits[:6]
