"""Zones and streets as staff see and edit them, readable target labels, the streets CSV import.

The street list here is the one residents pick from on their profile page (residents.streets
reads the same table), so an edit shows there at once.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Sequence
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


class ReferenceEditError(ValueError):
    """An edit the page must refuse; `code` names why, `count` the residents in the way."""

    def __init__(self, code: str, count: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.count = count


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

    async def residents_on(self, street_id: int) -> int:
        """How many residents live on a street (0 when the street does not exist)."""
        row = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT count(*) FROM resident WHERE street_id = ?", (street_id,)
            ).fetchone()
        )
        return int(row[0])

    # ---- edits (admins only; the web layer checks the role and writes the audit line)

    async def create_zone(self, name: str) -> int:
        """A new zone; ReferenceEditError name|zone_taken."""
        clean = clean_name(name)

        def insert(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute("INSERT INTO zone (name) VALUES (?)", (clean,))
            except sqlite3.IntegrityError:
                raise ReferenceEditError("zone_taken") from None
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return await self._db.write_fn(insert)

    async def rename_zone(self, zone_id: int, name: str) -> None:
        """ReferenceEditError name|zone_taken|not_found."""
        clean = clean_name(name)
        await self._update("UPDATE zone SET name = ? WHERE id = ?", (clean, zone_id), "zone_taken")

    async def remove_zone(self, zone_id: int) -> None:
        """Only an empty zone goes: its streets would silently fall out of zone alerts."""

        def delete(conn: sqlite3.Connection) -> None:
            streets = conn.execute(
                "SELECT count(*) FROM street WHERE zone_id = ?", (zone_id,)
            ).fetchone()[0]
            if streets:
                raise ReferenceEditError("zone_in_use", int(streets))
            if conn.execute("DELETE FROM zone WHERE id = ?", (zone_id,)).rowcount == 0:
                raise ReferenceEditError("not_found")

        await self._db.write_fn(delete)

    async def move_streets(self, street_ids: Sequence[int], zone_id: int | None) -> int:
        """Put streets in a zone (None: in none); returns how many changed."""
        if not street_ids:
            raise ReferenceEditError("no_streets")

        def move(conn: sqlite3.Connection) -> int:
            if (
                zone_id is not None
                and not conn.execute("SELECT 1 FROM zone WHERE id = ?", (zone_id,)).fetchone()
            ):
                raise ReferenceEditError("not_found")
            marks = ", ".join("?" * len(street_ids))
            cursor = conn.execute(
                f"UPDATE street SET zone_id = ? WHERE id IN ({marks}) AND zone_id IS NOT ?",
                (zone_id, *street_ids, zone_id),
            )
            return cursor.rowcount

        return await self._db.write_fn(move)

    async def add_street(self, name: str, city: str, zone_id: int | None) -> int:
        """A new street; ReferenceEditError name|street_taken|not_found."""
        clean = clean_name(name)

        def insert(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute(
                    "INSERT INTO street (city, name, zone_id) VALUES (?, ?, ?)",
                    (city, clean, zone_id),
                )
            except sqlite3.IntegrityError as exc:
                code = "street_taken" if "UNIQUE" in str(exc) else "not_found"
                raise ReferenceEditError(code) from None
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return await self._db.write_fn(insert)

    async def rename_street(self, street_id: int, name: str) -> None:
        """ReferenceEditError name|street_taken|not_found; residents keep their street."""
        clean = clean_name(name)
        await self._update(
            "UPDATE street SET name = ? WHERE id = ?", (clean, street_id), "street_taken"
        )

    async def remove_street(self, street_id: int) -> str:
        """Delete a street nobody lives on; its name, for the audit log.

        Refused (street_in_use, with the count) while residents live on it: they would lose
        their address and, with it, every zone or street alert."""

        def delete(conn: sqlite3.Connection) -> str:
            row = conn.execute("SELECT name FROM street WHERE id = ?", (street_id,)).fetchone()
            if row is None:
                raise ReferenceEditError("not_found")
            living = conn.execute(
                "SELECT count(*) FROM resident WHERE street_id = ?", (street_id,)
            ).fetchone()[0]
            if living:
                raise ReferenceEditError("street_in_use", int(living))
            conn.execute("DELETE FROM street WHERE id = ?", (street_id,))
            return str(row[0])

        return await self._db.write_fn(delete)

    async def _update(self, sql: str, params: tuple[object, ...], taken: str) -> None:
        def update(conn: sqlite3.Connection) -> None:
            try:
                changed = conn.execute(sql, params).rowcount
            except sqlite3.IntegrityError:
                raise ReferenceEditError(taken) from None
            if changed == 0:
                raise ReferenceEditError("not_found")

        await self._db.write_fn(update)

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
        added, moved, unchanged = await self.import_rows(rows, city)
        return ImportResult(added, moved, unchanged, tuple(rejected))

    async def import_rows(self, rows: list[tuple[str, str]], city: str) -> tuple[int, int, int]:
        """(added, moved, unchanged) for parsed (name, zone) rows, in one transaction."""

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

        return await self._db.write_fn(load)


def clean_name(raw: str) -> str:
    """Spaces collapsed; ReferenceEditError('name') when empty or too long."""
    name = " ".join(raw.split())
    if not name or len(name) > _NAME_MAX:
        raise ReferenceEditError("name")
    return name


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
