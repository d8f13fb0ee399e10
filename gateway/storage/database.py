"""The one SQLite file: durable connections, numbered migrations, and a single writer."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar, cast

import aiosqlite

from gateway.storage.errors import MigrationError, StorageError

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A transaction body for write_fn/read_fn: plain sqlite3, run on the connection's own thread.
TransactionFn = Callable[[sqlite3.Connection], T]

# A backup, the CLI or a checkpoint can hold the lock for a moment; wait that long rather
# than fail a send. Well under the dispatcher's per-message budget.
BUSY_TIMEOUT_MS = 5000
# UI counters and API look-ups read beside the dispatcher; WAL lets them overlap the writer.
READER_CONNECTIONS = 2
# Page cache of the writer, in KiB: a fan-out updates five indexes at once, and SQLite's
# 2 MiB default makes it spill pages mid-transaction (~10 % slower at 100,000 rows).
WRITER_CACHE_KIB = 16384
# NNN_name.sql: the number is the schema version the file brings the database to.
_MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_MIGRATIONS_PACKAGE = "gateway"
_MIGRATIONS_DIR = "migrations"

# Set on every connection: none of these is stored in the file.
CONNECTION_PRAGMAS: tuple[tuple[str, str], ...] = (
    # With WAL, synchronous=NORMAL can lose the last commits on power loss; a committed
    # outbox or inbox row must survive a power cut, because the modem has already acted on it.
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    # Deleted or rewritten rows are zeroed in the file, not left in free space: deleting an
    # account must leave no copy of its numbers behind (the cost is a memset per freed cell).
    ("secure_delete", "ON"),
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file from gateway/migrations."""

    version: int
    name: str
    sql: str


@dataclass(slots=True)
class _Work:
    """One write_fn call waiting for the next group commit."""

    fn: TransactionFn[Any]
    future: asyncio.Future[Any]
    # Called with the result when the caller was cancelled after its work was committed,
    # so work that must not be left orphaned (a claim) can be put back.
    orphaned: Callable[[Any], None] | None = None


@dataclass(slots=True)
class _Outcome:
    ok: bool
    value: Any = None
    error: BaseException | None = field(default=None)


