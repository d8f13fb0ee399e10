"""Residents CSV imports: checked rows committed in batches, progress and report in SQLite.

The web page starts one as a background task in the gateway's loop and follows the
resident_import row; `tocsin residents import` runs the same code in the foreground with a
progress callback. Each batch (rows, issues and counters) is one transaction, so a crash leaves
a consistent, resumable state: importing the file again reports the rows already taken as
duplicates instead of adding them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.residents import csv_rows
from gateway.residents.csv_rows import ImportRow, RowIssue, StreetIndex
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms, to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
# Rows per transaction: big enough that fsyncs do not dominate, small enough that the writer
# (which the dispatcher shares) is never held for long, and progress moves visibly.
BATCH_ROWS = 500
# Not an argon2 hash: the resident cannot sign in until "Mot de passe oublié?" sets one.
IMPORTED_PASSWORD = "!imported"
_ISSUES_SHOWN = 1000


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """One import as the progress page and the CLI report it."""

    id: int
    filename: str
    admin: str
    state: str  # running, done, failed, interrupted
    encoding: str
    delimiter: str
    total_rows: int
    processed: int
    accepted: int
    duplicates: int
    rejected: int
    error: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        """Rows read so far, in percent of the file (100 once finished)."""
        if self.state != "running":
            return 100
        return min(100, self.processed * 100 // self.total_rows) if self.total_rows else 0


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A rejected or duplicate row in the report."""

    line: int
    kind: str  # rejected or duplicate
    reason: str
    detail: str


Progress = Callable[[ImportStatus], None]


