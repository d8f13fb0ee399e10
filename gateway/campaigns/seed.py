"""Residents made in bulk for the demo, the browser test and the benchmark (never in production)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

# Not an argon2 hash: such a resident cannot sign in until they reset their password.
NO_PASSWORD = "!seeded"
_FIRST = ("Léa", "Noah", "Emma", "Liam", "Alice", "William", "Chloé", "Thomas", "Jade", "Félix")
_LAST = ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie")


@dataclass(frozen=True, slots=True)
class SeedResident:
    """One resident and the numbers alerts reach."""

    phone: str  # login number, also an active voice contact
    first_name: str
    last_name: str
    language: str
    street_id: int | None
    civic_number: str
    sms_numbers: tuple[str, ...] = ()
    consent_sms: bool = True
    consent_voice: bool = False


async def seed_residents(db: Database, residents: Sequence[SeedResident]) -> int:
    """Insert residents and their verified, active contacts; returns how many were new."""
    now = to_ms(utc_now())

    def insert(conn: sqlite3.Connection) -> int:
        added = 0
        for person in residents:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO resident (phone, password_hash, first_name, last_name,"
                " language, street_id, civic_number, consent_sms_alerts, consent_voice_alerts,"
                " sms_prompt_done, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    person.phone,
                    NO_PASSWORD,
                    person.first_name,
                    person.last_name,
                    person.language,
                    person.street_id,
                    person.civic_number,
                    int(person.consent_sms),
                    int(person.consent_voice),
                    now,
                    now,
                ),
            )
            if cursor.rowcount == 0:
                continue  # seeded by an earlier run (the demo keeps its database)
            added += 1
            contacts = [("voice", person.phone)] + [("sms", n) for n in person.sms_numbers]
            conn.executemany(
                "INSERT INTO contact (resident_id, kind, number, active, verified, created_at)"
                " VALUES (?, ?, ?, 1, 1, ?)",
                [(cursor.lastrowid, kind, number, now) for kind, number in contacts],
            )
        return added

    return await db.write_fn(insert)


async def streets_by_zone(db: Database) -> dict[str, list[int]]:
    """Street ids per zone name, for spreading residents over zones."""
    rows = await db.read_fn(
        lambda conn: conn.execute(
            "SELECT z.name, s.id FROM street s JOIN zone z ON z.id = s.zone_id ORDER BY s.id"
        ).fetchall()
    )
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(str(row[0]), []).append(int(row[1]))
    return found


def town(
    phones: Sequence[str], zones: dict[str, list[int]], *, zone_names: Sequence[str] = ()
) -> list[SeedResident]:
    """One resident per phone, spread over zones; a third English; every 7th shares a phone.

    Every 7th resident also lists the number of a resident of the same zone as an SMS contact
    (one household): the alert must reach that number once. Every 5th consents to voice calls,
    every 11th did not consent to SMS alerts.
    """
    names = list(zone_names) or sorted(zones)
    people = []
    for index, phone in enumerate(phones):
        zone = names[index % len(names)]
        streets = zones[zone]
        sms = [phone]
        if index % 7 == 6 and index >= len(names):
            sms.append(phones[index - len(names)])  # a neighbour in the same zone
        people.append(
            SeedResident(
                phone=phone,
                first_name=_FIRST[index % len(_FIRST)],
                last_name=_LAST[index % len(_LAST)],
                language="en" if index % 3 == 2 else "fr",
                street_id=streets[index % len(streets)],
                civic_number=str(100 + 2 * index),
                sms_numbers=tuple(sms),
                consent_sms=index % 11 != 10,
                consent_voice=index % 5 == 4,
            )
        )
    return people
