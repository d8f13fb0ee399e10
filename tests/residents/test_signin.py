"""Sign-in: throttling per number and per address, and signing in with the code just received."""

from __future__ import annotations

import pytest

from gateway.events import EventBus
from gateway.outbox import Channel
from gateway.residents.codes import Purpose
from gateway.residents.errors import WeakPassword
from gateway.residents.service import ResidentService, SignInLocked
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database
from tests.residents.conftest import Clock, code_in, outbox_rows
from tests.residents.test_accounts import PASSWORD, registered

NUMBER = "+15145550101"
UNKNOWN = "+15145550199"


@pytest.fixture
async def strict(db: Database, bus: EventBus, clock: Clock) -> ResidentService:
    """Low limits so a test reaches them quickly."""
    from gateway.outbox import Outbox

    settings = ResidentSettings(signin_number_failures=3, signin_client_failures=6)
    return await ResidentService.open(db, Outbox(db, clock=clock), bus, settings, clock=clock)


async def _fail(service: ResidentService, number: str, client: str, times: int) -> None:
    for _ in range(times):
        assert await service.sign_in(number, "wrong password", client=client, language="fr") is None


async def test_a_number_is_locked_after_failures_then_unlocked_with_a_growing_delay(
    strict: ResidentService, clock: Clock
) -> None:
    await registered(strict)
    await _fail(strict, NUMBER, "10.0.0.1", 3)
    # Locked: even the right password, from another address, gets the lock answer.
    with pytest.raises(SignInLocked):
        await strict.sign_in(NUMBER, PASSWORD, client="10.0.0.2", language="fr")
    clock.advance(seconds=61)
    await _fail(strict, NUMBER, "10.0.0.3", 1)  # the 4th failure: two minutes this time
    clock.advance(seconds=61)
    with pytest.raises(SignInLocked):
        await strict.sign_in(NUMBER, PASSWORD, client="10.0.0.2", language="fr")
    clock.advance(seconds=60)
    signed = await strict.sign_in(NUMBER, PASSWORD, client="10.0.0.2", language="fr")
    assert signed is not None
    assert not signed.choose_password
    # Success restarts the number's count: three more tries before the next lock.
    await _fail(strict, NUMBER, "10.0.0.4", 2)
    assert await strict.sign_in(NUMBER, PASSWORD, client="10.0.0.5", language="fr") is not None


async def test_unknown_numbers_are_locked_the_same_way(strict: ResidentService) -> None:
    await registered(strict)
    for number in (NUMBER, UNKNOWN, "not a number"):
        await _fail(strict, number, f"client-{number}", 3)
        with pytest.raises(SignInLocked) as caught:
            await strict.sign_in(number, PASSWORD, client="elsewhere", language="fr")
        assert caught.value.code == "locked"


async def test_an_address_is_locked_across_numbers_and_raises_one_alarm(
    strict: ResidentService, bus: EventBus
) -> None:
    alarms = bus.subscribe({"alarm"})
    await registered(strict)
    for i in range(6):
        await _fail(strict, f"+1514555{1000 + i}", "198.51.100.9", 1)
    with pytest.raises(SignInLocked):
        await strict.sign_in(NUMBER, PASSWORD, client="198.51.100.9", language="fr")
    # Another address is not affected.
    assert await strict.sign_in(NUMBER, PASSWORD, client="198.51.100.10", language="fr")
    event = await alarms.next(timeout=1)
    assert event.data == {"source": "residents", "budget": "signin_client"}
    assert alarms.queue.empty()  # once, when the limit is reached, not per attempt
    alarms.close()


async def test_the_throttle_table_names_no_number_or_address(
    strict: ResidentService, db: Database
) -> None:
    await _fail(strict, NUMBER, "192.0.2.55", 2)
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT * FROM signin_failure"))
    dumped = " ".join(str(v) for row in rows for v in tuple(row))
    assert len(rows) == 4
    assert "5145550101" not in dumped
    assert "192.0.2.55" not in dumped


# Signing in with the code (the seed's flow)


async def _code(service: ResidentService, number: str, purpose: Purpose) -> str:
    await service.request_code(number, purpose, Channel.SMS, client="c", language="fr")
    return code_in((await outbox_rows(service.residents._db))[-1][3])


async def test_registration_code_as_password_creates_the_account(
    service: ResidentService,
) -> None:
    code = await _code(service, NUMBER, Purpose.REGISTER)
    signed = await service.sign_in("514 555-0101", code, client="c", language="en")
    assert signed is not None
    assert signed.choose_password
    assert signed.resident.phone == NUMBER
    assert signed.resident.profile.language == "en"
    # Single use: the same code does not work twice.
    assert await service.sign_in(NUMBER, code, client="c", language="en") is None
    await service.choose_password(signed.resident, PASSWORD, keep=None)
    again = await service.sign_in(NUMBER, PASSWORD, client="c", language="fr")
    assert again is not None
    assert not again.choose_password


async def test_reset_code_as_password_keeps_the_old_password_until_a_new_one(
    service: ResidentService,
) -> None:
    await registered(service)
    code = await _code(service, NUMBER, Purpose.RESET)
    signed = await service.sign_in(NUMBER, code, client="c", language="fr")
    assert signed is not None
    assert signed.choose_password
    assert await service.sign_in(NUMBER, PASSWORD, client="c", language="fr") is not None
    await service.choose_password(signed.resident, "another long passphrase", keep=None)
    assert await service.sign_in(NUMBER, PASSWORD, client="c", language="fr") is None


async def test_a_code_expires_after_ten_minutes_and_other_codes_do_not_open(
    service: ResidentService, clock: Clock
) -> None:
    code = await _code(service, NUMBER, Purpose.REGISTER)
    clock.advance(minutes=10, seconds=1)
    assert await service.sign_in(NUMBER, code, client="c", language="fr") is None
    assert await service.residents.by_phone(NUMBER) is None
    # A code for another number, or a made-up one, opens nothing.
    other = await _code(service, "+15145550102", Purpose.REGISTER)
    assert await service.sign_in(NUMBER, other, client="c", language="fr") is None
    assert await service.sign_in(UNKNOWN, "123456", client="c", language="fr") is None


async def test_choose_password_applies_the_policy(service: ResidentService) -> None:
    code = await _code(service, NUMBER, Purpose.REGISTER)
    signed = await service.sign_in(NUMBER, code, client="c", language="fr")
    assert signed is not None
    with pytest.raises(WeakPassword) as caught:
        await service.choose_password(signed.resident, "short", keep=None)
    assert caught.value.code == "too_short"
