"""`tocsin streets import FILE.csv`: the admin reference page's street import, from a shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from gateway.campaigns.admins import AuditLog
from gateway.campaigns.reference import ReferenceData, parse_streets_csv
from gateway.config import ConfigError
from gateway.config import load as load_config
from gateway.ops.progress import progress
from gateway.storage.database import Database

# Rows per transaction: each batch is one commit, small enough that senders barely wait.
BATCH_ROWS: Final = 200
# The admin page's words for each rejection, in English for a terminal.
REASONS: Final = {
    "header": "the first line must name the columns name and zone",
    "columns": "missing columns",
    "name": "street name empty or too long",
    "duplicate": "street listed twice in the file",
    "too_many": "too many lines",
}


async def import_streets(args: argparse.Namespace) -> int:
    """Parse the whole file first (a bad header changes nothing), then load it in batches."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"{args.file}: cannot read it as UTF-8 text: {exc}")
    rows, rejected = parse_streets_csv(text)
    for line, reason in rejected:
        print(f"{args.file}:{line}: skipped: {REASONS.get(reason, reason)}", file=sys.stderr)
    if not rows:
        return _fail(f"{args.file}: no street to import")
    city = args.city or config.get_str("residents.city")
    db = await Database.open(Path(config.get_str("storage.path")))
    added = moved = unchanged = 0
    try:
        reference = ReferenceData(db)
        with progress("streets import", stream=sys.stderr) as advance:
            advance(0, len(rows))
            for start in range(0, len(rows), BATCH_ROWS):
                batch = rows[start : start + BATCH_ROWS]
                a, m, u = await reference.import_rows(batch, city)
                added, moved, unchanged = added + a, moved + m, unchanged + u
                advance(start + len(batch), len(rows))
        await AuditLog(db).record(
            "streets.import",
            username="cli",
            detail=f"{args.file.name}: {added} added, {moved} moved, {len(rejected)} rejected",
        )
    finally:
        await db.close()
    print(
        f"{added} added, {moved} moved to another zone, {unchanged} unchanged, "
        f"{len(rejected)} rejected"
    )
    return 1 if rejected else 0


def _fail(message: str) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return 1