class ResidentImports:
    """Start, run and read imports; one per app (it owns the background tasks)."""

    def __init__(
        self,
        db: Database,
        settings: ResidentSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._tasks: dict[int, asyncio.Task[ImportStatus]] = {}

    async def start(self, data: bytes, filename: str, admin: str) -> int:
        """Record the import and run it in the background; returns its id at once."""
        import_id = await self._create(filename, admin)
        task = asyncio.create_task(self.run(import_id, data), name=f"resident import {import_id}")
        self._tasks[import_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(import_id, None))
        return import_id

    async def run_now(
        self, data: bytes, filename: str, admin: str, progress: Progress | None = None
    ) -> ImportStatus:
        """The same import in the foreground (the CLI), with a callback after each batch."""
        return await self.run(await self._create(filename, admin), data, progress)

    async def run(
        self, import_id: int, data: bytes, progress: Progress | None = None
    ) -> ImportStatus:
        """Decode, check and commit every row; never raises for bad content (it is reported)."""
        try:
            decoded = csv_rows.decode(data)
            streets = await self._street_index()
            layout, rows = csv_rows.parse(
                decoded.text,
                streets,
                regions=self._settings.regions,
                default_language=self._settings.default_language,
            )
            total = csv_rows.count_rows(decoded.text, layout)
            await self._db.write_fn(
                lambda conn: conn.execute(
                    "UPDATE resident_import SET encoding = ?, delimiter = ?, total_rows = ?"
                    " WHERE id = ?",
                    (decoded.encoding, layout.delimiter, total, import_id),
                )
            )
            seen: dict[str, int] = {}
            while True:
                # Checking numbers costs ~0.1 ms a row: off the loop the dispatcher shares.
                batch = await asyncio.to_thread(list, itertools.islice(rows, BATCH_ROWS))
                if not batch:
                    break
                await self._commit(import_id, batch, seen, progress)
            await self._finish(import_id, "done", "")
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(import_id, "interrupted", "stopped"))
            raise
        except Exception as exc:  # a bug or a storage failure: say so, keep what was committed
            _LOGGER.exception("resident import %d failed", import_id)
            await self._finish(import_id, "failed", f"{type(exc).__name__}: {exc}"[:300])
        status = await self.get(import_id)
        assert status is not None
        _LOGGER.info(
            "resident import %d: %d accepted, %d duplicates, %d rejected",
            import_id,
            status.accepted,
            status.duplicates,
            status.rejected,
        )
        if progress is not None:
            progress(status)
        return status

    async def get(self, import_id: int) -> ImportStatus | None:
        """One import's counters, or None."""
        row = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM resident_import WHERE id = ?", (import_id,)
            ).fetchone()
        )
        return None if row is None else _status(row)

    async def recent(self, limit: int = 10) -> list[ImportStatus]:
        """The latest imports, newest first."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM resident_import ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        )
        return [_status(row) for row in rows]

    async def issues(self, import_id: int, limit: int = _ISSUES_SHOWN) -> list[ImportIssue]:
        """Rejected and duplicate rows by line number."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT line, kind, reason, detail FROM resident_import_issue"
                " WHERE import_id = ? ORDER BY line LIMIT ?",
                (import_id, limit),
            ).fetchall()
        )
        return [ImportIssue(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    async def mark_interrupted(self) -> int:
        """At start-up: imports a stop cut short are no longer running; say so."""
        return await self._db.write_fn(
            lambda conn: (
                conn.execute(
                    "UPDATE resident_import SET state = 'interrupted', error = 'restart',"
                    " finished_at = ? WHERE state = 'running'",
                    (to_ms(self._clock()),),
                ).rowcount
            )
        )

    async def close(self) -> None:
        """Stop the running imports (at shutdown); committed batches stay."""
        running = list(self._tasks.items())
        for _import_id, task in running:
            task.cancel()
        for import_id, task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # A task cancelled before its first step never reached its own handler.
            await self._finish(import_id, "interrupted", "stopped")

    async def wait(self, import_id: int) -> None:
        """Until a background import ends (tests, and a page that wants the final report)."""
        task = self._tasks.get(import_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    async def _create(self, filename: str, admin: str) -> int:
        now = to_ms(self._clock())

        def insert(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO resident_import (filename, admin, started_at) VALUES (?, ?, ?)",
                (filename[:200], admin, now),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return await self._db.write_fn(insert)

    async def _street_index(self) -> StreetIndex:
        rows = await self._db.read_fn(
            lambda conn: conn.execute("SELECT id, city, name FROM street").fetchall()
        )
        index = StreetIndex(self._settings.city)
        for row in rows:
            index.add(int(row[0]), str(row[1]), str(row[2]))
        return index

    async def _commit(
        self,
        import_id: int,
        batch: list[ImportRow | RowIssue],
        seen: dict[str, int],
        progress: Progress | None,
    ) -> None:
        now = to_ms(self._clock())

        def write(conn: sqlite3.Connection) -> None:
            accepted = duplicates = rejected = 0
            issues: list[tuple[int, str, str, str]] = []
            for row in batch:
                if isinstance(row, RowIssue):
                    rejected += 1
                    issues.append((row.line, "rejected", row.reason, row.detail))
                    continue
                login = row.phones[0].number
                if login in seen:
                    duplicates += 1
                    issues.append((row.line, "duplicate", "in_file", str(seen[login])))
                    continue
                if not _insert(conn, row, now):
                    duplicates += 1
                    issues.append((row.line, "duplicate", "registered", login))
                    continue
                seen[login] = row.line
                accepted += 1
            conn.executemany(
                "INSERT OR REPLACE INTO resident_import_issue (import_id, line, kind, reason,"
                " detail) VALUES (?, ?, ?, ?, ?)",
                [(import_id, *issue) for issue in issues],
            )
            conn.execute(
                "UPDATE resident_import SET processed = processed + ?, accepted = accepted + ?,"
                " duplicates = duplicates + ?, rejected = rejected + ? WHERE id = ?",
                (len(batch), accepted, duplicates, rejected, import_id),
            )

        await self._db.write_fn(write)
        if progress is not None:
            status = await self.get(import_id)
            if status is not None:
                progress(status)

    async def _finish(self, import_id: int, state: str, error: str) -> None:
        await self._db.write_fn(
            lambda conn: conn.execute(
                "UPDATE resident_import SET state = ?, error = ?, finished_at = ?"
                " WHERE id = ? AND state = 'running'",
                (state, error, to_ms(self._clock()), import_id),
            )
        )


def _insert(conn: sqlite3.Connection, row: ImportRow, now: int) -> bool:
    """The resident and their contacts; False when the login number is already registered."""
    p = row.profile
    cursor = conn.execute(
        "INSERT OR IGNORE INTO resident (phone, password_hash, last_name, first_name, language,"
        " city, civic_number, street_id, apartment, postal_code, email, consent_sms_alerts,"
        " consent_voice_alerts, consent_neighbour_alerts, active, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.phones[0].number,
            IMPORTED_PASSWORD,
            p.last_name,
            p.first_name,
            p.language,
            p.city,
            p.civic_number,
            p.street_id,
            p.apartment,
            p.postal_code,
            p.email,
            int(p.consent_sms_alerts),
            int(p.consent_voice_alerts),
            int(p.consent_neighbour_alerts),
            int(row.active),
            now,
            now,
        ),
    )
    if cursor.rowcount == 0:
        return False
    conn.executemany(
        "INSERT OR IGNORE INTO contact (resident_id, kind, number, active, verified, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        list(_contacts(cursor.lastrowid, row, now)),
    )
    return True


def _contacts(resident_id: int | None, row: ImportRow, now: int) -> Iterable[tuple[object, ...]]:
    # Unverified numbers stay inactive (the contact table's own rule) until a code proves them.
    for phone in row.phones:
        for kind in phone.kinds:
            flag = int(phone.verified)
            yield (resident_id, kind.value, phone.number, flag, flag, now)


_COLUMNS = (
    "id, filename, admin, state, encoding, delimiter, total_rows, processed, accepted,"
    " duplicates, rejected, error, started_at, finished_at"
)


def _status(row: sqlite3.Row | tuple[object, ...]) -> ImportStatus:
    values = tuple(row)
    return ImportStatus(
        id=int(str(values[0])),
        filename=str(values[1]),
        admin=str(values[2]),
        state=str(values[3]),
        encoding=str(values[4]),
        delimiter=str(values[5]),
        total_rows=int(str(values[6])),
        processed=int(str(values[7])),
        accepted=int(str(values[8])),
        duplicates=int(str(values[9])),
        rejected=int(str(values[10])),
        error=str(values[11]),
        started_at=from_ms(int(str(values[12]))),
        finished_at=None if values[13] is None else opt_from_ms(int(str(values[13]))),
    )
