"""Zones and streets as staff see them, readable target labels, and the streets CSV import."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass

from gateway.campaigns.targeting import Target, TargetKind
from gateway.storage.database import Database

_NAME_MAX = 120
# A town has hundreds of streets; a file far larger is a mistake, not a street list.
MAX_IMPORT_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """A zone with how many streets and residents it has."""

    id: int
    name: str
    streets: int
    residents: int


@dataclass(frozen=True, slots=True)
class StreetInfo:
    """A street with its zone, for the compose page's choices."""

    id: int
    city: str
    name: str
    zone_id: int | None
    zone: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a CSV import did, and the rows it refused (line number, reason)."""

    added: int
    moved: int
    unchanged: int
    rejected: tuple[tuple[int, str], ...]


class ReferenceData:
    """Reads zones and streets; imports the street list."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def zones(self) -> list[ZoneInfo]:
        """Every zone by name, with counts."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT z.id, z.name,"
                " (SELECT count(*) FROM street s WHERE s.zone_id = z.id),"
                " (SELECT count(*) FROM resident r JOIN street s ON s.id = r.street_id"
                "  WHERE s.zone_id = z.id)"
                " FROM zone z ORDER BY z.name"
            ).fetchall()
        )
        return [ZoneInfo(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def streets(self) -> list[StreetInfo]:
        """Every street by city and name."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT s.id, s.city, s.name, s.zone_id, z.name FROM street s"
                " LEFT JOIN zone z ON z.id = s.zone_id ORDER BY s.city, s.name"
            ).fetchall()
        )
        return [
            StreetInfo(
                int(r[0]),
                str(r[1]),
                str(r[2]),
                None if r[3] is None else int(r[3]),
                None if r[4] is None else str(r[4]),
            )
            for r in rows
        ]

    async def describe(self, target: Target) -> str:
        """'everyone', 'zones: Nord, Est', 'RUE X 100-200'… (names, not ids), for pages."""
        if target.kind is TargetKind.EVERYONE:
            return "*"
        if target.kind is TargetKind.ZONES:
            zones = {z.id: z.name for z in await self.zones()}
            return ", ".join(zones.get(i, f"#{i}") for i in target.zone_ids)
        streets = {s.id: s.name for s in await self.streets()}
        if target.kind is TargetKind.STREETS:
            return ", ".join(streets.get(i, f"#{i}") for i in target.street_ids)
        name = streets.get(target.street_id or 0, f"#{target.street_id}")
        side = {"odd": " (impairs / odd)", "even": " (pairs / even)"}.get(target.parity.value, "")
        return f"{name} {target.civic_from}–{target.civic_to}{side}"

    async def import_streets(self, text: str, city: str) -> ImportResult:
        """Add streets and move existing ones to the zone the file gives (columns name, zone)."""
        rows, rejected = parse_streets_csv(text)
        if not rows:
            return ImportResult(0, 0, 0, tuple(rejected))

        def load(conn: sqlite3.Connection) -> tuple[int, int, int]:
            added = moved = unchanged = 0
            for name, zone in rows:
                zone_id = None
                if zone:
                    conn.execute("INSERT OR IGNORE INTO zone (name) VALUES (?)", (zone,))
                    zone_id = int(
                        conn.execute("SELECT id FROM zone WHERE name = ?", (zone,)).fetchone()[0]
                    )
                found = conn.execute(
                    "SELECT id, zone_id FROM street WHERE city = ? AND name = ?", (city, name)
                ).fetchone()
                if found is None:
                    conn.execute(
                        "INSERT INTO street (city, name, zone_id) VALUES (?, ?, ?)",
                        (city, name, zone_id),
                    )
                    added += 1
                elif found[1] != zone_id:
                    conn.execute("UPDATE street SET zone_id = ? WHERE id = ?", (zone_id, found[0]))
                    moved += 1
                else:
                    unchanged += 1
            return added, moved, unchanged

        added, moved, unchanged = await self._db.write_fn(load)
        return ImportResult(added, moved, unchanged, tuple(rejected))


def parse_streets_csv(text: str) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(name, zone) pairs and (line, reason) rejections; a header row name,zone is required."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[tuple[str, str]] = []
    rejected: list[tuple[int, str]] = []
    header = next(reader, None)
    columns = [cell.strip().lower() for cell in header or []]
    if "name" not in columns or "zone" not in columns:
        return [], [(1, "header")]
    name_at, zone_at = columns.index("name"), columns.index("zone")
    seen: set[str] = set()
    for line, cells in enumerate(reader, start=2):
        if len(rows) + len(rejected) >= MAX_IMPORT_ROWS:
            rejected.append((line, "too_many"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) <= max(name_at, zone_at):
            rejected.append((line, "columns"))
            continue
        name, zone = " ".join(cells[name_at].split()), " ".join(cells[zone_at].split())
        if not name or len(name) > _NAME_MAX or len(zone) > _NAME_MAX:
            rejected.append((line, "name"))
            continue
        if name.upper() in seen:
            rejected.append((line, "duplicate"))
            continue
        seen.add(name.upper())
        rows.append((name, zone))
    return rows, rejected
