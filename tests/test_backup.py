"""Online backup, retention and restore of the SQLite file, and the lock that guards restore."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway import backup as backup_module
from gateway.backup import BackupError, GatewayRunningError, backup, prune, restore
from gateway.config import ConfigError
from gateway.outbox import Outbox
from gateway.service import Gateway
from gateway.storage.database import Database, latest_version
from gateway.storage.outbox_models import Channel, MessageClass, NewMessage
from tests.gateway.conftest import make_config

# Enough rows that the copy overlaps the writer, few enough to keep the test quick.
WRITER_ROWS = 400
BACKUPS_MADE = 5


def _message(i: int) -> NewMessage:
    return NewMessage(MessageClass.ALERT, Channel.SMS, f"+1514555{i:04d}", f"Alerte {i}", "fr")


def _rows(db_path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT * FROM message ORDER BY id").fetchall()
    finally:
        conn.close()


async def _seeded(db_path: Path, count: int) -> Database:
    db = await Database.open(db_path)
    outbox = Outbox(db)
    for i in range(count):
        await outbox.enqueue(_message(i))
    return db


async def test_backup_while_writing_then_restore_gives_the_same_rows(tmp_path: Path) -> None:
    db_path = tmp_path / "tocsin.sqlite"
    db = await _seeded(db_path, 50)
    outbox = Outbox(db)

    async def writer() -> None:
        for i in range(50, 50 + WRITER_ROWS):
            await outbox.enqueue(_message(i))

    writing = asyncio.create_task(writer())
    await asyncio.sleep(0)
    copy = await backup(db_path, tmp_path / "backups", keep=3)
    await writing
    await db.close()

    assert copy.parent == tmp_path / "backups"
    assert copy.name.startswith("tocsin-")
    assert copy.suffix == ".sqlite"
    assert not list(copy.parent.glob("*-wal")), "the backup is one standalone file"
    saved = _rows(copy)
    live = _rows(db_path)
    assert 50 <= len(saved) <= len(live) == 50 + WRITER_ROWS
    assert saved == live[: len(saved)], "the copy is a consistent prefix of the live data"

    await restore(copy, db_path)
    assert _rows(db_path) == saved
    aside = tmp_path / "tocsin.sqlite.before-restore"
    assert _rows(aside) == live, "the replaced database is kept, WAL included"
    reopened = await Database.open(db_path)
    try:
        assert await reopened.integrity_check() == ["ok"]
        assert await reopened.schema_version() == latest_version()
    finally:
        await reopened.close()


async def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    db_path = tmp_path / "tocsin.sqlite"
    await (await _seeded(db_path, 3)).close()
    dest = tmp_path / "backups"
    start = datetime(2025, 1, 1, 12, tzinfo=UTC)
    made = [
        await backup(db_path, dest, keep=3, now=start + timedelta(hours=i))
        for i in range(BACKUPS_MADE)
    ]
    (dest / "notes.txt").write_text("not a backup", encoding="utf-8")
    assert sorted(p.name for p in dest.glob("tocsin-*.sqlite")) == [p.name for p in made[-3:]]
    assert made[-1].name == "tocsin-20250101-160000.sqlite"
    assert prune(dest, keep=1) == made[-3:-1]
    assert (dest / "notes.txt").exists()
    with pytest.raises(ValueError, match="keep"):
        await backup(db_path, dest, keep=0)


async def test_missing_database_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no such database"):
        await backup(tmp_path / "nope.sqlite", tmp_path / "b", keep=1)
    assert not (tmp_path / "nope.sqlite").exists()


async def test_corrupt_or_foreign_backups_are_refused(tmp_path: Path) -> None:
    db_path = tmp_path / "tocsin.sqlite"
    await (await _seeded(db_path, 200)).close()
    copy = await backup(db_path, tmp_path / "backups", keep=3)
    before = db_path.read_bytes()

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite" * 1000)
    with pytest.raises(BackupError, match="not a usable SQLite database"):
        await restore(garbage, db_path)

    damaged = tmp_path / "damaged.sqlite"
    data = bytearray(copy.read_bytes())
    page = 4096
    data[3 * page : 6 * page] = b"\xa5" * (3 * page)  # wreck b-tree pages, keep the header
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        await restore(damaged, db_path)

    newer = tmp_path / "newer.sqlite"
    newer.write_bytes(copy.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    with pytest.raises(BackupError, match="newer than this code"):
        await restore(newer, db_path)

    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    with pytest.raises(BackupError):
        await restore(empty, db_path)

    assert db_path.read_bytes() == before, "a refused restore leaves the database alone"
    assert not (tmp_path / "tocsin.sqlite.before-restore").exists()


async def test_restore_is_refused_while_a_gateway_runs(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    db_path = Path(config.get_str("storage.path"))
    async with Gateway(config, ()) as gateway:
        await gateway.outbox.enqueue(_message(1))
        copy = await backup(db_path, tmp_path / "backups", keep=2)
        with pytest.raises(GatewayRunningError, match="gateway is running"):
            await restore(copy, db_path)
        with pytest.raises(GatewayRunningError):
            await Gateway(config, ()).start()
    await restore(copy, db_path)  # stopped: the lock is free again
    async with Gateway(config, ()) as gateway:
        assert await gateway.outbox.counts_by_state()


async def test_scheduled_backups_run_inside_the_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "scheduled"
    config = make_config(
        tmp_path, **{"backup.interval_s": 0.05, "backup.dir": str(dest), "backup.keep": 2}
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    made: list[Path] = []
    original = backup_module.backup

    async def stamped(db_path: Path, dest_dir: Path, *, keep: int) -> Path:
        """Distinct names, one second apart, though the backups run 50 ms apart."""
        path = await original(
            db_path, dest_dir, keep=keep, now=start + timedelta(seconds=len(made))
        )
        made.append(path)
        return path

    monkeypatch.setattr(backup_module, "backup", stamped)
    async with Gateway(config, ()):
        async with asyncio.timeout(10):
            while len(made) < BACKUPS_MADE:
                await asyncio.sleep(0.05)
    kept = sorted(dest.glob("tocsin-*.sqlite"))
    assert kept == made[len(made) - 2 :], "the newest two are kept"
    assert not list(dest.glob(".tocsin-*")), "no temporary file is left behind"


async def test_scheduled_backups_need_keep(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{"backup.keep": 0})
    with pytest.raises(ConfigError, match=r"backup\.keep"):
        backup_module.start_scheduled(config)
    assert backup_module.start_scheduled(make_config(tmp_path, **{"backup.interval_s": 0})) is None


def tocsin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_backup_and_restore(tmp_path: Path) -> None:
    db_path = tmp_path / "tocsin.sqlite"
    await (await _seeded(db_path, 20)).close()
    config = tmp_path / "tocsin.toml"
    config.write_text(
        f'[storage]\npath = "{db_path}"\n\n[backup]\ndir = "{tmp_path / "default"}"\n',
        encoding="utf-8",
    )
    made = tocsin("backup", "--config", str(config))
    assert made.returncode == 0, made.stderr
    copy = Path(made.stdout.strip())
    assert copy.parent == tmp_path / "default"
    assert copy.is_file()
    elsewhere = tocsin("backup", "--config", str(config), "--to", str(tmp_path / "other"))
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert Path(elsewhere.stdout.strip()).parent == tmp_path / "other"

    saved = _rows(db_path)
    db = await Database.open(db_path)
    await Outbox(db).enqueue(_message(999))
    await db.close()
    restored = tocsin("restore", str(copy), "--config", str(config))
    assert restored.returncode == 0, restored.stderr
    assert _rows(db_path) == saved

    bad = tmp_path / "bad.sqlite"
    bad.write_text("nope", encoding="utf-8")
    refused = tocsin("restore", str(bad), "--config", str(config))
    assert refused.returncode == 1
    assert "restore failed" in refused.stderr
    assert "bad.sqlite" in refused.stderr
    missing = tocsin("restore", str(tmp_path / "missing.sqlite"), "--config", str(config))
    assert missing.returncode == 1
    assert "no such backup" in missing.stderr
    no_config = tocsin("backup", "--config", str(tmp_path / "absent.toml"))
    assert no_config.returncode == 1
    assert "bad configuration" in no_config.stderr


async def test_cli_restore_refused_while_running(tmp_path: Path) -> None:
    gw_config = make_config(tmp_path)
    db_path = Path(gw_config.get_str("storage.path"))
    config = tmp_path / "tocsin.toml"
    config.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    async with Gateway(gw_config, ()):
        copy = await backup(db_path, tmp_path / "b", keep=1)
        refused = await asyncio.to_thread(tocsin, "restore", str(copy), "--config", str(config))
    assert refused.returncode == 1
    assert "gateway is running" in refused.stderr
