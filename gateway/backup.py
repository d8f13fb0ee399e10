"""Online backups of the SQLite file, their retention, restore, and the service's lock file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gateway.config import Config, ConfigError
from gateway.storage.database import latest_version

_LOGGER = logging.getLogger(__name__)

# UTC, so names sort in time order across DST changes and two boxes agree on what they mean.
BACKUP_NAME_FORMAT: Final = "tocsin-%Y%m%d-%H%M%S.sqlite"
_BACKUP_NAME: Final = re.compile(r"^tocsin-\d{8}-\d{6}\.sqlite$")
# The whole copy in one backup step: in WAL mode the step's read transaction never blocks the
# writer, whereas smaller steps restart from page 1 after every commit by another connection,
# so a busy gateway could keep a stepped backup from ever finishing.
PAGES_PER_STEP: Final = -1
# Where a restore puts the database it replaces; "-wal" appended still pairs it with its WAL.
BEFORE_RESTORE_SUFFIX: Final = ".before-restore"
# The sidecar files SQLite keeps beside a WAL database.
_SIDECARS: Final = ("-wal", "-shm")
# Default folder name beside the database when backup.dir is empty.
DEFAULT_BACKUP_DIR: Final = "backups"
# Large enough that a copy is a few hundred syscalls, small enough to stay out of memory.
_COPY_CHUNK: Final = 1 << 20
# Stages a backup reports to a progress display: copied, checked, made durable, pruned.
BACKUP_STAGES: Final = 4

# (done, total), called as a backup or restore advances (from a worker thread); for the CLI.
ProgressFn = Callable[[int, int], None]


def _no_progress(_done: int, _total: int) -> None:
    """The default: nobody is watching."""


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why, for the CLI and the log."""


class GatewayRunningError(BackupError):
    """Another process holds the database's service lock."""


def lock_path(db_path: Path) -> Path:
    """The file a running gateway holds an exclusive flock on, beside the database."""
    return db_path.with_name(db_path.name + ".lock")


@dataclass
class ServiceLock:
    """An exclusive flock, released by the kernel if the process dies, so never stale."""

    path: Path
    fd: int

    @classmethod
    def acquire(cls, db_path: Path) -> ServiceLock:
        """Take the lock without waiting; GatewayRunningError when someone else has it."""
        path = lock_path(db_path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise GatewayRunningError(
                f"{db_path}: a gateway is running on this database (it holds {path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    def release(self) -> None:
        """Unlock by closing; the file stays, since deleting it would race a new locker."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def backup_dir(config: Config) -> Path:
    """backup.dir, or a `backups` folder beside the database when it is empty."""
    configured = config.get_str("backup.dir")
    if configured:
        return Path(configured)
    return Path(config.get_str("storage.path")).parent / DEFAULT_BACKUP_DIR


async def backup(
    db_path: Path,
    dest_dir: Path,
    *,
    keep: int,
    now: datetime | None = None,
    progress: ProgressFn = _no_progress,
) -> Path:
    """Copy the live database to dest_dir, checked and durable, then prune to `keep` copies."""
    if keep < 1:
        raise ValueError("keep must be at least 1, or the new backup would be deleted")
    when = now or datetime.now(UTC)
    final = dest_dir / when.astimezone(UTC).strftime(BACKUP_NAME_FORMAT)
    progress(0, BACKUP_STAGES)
    path = await asyncio.to_thread(_backup_sync, Path(db_path), Path(dest_dir), final, progress)
    await asyncio.to_thread(prune, Path(dest_dir), keep=keep)
    progress(BACKUP_STAGES, BACKUP_STAGES)
    _LOGGER.info("backup written to %s", path)
    return path


def _backup_sync(
    db_path: Path, dest_dir: Path, final: Path, progress: ProgressFn = _no_progress
) -> Path:
    if not db_path.is_file():
        raise BackupError(f"{db_path}: no such database")
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tocsin-", suffix=".sqlite.tmp", dir=dest_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mode=rw: never create an empty database when the path is wrong.
        source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=rw", uri=True)
        try:
            target = sqlite3.connect(tmp)
            try:
                source.backup(target, pages=PAGES_PER_STEP)
                progress(1, BACKUP_STAGES)
                # A standalone file: no -wal beside it to lose when the copy is moved.
                target.execute("PRAGMA journal_mode = DELETE")
                problems = _integrity(target)
                progress(2, BACKUP_STAGES)
            finally:
                target.close()
        finally:
            source.close()
        if problems != ["ok"]:
            raise BackupError(f"backup of {db_path} failed its integrity check: {problems[:5]}")
        _fsync_file(tmp)
        os.replace(tmp, final)
        _fsync_dir(dest_dir)
        progress(3, BACKUP_STAGES)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {db_path} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return final


def prune(dest_dir: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (by name, which sorts by time); the deleted."""
    found = sorted(p for p in dest_dir.iterdir() if _BACKUP_NAME.fullmatch(p.name))
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink(missing_ok=True)
        _LOGGER.info("old backup %s deleted", path)
    return doomed


async def restore(backup_file: Path, db_path: Path, *, progress: ProgressFn = _no_progress) -> None:
    """Put a checked backup in place of the database, keeping the old one beside it."""
    await asyncio.to_thread(_restore_sync, Path(backup_file), Path(db_path), progress)


def _restore_sync(backup_file: Path, db_path: Path, progress: ProgressFn = _no_progress) -> None:
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup")
    _check_backup(backup_file)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    # Held throughout, so a gateway cannot start on a half-restored database.
    lock = ServiceLock.acquire(db_path)
    try:
        aside = db_path.with_name(db_path.name + BEFORE_RESTORE_SUFFIX)
        if db_path.exists():
            os.replace(db_path, aside)
            wal = db_path.with_name(db_path.name + "-wal")
            if wal.exists():
                # Committed rows may live only in the WAL: keep it paired with the moved file.
                os.replace(wal, aside.with_name(aside.name + "-wal"))
            _LOGGER.warning("previous database moved to %s", aside)
        for suffix in _SIDECARS:
            # A -wal or -shm of another database would be replayed into the restored one.
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".restoring-", dir=db_path.parent)
        tmp = Path(tmp_name)
        try:
            total = backup_file.stat().st_size
            copied = 0
            progress(0, total)
            with os.fdopen(fd, "wb") as out, backup_file.open("rb") as src:
                while chunk := src.read(_COPY_CHUNK):
                    out.write(chunk)
                    copied += len(chunk)
                    progress(copied, total)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, db_path)
            _fsync_dir(db_path.parent)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        lock.release()
    _LOGGER.warning("database %s restored from %s", db_path, backup_file)


