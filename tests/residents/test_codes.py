"""One-time codes: HMAC at rest, single use, bound to number and purpose, expiry, five tries."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from gateway.residents.codes import CodeCheck, OneTimeCodes, Purpose, new_code
from gateway.residents.keys import Keyring
from gateway.storage.database import Database
from tests.residents.conftest import Clock

NUMBER = "+15145550101"
OTHER = "+15145550102"


def codes(db: Database, keys: Keyring, clock: Clock) -> OneTimeCodes:

    return OneTimeCodes(db, keys, lifetime=timedelta(minutes=10), max_tries=5, clock=clock)


def test_new_code_is_six_digits_and_varies() -> None:
    seen = {new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", code) for code in seen)
    assert len(seen) > 190


async def test_stored_as_hmac_never_in_clear(db: Database, keys: Keyring, clock: Clock) -> None:
    code = await codes(db, keys, clock).issue(NUMBER, Purpose.REGISTER)
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT * FROM otp_code"))
    dumped = " ".join(str(value) for row in rows for value in tuple(row))
    assert len(rows) == 1
    assert code not in dumped
    assert NUMBER not in dumped
    assert NUMBER[1:] not in dumped
    assert re.fullmatch(r"[0-9a-f]{64}", str(rows[0]["code_mac"]))


async def test_single_use(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.REGISTER)
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.OK
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.MISSING


async def test_bound_to_number_and_purpose(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.RESET)
    assert await otp.check(OTHER, Purpose.RESET, code) is CodeCheck.MISSING
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.MISSING
    assert await otp.check(NUMBER, Purpose.ADD_CONTACT, code) is CodeCheck.MISSING
    assert await otp.check(NUMBER, Purpose.RESET, code) is CodeCheck.OK


async def test_expires_after_ten_minutes(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.REGISTER)
    clock.advance(minutes=9, seconds=59)
    assert await otp.check(NUMBER, Purpose.REGISTER, "000000" if code != "000000" else "1") is (
        CodeCheck.WRONG
    )
    clock.advance(seconds=1)
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.MISSING
    assert await otp.purge_expired() == 0  # the failed check already removed it


async def test_five_wrong_tries_kill_the_code(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.REGISTER)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    results = [await otp.check(NUMBER, Purpose.REGISTER, wrong) for _ in range(5)]
    assert results == [CodeCheck.WRONG] * 5
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.MISSING


async def test_four_wrong_tries_then_right(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.REGISTER)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert await otp.check(NUMBER, Purpose.REGISTER, wrong) is CodeCheck.WRONG
    assert await otp.check(NUMBER, Purpose.REGISTER, code) is CodeCheck.OK


async def test_new_code_replaces_the_old(db: Database, keys: Keyring, clock: Clock) -> None:
    otp = codes(db, keys, clock)
    first = await otp.issue(NUMBER, Purpose.REGISTER)
    second = await otp.issue(NUMBER, Purpose.REGISTER)
    if first != second:
        assert await otp.check(NUMBER, Purpose.REGISTER, first) is CodeCheck.WRONG
    assert await otp.check(NUMBER, Purpose.REGISTER, second) is CodeCheck.OK


async def test_key_made_once_and_kept(db: Database) -> None:
    first = await Keyring.load(db)
    second = await Keyring.load(db)
    assert first.mac("x") == second.mac("x")
    assert first.number_key(NUMBER) != first.number_key(OTHER)


async def test_codes_never_logged(db: Database, keys: Keyring, clock: Clock, caplog) -> None:

    caplog.set_level(logging.DEBUG)
    otp = codes(db, keys, clock)
    code = await otp.issue(NUMBER, Purpose.REGISTER)
    await otp.check(NUMBER, Purpose.REGISTER, code)
    assert code not in caplog.text
