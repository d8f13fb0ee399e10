"""The database wrapper: pragmas on every connection, WAL, migrations, the single writer."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from gateway.storage import Database, MigrationError, StorageError
from gateway.storage.database import (
    BUSY_TIMEOUT_MS,
    latest_version,
    load_migrations,
    split_statements,
)

SYNCHRONOUS_FULL = 2


async def pragma(conn: aiosqlite.Connection, name: str) -> object:
    rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
    return rows[0][0]


async def assert_durable(conn: aiosqlite.Connection) -> None:
    assert await pragma(conn, "synchronous") == SYNCHRONOUS_FULL
    assert await pragma(conn, "foreign_keys") == 1
    assert await pragma(conn, "busy_timeout") == BUSY_TIMEOUT_MS
    assert await pragma(conn, "journal_mode") == "wal"


async def test_pragmas_are_set_on_the_writer_and_every_reader(db: Database) -> None:
    async with db.write() as writer:
        await assert_durable(writer)
    # Hold both pooled readers at once so each one is checked.
    async with db.read() as first, db.read() as second:
        assert first is not second
        await assert_durable(first)
        await assert_durable(second)


async def test_readers_cannot_write(db: Database) -> None:
    async with db.read() as conn:
        assert await pragma(conn, "query_only") == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await conn.execute("CREATE TABLE sneaky (x INTEGER)")


async def test_file_is_in_wal_mode_on_disk(db: Database, tmp_path: Path) -> None:
    async with db.write() as conn:
        await conn.execute("CREATE TABLE scratch (x INTEGER)")
    assert (tmp_path / "tocsin.sqlite3-wal").exists()
    with sqlite3.connect(tmp_path / "tocsin.sqlite3") as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


async def test_migrations_set_user_version_and_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "twice.sqlite3"
    first = await Database.open(path)
    assert await first.schema_version() == latest_version() == len(load_migrations())
    async with first.write() as conn:
        await conn.execute("CREATE TABLE marker (x INTEGER)")
    await first.close()
    second = await Database.open(path)
    try:
        assert await second.schema_version() == latest_version()
        async with second.read() as conn:
            tables = {
                row[0] for row in await conn.execute_fetchall("SELECT name FROM sqlite_schema")
            }
        assert {"message", "message_part", "inbound", "marker"} <= tables
    finally:
        await second.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    db = await Database.open(path)
    async with db.write() as conn:
        await conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    await db.close()
    with pytest.raises(MigrationError, match="newer"):
        await Database.open(path)


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [migration.version for migration in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_statements_split_keeps_triggers_whole() -> None:
    script = """
-- a comment
CREATE TABLE a (x INTEGER); -- trailing
CREATE TRIGGER t BEFORE UPDATE ON a BEGIN
    SELECT RAISE(ABORT, 'no; never');
END;
-- the end
"""
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("CREATE TABLE b (x INTEGER)")


async def test_write_rolls_back_on_error(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")

    async def failing_write() -> None:
        async with db.write() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_write()
    async with db.read() as conn:
        assert next(iter(await conn.execute_fetchall("SELECT count(*) FROM t")))[0] == 0


async def test_a_cancelled_writer_leaves_the_connection_usable(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
    entered = asyncio.Event()

    async def slow_writer() -> None:
        async with db.write() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.write() as conn:
        await conn.execute("INSERT INTO t VALUES (2)")
    async with db.read() as conn:
        rows = [row[0] for row in await conn.execute_fetchall("SELECT x FROM t")]
    assert rows == [2]


async def test_writers_are_serialised(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("CREATE TABLE counter (n INTEGER)")
        await conn.execute("INSERT INTO counter VALUES (0)")

    async def bump() -> None:
        async with db.write() as conn:
            rows = list(await conn.execute_fetchall("SELECT n FROM counter"))
            await asyncio.sleep(0)
            await conn.execute("UPDATE counter SET n = ?", (rows[0][0] + 1,))

    await asyncio.gather(*(bump() for _ in range(20)))
    async with db.read() as conn:
        assert next(iter(await conn.execute_fetchall("SELECT n FROM counter")))[0] == 20


async def test_integrity_check_and_close(db: Database) -> None:
    assert await db.integrity_check() == ["ok"]
    await db.close()
    await db.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        async with db.read():
            pass
