"""`tocsin residents import FILE.csv` and `tocsin residents export FILE.csv`.

A rich progress bar when standard output is a terminal; plain lines otherwise (cron, logs).
Both work beside a running gateway: SQLite's WAL lets the import write between its sends.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gateway.campaigns.admins import AuditLog
from gateway.config import DEFAULT_CONFIG_PATH, ConfigError
from gateway.config import load as load_config
from gateway.residents import csv_export
from gateway.residents.imports import ImportStatus, ResidentImports
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database

_MAX_FILE = 64 * 1024 * 1024


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `residents import` and `residents export` to the tocsin parser."""
    residents = commands.add_parser("residents", help="import or export residents (CSV)")
    actions = residents.add_subparsers(title="residents commands", metavar="ACTION")
    load = actions.add_parser("import", help="add residents from a CSV file (see README)")
    load.add_argument("file", type=Path)
    dump = actions.add_parser("export", help="write every resident to a CSV file")
    dump.add_argument("file", type=Path)
    dump.add_argument("--semicolon", action="store_true", help="separate columns with ;")
    for action in (load, dump):
        action.add_argument(
            "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
        )
        action.add_argument(
            "--database", type=Path, default=None, help="the SQLite file (overrides the config's)"
        )
    load.set_defaults(run=import_residents)
    dump.set_defaults(run=export_residents)


async def import_residents(args: argparse.Namespace) -> int:
    """Run one import in the foreground; exit 0 when it finished (rejected rows included)."""
    opened = await _open(args)
    if isinstance(opened, int):
        return opened
    db, settings = opened
    try:
        data = await asyncio.to_thread(_read, args.file)
    except OSError as exc:
        await db.close()
        return _fail(f"{args.file}: {exc.strerror or exc}")
    try:
        imports = ResidentImports(db, settings)
        status = await _with_progress(imports, data, args.file.name)
        issues = await imports.issues(status.id, limit=1_000_000)
        await AuditLog(db).record(
            "residents.import",
            username="cli",
            detail=f"{args.file.name}: {status.accepted} added, {status.duplicates} duplicates,"
            f" {status.rejected} rejected",
        )
    finally:
        await db.close()
    for issue in issues:
        print(f"line {issue.line}: {issue.kind} {issue.reason} {issue.detail}".rstrip())
    print(
        f"import {status.id} {status.state}: {status.accepted} added,"
        f" {status.duplicates} duplicates, {status.rejected} rejected"
        f" ({status.encoding}, delimiter {status.delimiter!r})"
    )
    return 0 if status.state == "done" else 1


async def export_residents(args: argparse.Namespace) -> int:
    """Every resident, in the import's format."""
    opened = await _open(args)
    if isinstance(opened, int):
        return opened
    db, _settings = opened
    tty = sys.stdout.isatty()
    written = 0
    try:
        total = await csv_export.count(db)
        with args.file.open("w", encoding="utf-8", newline="") as out:
            progress = _bar(tty)
            with progress:
                task = progress.add_task("export", total=total)
                async for chunk in csv_export.export_csv(
                    db, delimiter=";" if args.semicolon else ","
                ):
                    out.write(chunk)
                    rows = chunk.count("\r\n") if written or not chunk.startswith("\ufeff") else 0
                    written += rows
                    progress.update(task, completed=written)
                    if not tty and rows:
                        print(f"exported {written}/{total}", flush=True)
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror or exc}")
    finally:
        await db.close()
    print(f"exported {total} residents to {args.file}")
    return 0


async def _with_progress(imports: ResidentImports, data: bytes, name: str) -> ImportStatus:
    tty = sys.stdout.isatty()
    progress = _bar(tty)
    task = progress.add_task("import", total=None)

    def show(status: ImportStatus) -> None:
        progress.update(task, total=status.total_rows or None, completed=status.processed)
        if not tty:
            print(f"processed {status.processed}/{status.total_rows}", flush=True)

    with progress:
        return await imports.run_now(data, name, "cli", show)


def _bar(tty: bool) -> Progress:
    """A bar on a terminal; disabled (prints nothing) otherwise."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stdout),
        disable=not tty,
        transient=False,
    )


async def _open(args: argparse.Namespace) -> tuple[Database, ResidentSettings] | int:
    """The database and the residents' settings (regions, city, language) of the configuration."""
    values: dict[str, object] = {}
    if args.database is not None:
        path = str(args.database)
    else:
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            return _fail(f"bad configuration: {exc} (or pass --database)")
        path = config.get_str("storage.path")
        values = dict(config.values)
    return await Database.open(path), ResidentSettings.from_config(values)


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(_MAX_FILE + 1)
    if len(data) > _MAX_FILE:
        raise OSError(f"larger than {_MAX_FILE // (1024 * 1024)} MiB")
    return data


def _fail(message: str) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return 1