class Database:
    """Funnels all writes through one connection so SQLite never sees two writers."""

    def __init__(
        self, path: str, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]
    ) -> None:
        self._path = path
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._all_readers = readers
        self._idle_readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self._idle_readers.put_nowait(reader)
        self._closed = False
        self._pending: list[_Work] = []
        self._lingering: list[_Work] = []  # write_soon work waiting for company
        self._linger_timer: asyncio.TimerHandle | None = None
        self._committer: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, readers: int = READER_CONNECTIONS
    ) -> Database:
        """Open the file, switch it to WAL, migrate it, then open the readers."""
        if readers < 1:
            raise ValueError("at least one reader connection is needed")
        location = os.fspath(path)
        writer = await _connect(location)
        opened: list[aiosqlite.Connection] = []
        try:
            await writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB:d}")
            mode = await _scalar(writer, "PRAGMA journal_mode = WAL")
            if str(mode).lower() != "wal":
                raise StorageError(f"{location}: journal_mode is {mode!r}, WAL is required")
            await apply_migrations(writer, load_migrations())
            for _ in range(readers):
                reader = await _connect(location)
                opened.append(reader)
                # Writes through a reader would bypass the single writer and its lock.
                await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            for conn in [writer, *opened]:
                await conn.close()
            raise
        logger.info("database %s open, schema version %d", location, latest_version())
        return cls(location, writer, opened)

    @property
    def path(self) -> str:
        """Where the file is, for logs and for the integrity tooling."""
        return self._path

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One writer at a time, in BEGIN IMMEDIATE so the lock is taken up front, not mid-way."""
        # Not re-entrant: a write() inside a write() on the same task would wait forever.
        self._check_open()
        async with self._write_lock:
            conn = self._writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                # Shielded: a cancelled caller must still leave the connection outside a
                # transaction. Statements run in order on aiosqlite's thread, so this
                # ROLLBACK follows whatever the cancelled await had queued.
                await asyncio.shield(_rollback(conn))
                raise

    async def write_fn(
        self, fn: TransactionFn[T], *, orphaned: Callable[[T], None] | None = None
    ) -> T:
        """Run `fn` in a write transaction on the writer's thread: one hop, not one per statement.

        Calls made while a commit is in progress share the next transaction (group commit:
        one fsync for many callers). Each runs in its own SAVEPOINT, so one that raises is
        rolled back alone and gets its exception; the others commit. Every caller returns
        only once its work is committed. A caller cancelled before its batch starts does
        nothing; one cancelled later still commits, and `orphaned` is then given the result.
        """
        return await self.submit(fn, orphaned=orphaned)

    async def write_soon(self, fn: TransactionFn[T], *, within: float) -> T:
        """write_fn for work that can wait `within` seconds to share another caller's commit.

        A status report or an inbound SMS is not urgent (the modem only waits to delete its
        copy): riding along with the next claim saves an fsync per message under load.
        """
        self._check_open()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._lingering.append(_Work(fn, future))
        if self._linger_timer is None:
            self._linger_timer = asyncio.get_running_loop().call_later(within, self._stop_lingering)
        return await future

    def submit(
        self, fn: TransactionFn[T], *, orphaned: Callable[[T], None] | None = None
    ) -> asyncio.Future[T]:
        """write_fn without the await: queued now, in call order, for the next group commit."""
        self._check_open()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Work(fn, future, orphaned))
        self._start_committer()
        return future

    def _stop_lingering(self) -> None:
        self._linger_timer = None
        if self._lingering:
            self._start_committer()

    def _start_committer(self) -> None:
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_pending(), name="db group commit")

    async def read_fn(self, fn: TransactionFn[T]) -> T:
        """Run `fn` on a reader's thread inside one read transaction (one snapshot, one hop)."""
        self._check_open()
        conn = await self._idle_readers.get()
        try:
            return await _run_on_thread(conn, functools.partial(_read_transaction, _raw(conn), fn))
        finally:
            self._idle_readers.put_nowait(conn)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A reader inside one read transaction, so several queries see one snapshot."""
        self._check_open()
        conn = await self._idle_readers.get()
        try:
            await conn.execute("BEGIN")
            yield conn
        finally:
            # Read-only, so ROLLBACK just ends the snapshot; shielded as in write().
            try:
                await asyncio.shield(_rollback(conn))
            finally:
                self._idle_readers.put_nowait(conn)

    async def integrity_check(self) -> list[str]:
        """`["ok"]` when SQLite finds the file sound; the problems it lists otherwise."""
        async with self.read() as conn:
            rows = await conn.execute_fetchall("PRAGMA integrity_check")
        return [str(row[0]) for row in rows]

    async def schema_version(self) -> int:
        """The migration number recorded in the file's user_version."""
        async with self.read() as conn:
            return int(await _scalar(conn, "PRAGMA user_version"))

    async def close(self) -> None:
        """Wait for the writer to finish its transactions, then close every connection."""
        if self._closed:
            return
        # Work queued before close (and what its orphan handlers queue) is committed first.
        if self._lingering:
            self._start_committer()
        while self._committer is not None:
            await asyncio.shield(self._committer)
        self._closed = True
        async with self._write_lock:
            await self._writer.close()
        for conn in self._all_readers:
            await conn.close()

    async def _commit_pending(self) -> None:
        """Commit whatever write_fn calls are pending, batch after batch, until none are left."""
        try:
            while self._pending or self._lingering:
                async with self._write_lock:
                    batch = [
                        work
                        for work in self._pending + self._lingering
                        if not work.future.cancelled()
                    ]
                    self._pending.clear()
                    self._lingering.clear()
                    if self._linger_timer is not None:
                        self._linger_timer.cancel()
                        self._linger_timer = None
                    if not batch:
                        continue
                    fns = [work.fn for work in batch]
                    try:
                        outcomes = await _run_on_thread(
                            self._writer, functools.partial(_write_batch, _raw(self._writer), fns)
                        )
                    except BaseException:
                        # Cancelled (loop shutting down) or the thread is gone: the callers
                        # cannot know whether their work committed, so neither do we.
                        for work in batch:
                            work.future.cancel()
                        raise
                for work, outcome in zip(batch, outcomes, strict=True):
                    _settle(work, outcome)
        finally:
            self._committer = None

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"database {self._path} is closed")


