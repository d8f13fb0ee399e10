"""Send budgets: per number (3 per 15 min, 10 per day), per client, town-wide per hour."""

from __future__ import annotations

from typing import Any

from gateway.events import EventBus
from gateway.outbox import Channel
from gateway.residents.budgets import Exceeded, SendBudgets
from gateway.residents.codes import Purpose
from gateway.residents.keys import Keyring
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database
from tests.residents.conftest import Clock, outbox_rows

NUMBER = "+15145550101"


def budgets(db: Database, keys: Keyring, clock: Clock, **limits: Any) -> SendBudgets:
    return SendBudgets(db, keys, ResidentSettings(**limits), clock=clock)


async def test_three_per_fifteen_minutes(db: Database, keys: Keyring, clock: Clock) -> None:
    spend = budgets(db, keys, clock).spend
    assert [await spend(NUMBER, f"10.0.0.{i}") for i in range(3)] == [None] * 3
    assert await spend(NUMBER, "10.0.0.9") is Exceeded.NUMBER_15MIN
    clock.advance(minutes=15)
    assert await spend(NUMBER, "10.0.0.9") is None


async def test_ten_per_day(db: Database, keys: Keyring, clock: Clock) -> None:
    spend = budgets(db, keys, clock).spend
    for i in range(10):
        assert await spend(NUMBER, f"10.0.0.{i}") is None
        clock.advance(minutes=16)
    assert await spend(NUMBER, "10.0.1.1") is Exceeded.NUMBER_DAY
    clock.advance(hours=24)
    assert await spend(NUMBER, "10.0.1.1") is None


async def test_per_client(db: Database, keys: Keyring, clock: Clock) -> None:
    spend = budgets(db, keys, clock, budget_ip_hour=2).spend
    assert await spend("+15145550101", "10.0.0.1") is None
    assert await spend("+15145550102", "10.0.0.1") is None
    assert await spend("+15145550103", "10.0.0.1") is Exceeded.CLIENT_HOUR
    assert await spend("+15145550103", "10.0.0.2") is None


async def test_town_wide_per_hour(db: Database, keys: Keyring, clock: Clock) -> None:
    spend = budgets(db, keys, clock, budget_global_hour=3).spend
    for i in range(3):
        assert await spend(f"+1514555010{i}", f"10.0.0.{i}") is None
    assert await spend("+15145550109", "10.0.0.9") is Exceeded.GLOBAL_HOUR
    clock.advance(hours=1)
    assert await spend("+15145550109", "10.0.0.9") is None


async def test_no_number_or_address_at_rest(db: Database, keys: Keyring, clock: Clock) -> None:
    await budgets(db, keys, clock).spend(NUMBER, "192.0.2.55")
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT * FROM send_event"))
    dumped = " ".join(str(v) for row in rows for v in tuple(row))
    assert "5145550101" not in dumped
    assert "192.0.2.55" not in dumped


async def test_over_budget_sends_nothing_and_raises_an_alarm(
    service: ResidentService, db: Database, bus: EventBus
) -> None:
    alarms = bus.subscribe({"alarm"})
    answers = [
        await service.request_code(
            "514 555-0101", Purpose.REGISTER, Channel.SMS, client="10.0.0.1", language="fr"
        )
        for _ in range(4)
    ]
    assert answers == [NUMBER] * 4  # the caller cannot tell the fourth apart
    assert len(await outbox_rows(db)) == 3
    event = await alarms.next(timeout=1)
    assert event.data == {"source": "residents", "budget": "number_15min", "purpose": "register"}
    alarms.close()
