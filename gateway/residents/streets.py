"""The town's street list and zones: admins load it; the demo loads the shipped sample."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from importlib import resources

import aiosqlite

from gateway.residents.models import Street
from gateway.storage.database import Database

_SELECT = (
    "SELECT street.id, street.city, street.name, zone.name AS zone"
    " FROM street LEFT JOIN zone ON zone.id = street.zone_id"
)


class Streets:
    """Read and load the street list."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, city: str, streets: Iterable[tuple[str, str | None]]) -> int:
        """Add (name, zone) pairs for `city`; existing streets are kept; returns how many new."""
        added = 0
        async with self._db.write() as conn:
            for name, zone in streets:
                zone_id = None
                if zone:
                    await conn.execute("INSERT OR IGNORE INTO zone (name) VALUES (?)", (zone,))
                    rows = list(
                        await conn.execute_fetchall("SELECT id FROM zone WHERE name = ?", (zone,))
                    )
                    zone_id = int(rows[0][0])
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO street (city, name, zone_id) VALUES (?, ?, ?)",
                    (city, name.strip(), zone_id),
                )
                added += cursor.rowcount
        return added

    async def all(self) -> list[Street]:
        """Every street, sorted for the profile page's select."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(f"{_SELECT} ORDER BY street.city, street.name")
        return [_street(row) for row in rows]

    async def get(self, street_id: int) -> Street | None:
        """One street, or None."""
        async with self._db.read() as conn:
            rows = list(await conn.execute_fetchall(f"{_SELECT} WHERE street.id = ?", (street_id,)))
        return _street(rows[0]) if rows else None


def sample_streets() -> list[tuple[str, str | None]]:
    """The demo's street list (name, zone), shipped as package data."""
    text = (
        resources.files("gateway.residents").joinpath("data/streets-sample.csv").read_text("utf-8")
    )
    return [(row["name"], row["zone"] or None) for row in csv.DictReader(io.StringIO(text))]


async def load_sample_streets(db: Database, city: str) -> int:
    """For the demo and tests: the sample street list, filed under `city`."""
    return await Streets(db).load(city, sample_streets())


def _street(row: aiosqlite.Row) -> Street:
    zone = row["zone"]
    return Street(
        id=int(row["id"]),
        city=str(row["city"]),
        name=str(row["name"]),
        zone=None if zone is None else str(zone),
    )