def _check_backup(backup_file: Path) -> None:
    """Refuse a file that is not a sound SQLite database of a schema this code understands."""
    try:
        conn = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = _integrity(conn)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{backup_file}: not a usable SQLite database: {exc}") from exc
    if problems != ["ok"]:
        raise BackupError(f"{backup_file}: failed its integrity check: {problems[:5]}")
    if version > latest_version():
        raise BackupError(
            f"{backup_file}: schema version {version} is newer than this code's "
            f"({latest_version()}); upgrade Tocsin first"
        )
    if version < 1:
        raise BackupError(f"{backup_file}: not a Tocsin database (schema version 0)")


def _integrity(conn: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in conn.execute("PRAGMA integrity_check").fetchall()]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: the new directory entry survives a power cut."""
    _fsync_file(path)


async def run_scheduled(db_path: Path, dest_dir: Path, *, interval_s: float, keep: int) -> None:
    """Back up every interval_s until cancelled; a failed backup is logged, the next one tried."""
    while True:
        await asyncio.sleep(interval_s)
        job = asyncio.ensure_future(backup(db_path, dest_dir, keep=keep))
        try:
            # Shielded: the copy runs on a thread that a cancel cannot stop, so on shutdown
            # wait for it rather than close the gateway (and its lock) under it.
            await asyncio.shield(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await job
            raise
        except (BackupError, OSError) as exc:
            _LOGGER.error("scheduled backup failed: %s", exc)


def start_scheduled(config: Config) -> asyncio.Task[None] | None:
    """The gateway's backup task per the config, or None when backup.interval_s is 0."""
    interval = config.get_float("backup.interval_s")
    if interval <= 0:
        return None
    keep = config.get_int("backup.keep")
    if keep < 1:
        raise ConfigError("backup.keep: must be at least 1 when backups are on")
    return asyncio.create_task(
        run_scheduled(
            Path(config.get_str("storage.path")),
            backup_dir(config),
            interval_s=interval,
            keep=keep,
        ),
        name="scheduled backups",
    )


async def stop_scheduled(task: asyncio.Task[None] | None) -> None:
    """Cancel the backup task and wait, so no copy is half-written when the database closes."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