def load_migrations() -> list[Migration]:
    """The SQL files shipped as package data, checked to be numbered 1, 2, 3… without gaps."""
    folder = resources.files(_MIGRATIONS_PACKAGE).joinpath(_MIGRATIONS_DIR)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {migration.name}: expected number {expected:03d}")
    return found


def latest_version() -> int:
    """The schema version this code expects."""
    return len(load_migrations())


async def apply_migrations(conn: aiosqlite.Connection, migrations: list[Migration]) -> int:
    """Apply the missing migrations, each in its own transaction with its user_version."""
    applied = 0
    for migration in migrations:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated meanwhile.
            current = int(await _scalar(conn, "PRAGMA user_version"))
            if current >= migration.version:
                await conn.execute("ROLLBACK")
                continue
            for statement in split_statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version:d}")
            await conn.execute("COMMIT")
        except BaseException as exc:
            await asyncio.shield(_rollback(conn))
            if isinstance(exc, sqlite3.Error):
                raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            raise
        applied += 1
        logger.info("applied migration %s", migration.name)
    current = int(await _scalar(conn, "PRAGMA user_version"))
    if current > len(migrations):
        raise MigrationError(
            f"database schema version {current} is newer than this code ({len(migrations)})"
        )
    return applied


def split_statements(script: str) -> list[str]:
    """Python's sqlite3 runs one statement per call, and executescript would COMMIT for us."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    leftover = "\n".join(
        line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")
    )
    if leftover:
        raise MigrationError(f"unterminated SQL statement: {leftover[:80]!r}")
    return statements


def _settle(work: _Work, outcome: _Outcome) -> None:
    if work.future.cancelled():
        if outcome.ok and work.orphaned is not None:
            try:
                work.orphaned(outcome.value)
            except Exception:
                logger.exception("orphan handler %r failed", work.orphaned)
    elif outcome.ok:
        work.future.set_result(outcome.value)
    else:
        assert outcome.error is not None
        work.future.set_exception(outcome.error)


def _write_batch(conn: sqlite3.Connection, fns: list[TransactionFn[Any]]) -> list[_Outcome]:
    """On the writer's thread: BEGIN IMMEDIATE, each fn in a savepoint, one COMMIT."""
    outcomes: list[_Outcome] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for fn in fns:
            conn.execute("SAVEPOINT work")
            try:
                value = fn(conn)
            except Exception as exc:
                conn.execute("ROLLBACK TO work")
                conn.execute("RELEASE work")
                outcomes.append(_Outcome(False, error=exc))
            else:
                conn.execute("RELEASE work")
                outcomes.append(_Outcome(True, value))
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # Nothing was committed: every caller learns why, including those whose fn ran.
        return [_Outcome(False, error=exc)] * len(fns)
    return outcomes


def _read_transaction(conn: sqlite3.Connection, fn: TransactionFn[T]) -> T:
    conn.execute("BEGIN")
    try:
        return fn(conn)
    finally:
        conn.execute("ROLLBACK")


async def _run_on_thread(conn: aiosqlite.Connection, fn: Callable[[], T]) -> T:
    """Run `fn` on the connection's own thread, queued behind its earlier calls."""
    # aiosqlite has no public API for this; _execute is the one its own methods use
    # (checked against 0.22; tests/storage/test_database.py covers it).
    execute = cast(Callable[[Callable[[], T]], Awaitable[T]], conn._execute)
    return await execute(fn)


def _raw(conn: aiosqlite.Connection) -> sqlite3.Connection:
    """The sqlite3 connection behind an aiosqlite one; only its own thread may call it."""
    return conn._conn


async def _connect(location: str) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of Python's implicit ones.
    conn = await aiosqlite.connect(location, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        for name, value in CONNECTION_PRAGMAS:
            await conn.execute(f"PRAGMA {name} = {value}")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _scalar(conn: aiosqlite.Connection, sql: str) -> int | str:
    async with conn.execute(sql) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise StorageError(f"no row from {sql!r}")
    value: int | str = row[0]
    return value


async def _rollback(conn: aiosqlite.Connection) -> None:
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        # The transaction never began (BEGIN failed) or COMMIT already ended it.
        if "no transaction is active" not in str(exc):
            raise
