"""`tocsin admin create`: a password piped in or typed, never a default one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.campaigns.admins import AdminAccounts
from gateway.storage.database import Database

PASSWORD = "une phrase de passe assez longue"


def tocsin(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "admin", "create", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_admin_create(tmp_path: Path) -> None:
    database = str(tmp_path / "t.sqlite")
    done = tocsin(
        "--username", "marie", "--role", "admin", "--password-stdin", "--database", database,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "created admin 'marie'" in done.stdout
    weak = tocsin("--username", "paul", "--password-stdin", "--database", database, stdin="abc\n")
    assert weak.returncode == 1
    assert "12 characters" in weak.stderr
    again = tocsin(
        "--username", "MARIE", "--password-stdin", "--database", database, stdin=PASSWORD
    )
    assert "taken" in again.stderr
    db = await Database.open(database)
    try:
        accounts = AdminAccounts(db)
        admin = await accounts.authenticate("marie", PASSWORD)
        assert admin is not None
        assert admin.role.value == "admin"
        assert [a.username for a in await accounts.all()] == ["marie"]
    finally:
        await db.close()
