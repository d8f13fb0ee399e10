"""The staff second factor on a real SQLite file: enrolment, the ±1 step window, replay, lockout,
and `tocsin admin disable-totp` as the recovery."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp

from gateway.campaigns.admins import AdminAccounts, AuditLog
from gateway.campaigns.models import Role
from gateway.campaigns.totp import CodeResult, TotpFactor, clean_code, provisioning_uri, qr_svg
from gateway.storage.database import Database

PASSWORD = "une phrase de passe assez longue"
T0 = datetime(2026, 6, 10, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_enrol_window_replay_and_lockout(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite")
    clock = Clock(T0)
    try:
        admin = await AdminAccounts(db).create("marie", PASSWORD, Role.ADMIN)
        totp = TotpFactor(db, clock=clock, max_failures=3, lockout=timedelta(minutes=10))
        assert not (await totp.status(admin.id)).enabled
        assert await totp.check(admin.id, "123456") is CodeResult.NOT_ENROLLED

        secret = await totp.begin(admin.id)
        app = pyotp.TOTP(secret)
        status = await totp.status(admin.id)
        assert status.pending
        assert not status.enabled
        # Not on yet: a sign-in code is refused until a first code confirms the secret.
        assert await totp.check(admin.id, app.at(T0)) is CodeResult.NOT_ENROLLED
        assert await totp.confirm(admin.id, "000000" if app.at(T0) != "000000" else "111111") in (
            CodeResult.WRONG,
        )
        assert await totp.confirm(admin.id, app.at(T0)) is CodeResult.OK
        assert (await totp.status(admin.id)).enabled

        # The same code again (same step) is a replay, even a moment later.
        clock.now = T0 + timedelta(seconds=5)
        assert await totp.check(admin.id, app.at(T0)) is CodeResult.REPLAYED
        # One step either side is accepted; two steps is not.
        clock.now = T0 + timedelta(seconds=90)
        assert await totp.check(admin.id, app.at(T0 + timedelta(seconds=150))) is CodeResult.WRONG
        assert await totp.check(admin.id, app.at(T0 + timedelta(seconds=120))) is CodeResult.OK
        # A step older than the last accepted one is refused, though inside the window.
        assert await totp.check(admin.id, app.at(T0 + timedelta(seconds=90))) is (
            CodeResult.REPLAYED
        )
        # Codes as apps show them ("123 456") are fine.
        clock.now = T0 + timedelta(seconds=150)
        code = app.at(clock.now)
        assert await totp.check(admin.id, f" {code[:3]} {code[3:]} ") is CodeResult.OK

        # Three wrong codes in a row (max_failures=3) lock the account, good codes too.
        clock.now = T0 + timedelta(minutes=5)
        for _ in range(2):
            assert await totp.check(admin.id, "abc") is CodeResult.WRONG
        assert await totp.check(admin.id, "999999x") is CodeResult.WRONG
        assert (await totp.status(admin.id)).locked_until == clock.now + timedelta(minutes=10)
        assert await totp.check(admin.id, app.at(clock.now)) is CodeResult.LOCKED
        clock.now += timedelta(minutes=10)
        assert (await totp.status(admin.id)).locked_until is None
        assert await totp.check(admin.id, app.at(clock.now)) is CodeResult.OK

        assert await totp.disable(admin.id)
        assert not (await totp.status(admin.id)).enabled
        assert await totp.pending_secret(admin.id) is None
    finally:
        await db.close()


def test_code_cleaning_uri_and_qr() -> None:
    assert clean_code("123 456") == "123456"
    assert clean_code("123-456") == "123456"
    for bad in ("12345", "1234567", "12345a", "١٢٣٤٥٦", ""):
        assert clean_code(bad) == ""
    uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "marie", "Ville de Démo")
    assert uri.startswith("otpauth://totp/")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "issuer=Tocsin%20Ville%20de%20D%C3%A9mo" in uri
    svg = qr_svg(uri, "QR")
    assert svg.startswith('<svg role="img" class="qr" ')
    assert "<title>QR</title>" in svg
    assert "<script" not in svg
    assert "style=" not in svg


async def test_cli_disables_the_second_factor(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    db = await Database.open(path)
    try:
        admin = await AdminAccounts(db).create("marie", PASSWORD, Role.ADMIN)
        totp = TotpFactor(db)
        secret = await totp.begin(admin.id)
        assert await totp.confirm(admin.id, pyotp.TOTP(secret).now()) is CodeResult.OK
    finally:
        await db.close()

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", "admin", "disable-totp", name,
             "--database", str(path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    done = run("marie")
    assert done.returncode == 0, done.stderr
    assert "disabled" in done.stdout
    assert run("nobody").returncode == 1
    assert "nothing to do" in run("marie").stdout

    db = await Database.open(path)
    try:
        assert not (await TotpFactor(db).status(admin.id)).enabled
        actions = [(e.username, e.action, e.detail) for e in await AuditLog(db).recent()]
        assert ("cli", "totp.disable", "marie") in actions
    finally:
        await db.close()
