"""Expired codes, sessions and spent captchas are purged; captcha replays fail across restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.residents.codes import CodeCheck, OneTimeCodes, Purpose
from gateway.residents.keys import Keyring
from gateway.residents.purge import purge_expired
from gateway.residents.sessions import Sessions
from gateway.residents.settings import ResidentSettings
from gateway.residents.spent import SpentSolutions
from gateway.service import Gateway
from gateway.storage.database import Database
from tests.inbound.helpers import make_config
from tests.residents.conftest import Clock
from tests.web.helpers import solve
from web.captcha import Captcha

NUMBER = "+15145550101"


async def _count(db: Database, table: str) -> int:
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall(f"SELECT count(*) FROM {table}"))
    return int(rows[0][0])


async def test_purge_deletes_only_what_expired(db: Database, keys: Keyring, clock: Clock) -> None:
    settings = ResidentSettings()
    codes = OneTimeCodes(db, keys, lifetime=timedelta(minutes=10), max_tries=5, clock=clock)
    sessions = Sessions(
        db, idle=settings.session_idle, absolute=settings.session_absolute, clock=clock
    )
    spent = SpentSolutions(db, clock=clock)
    await codes.issue(NUMBER, Purpose.REGISTER)
    old_session = await sessions.create()
    assert await spent.spend("old", clock.now + timedelta(minutes=20))
    clock.advance(minutes=25)
    live_code = await codes.issue("+15145550102", Purpose.RESET)
    live_session = await sessions.create()
    assert await spent.spend("new", clock.now + timedelta(minutes=20))

    purged = await purge_expired(db, settings, now=clock.now + timedelta(minutes=6))

    assert (purged.codes, purged.captchas) == (1, 1)
    assert purged.sessions == 1
    assert await _count(db, "otp_code") == 1
    assert await _count(db, "web_session") == 1
    assert await _count(db, "captcha_spent") == 1
    assert await sessions.get(old_session.token) is None
    assert await sessions.get(live_session.token) is not None
    assert await codes.check("+15145550102", Purpose.RESET, live_code) is CodeCheck.OK
    # A second pass finds nothing more.
    again = await purge_expired(db, settings, now=clock.now + timedelta(minutes=6))
    assert (again.codes, again.sessions, again.captchas) == (0, 0, 0)


async def test_a_code_whose_voice_call_waits_is_kept(
    db: Database, keys: Keyring, clock: Clock
) -> None:
    """The fallback call speaks the code; purging it first would leave the call without it."""
    codes = OneTimeCodes(db, keys, lifetime=timedelta(minutes=10), max_tries=5, clock=clock)
    await codes.issue(NUMBER, Purpose.REGISTER)
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO message (class, priority, channel, destination, body, language,"
            " next_attempt_at, created_at, updated_at) VALUES"
            " ('otp', 0, 'voice', ?, 'code', 'fr', 0, 0, 0)",
            (NUMBER,),
        )
        await conn.execute("UPDATE otp_code SET fallback_id = last_insert_rowid()")
    later = clock.now + timedelta(minutes=11)
    assert (await purge_expired(db, ResidentSettings(), now=later)).codes == 0
    async with db.write() as conn:
        await conn.execute("UPDATE message SET state = 'cancelled'")
    assert (await purge_expired(db, ResidentSettings(), now=later)).codes == 1


async def test_absolute_timeout_purges_a_busy_session(db: Database, clock: Clock) -> None:
    settings = ResidentSettings(session_absolute=timedelta(hours=1))
    sessions = Sessions(
        db, idle=settings.session_idle, absolute=settings.session_absolute, clock=clock
    )
    await sessions.create()
    purged = await purge_expired(db, settings, now=clock.now + timedelta(hours=1, seconds=1))
    assert purged.sessions == 1


async def test_the_service_purges_on_start(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        async with gateway.db.write() as conn:
            await conn.execute(
                "INSERT INTO captcha_spent (signature_hash, expires_at) VALUES ('x', 1)"
            )
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        # The purge task's first pass runs as soon as the loop lets it.
        for _ in range(1000):
            if await _count(gateway.db, "captcha_spent") == 0:
                break
            await asyncio.sleep(0.01)
        assert await _count(gateway.db, "captcha_spent") == 0


def _solved(captcha: Captcha) -> str:
    return solve(captcha.challenge())


async def test_captcha_replay_is_refused_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "captcha.sqlite"
    db = await Database.open(path)
    captcha = Captcha("key", 1000, SpentSolutions(db))
    payload = _solved(captcha)
    assert await captcha.verify(payload)
    assert not await captcha.verify(payload)
    await db.close()

    db = await Database.open(path)
    try:
        restarted = Captcha("key", 1000, SpentSolutions(db))
        assert not await restarted.verify(payload)
        assert await restarted.verify(_solved(restarted))
        assert not await restarted.verify("garbage")
        assert not await restarted.verify("")
        # Bounded: a spent row past its expiry is purged.
        purged = await purge_expired(
            db, ResidentSettings(), now=datetime.now(UTC) + timedelta(hours=1)
        )
        assert purged.captchas == 2
    finally:
        await db.close()
