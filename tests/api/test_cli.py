"""`tocsin api token create|list|revoke` against a real database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import cli
from gateway.api.tokens import ApiTokens
from gateway.campaigns.admins import AuditLog
from gateway.storage.database import Database


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "tocsin.sqlite")
    code, out, err = run(
        capsys, "api", "token", "create", "Travaux publics", "--role", "operator", "--database", db
    )
    assert code == 0
    secret = out.strip()
    assert secret.startswith("tocsin_")
    assert "shown only now" in err
    code, out, _ = run(capsys, "api", "token", "create", "travaux publics", "--database", db)
    assert code == 1
    code, out, _ = run(capsys, "api", "token", "list", "--json", "--database", db)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["name"], r["role"], r["revoked_at"]) for r in rows] == [
        ("Travaux publics", "operator", None)
    ]
    assert secret not in out
    assert rows[0]["prefix"] == secret[:15]
    code, out, _ = run(capsys, "api", "token", "revoke", "TRAVAUX PUBLICS", "--database", db)
    assert code == 0
    code, _, err = run(capsys, "api", "token", "revoke", "Travaux publics", "--database", db)
    assert code == 1
    assert "no live token" in err
    code, out, _ = run(capsys, "api", "token", "list", "--database", db)
    assert "revoked" in out

    async def check() -> None:
        database = await Database.open(db)
        try:
            assert await ApiTokens(database).authenticate(secret) is None
            actions = [(e.username, e.action) for e in await AuditLog(database).recent()]
        finally:
            await database.close()
        assert actions == [("cli", "api.token.revoke"), ("cli", "api.token.create")]

    import asyncio

    asyncio.run(check())
