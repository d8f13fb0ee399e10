"""Deactivated residents cannot sign in nor reset; imported residents set a password through
"Mot de passe oublié?", which also proves their login number; the CLI import and export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.outbox import Channel
from gateway.residents.codes import Purpose
from gateway.residents.imports import ResidentImports
from gateway.residents.service import CodeRejected, ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.residents.streets import load_sample_streets
from gateway.storage.database import Database
from tests.residents.conftest import code_in, outbox_rows
from tests.residents.test_accounts import NUMBER, PASSWORD, registered

CSV = (
    "last_name,first_name,street,phone1,phone1_type,phone1_verified,consent_sms\n"
    "Côté,Léa,RUE PRINCIPALE,514 555-0177,both,no,yes\n"
)


async def test_a_deactivated_resident_cannot_sign_in(service: ResidentService) -> None:
    resident = await registered(service)
    assert await service.authenticate(NUMBER, PASSWORD) is not None
    assert await service.directory.set_active(resident.id, False)
    assert await service.authenticate(NUMBER, PASSWORD) is None
    await service.request_code(NUMBER, Purpose.RESET, Channel.SMS, client="c", language="fr")
    rows = await outbox_rows(service.residents._db)
    with pytest.raises(CodeRejected):
        await service.complete_reset(NUMBER, code_in(rows[-1][3]), "another fine passphrase")
    assert await service.directory.set_active(resident.id, True)
    assert await service.authenticate(NUMBER, PASSWORD) is not None
    assert not await service.directory.set_active(999_999, False)


async def test_an_imported_resident_sets_a_password_by_reset(
    service: ResidentService, db: Database
) -> None:
    await load_sample_streets(db, "Ville de Démo")
    status = await service.imports.run_now(CSV.encode(), "x.csv", "t")
    assert status.accepted == 1
    number = "+15145550177"
    resident = await service.residents.by_phone(number)
    assert resident is not None
    assert not resident.has_password
    assert await service.authenticate(number, "!imported") is None
    contacts = await service.residents.contacts(resident.id)
    assert {(c.kind.value, c.verified, c.active) for c in contacts} == {
        ("voice", False, False),
        ("sms", False, False),
    }
    await service.request_code(number, Purpose.RESET, Channel.SMS, client="c", language="fr")
    rows = await outbox_rows(db)
    await service.complete_reset(number, code_in(rows[-1][3]), "my own passphrase here")
    assert await service.authenticate(number, "my own passphrase here") is not None
    # The code reached the number: its contacts are now verified and active.
    contacts = await service.residents.contacts(resident.id)
    assert {(c.verified, c.active) for c in contacts} == {(True, True)}


def tocsin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )


async def test_cli_import_and_export(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite"
    db = await Database.open(database)
    await load_sample_streets(db, "Ville de Démo")
    await db.close()
    source = tmp_path / "in.csv"
    source.write_text(CSV + "Roy,Noah,RUE INCONNUE,514 555-0178,sms,no,no\n", encoding="utf-8")
    done = tocsin("residents", "import", str(source), "--database", str(database))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "processed 2/2" in lines  # plain lines when stdout is not a terminal
    assert "line 3: rejected street_unknown RUE INCONNUE" in lines
    assert lines[-1].startswith("import 1 done: 1 added, 0 duplicates, 1 rejected")
    target = tmp_path / "out.csv"
    done = tocsin("residents", "export", str(target), "--database", str(database), "--semicolon")
    assert done.returncode == 0, done.stderr
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("Côté;Léa;fr;;RUE PRINCIPALE;")
    db = await Database.open(database)
    try:
        imports = ResidentImports(db, ResidentSettings())
        [status] = await imports.recent()
        assert status.admin == "cli"
    finally:
        await db.close()
    missing = tocsin("residents", "import", str(tmp_path / "nope.csv"), "--database", str(database))
    assert missing.returncode == 1
    assert "nope.csv" in missing.stderr
