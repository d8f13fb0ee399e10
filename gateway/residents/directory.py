"""Residents as staff see them: a paged, searchable list, one resident's file, deactivation.

What a resident sees of themselves lives in service.py; this is the town's side. Paging is
server-side (LIMIT/OFFSET over an index), so a town of 50,000 costs one page of rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.residents.models import Contact, Resident
from gateway.residents.repository import Residents
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

PAGE_SIZE = 50
_CONSENTS = {
    "sms": "r.consent_sms_alerts = 1",
    "voice": "r.consent_voice_alerts = 1",
    "neighbours": "r.consent_neighbour_alerts = 1",
    "none": "r.consent_sms_alerts = 0 AND r.consent_voice_alerts = 0",
}
_QUERY_MAX = 80


@dataclass(frozen=True, slots=True)
class ResidentQuery:
    """What the list page asks: a search text and filters, all optional."""

    text: str = ""
    zone_id: int | None = None
    active: bool | None = None
    consent: str = ""  # a key of _CONSENTS, or ''
    page: int = 1


@dataclass(frozen=True, slots=True)
class ResidentLine:
    """One row of the list."""

    id: int
    last_name: str
    first_name: str
    phone: str
    civic_number: str
    street: str
    zone: str
    active: bool
    consent_sms: bool
    consent_voice: bool
    consent_neighbours: bool
    has_password: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ResidentPage:
    """A page of the list and where it sits among the others."""

    lines: tuple[ResidentLine, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class ResidentFile:
    """One resident's page: profile, address, contacts."""

    resident: Resident
    street: str
    zone: str
    contacts: tuple[Contact, ...]


class ResidentDirectory:
    """The admin console's door to residents."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._residents = Residents(db, clock=clock)
        self._clock = clock

    async def search(self, query: ResidentQuery, per_page: int = PAGE_SIZE) -> ResidentPage:
        """One page of residents matching the query, by last name then first name."""
        where, params = query_conditions(query)

        def select(conn: sqlite3.Connection) -> tuple[int, list[sqlite3.Row]]:
            total = int(
                conn.execute(f"SELECT count(*) {_FROM} WHERE {where}", params).fetchone()[0]
            )
            pages = max(1, -(-total // per_page))
            page = min(max(1, query.page), pages)
            rows = conn.execute(
                f"SELECT {_LINE_COLUMNS} {_FROM} WHERE {where}"
                " ORDER BY r.last_name COLLATE NOCASE, r.first_name COLLATE NOCASE, r.id"
                " LIMIT ? OFFSET ?",
                [*params, per_page, (page - 1) * per_page],
            ).fetchall()
            return total, rows

        total, rows = await self._db.read_fn(select)
        pages = max(1, -(-total // per_page))
        return ResidentPage(
            tuple(_line(row) for row in rows), total, min(max(1, query.page), pages), pages
        )

    async def get(self, resident_id: int) -> ResidentFile | None:
        """The resident with street, zone and contacts; None when there is no such resident."""
        resident = await self._residents.get(resident_id)
        if resident is None:
            return None
        street_id = resident.profile.street_id
        row = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT s.name, z.name FROM street s LEFT JOIN zone z ON z.id = s.zone_id"
                " WHERE s.id = ?",
                (street_id,),
            ).fetchone()
        )
        contacts = await self._residents.contacts(resident_id)
        return ResidentFile(
            resident,
            "" if row is None else str(row[0]),
            "" if row is None or row[1] is None else str(row[1]),
            tuple(contacts),
        )

    async def set_active(self, resident_id: int, active: bool) -> bool:
        """Deactivate (sessions end at once) or reactivate; False when no such resident."""
        now = to_ms(self._clock())

        def update(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                "UPDATE resident SET active = ?, updated_at = ? WHERE id = ?",
                (int(active), now, resident_id),
            ).rowcount
            if changed and not active:
                conn.execute("DELETE FROM web_session WHERE resident_id = ?", (resident_id,))
            return bool(changed)

        return await self._db.write_fn(update)


_FROM = (
    "FROM resident r LEFT JOIN street s ON s.id = r.street_id LEFT JOIN zone z ON z.id = s.zone_id"
)
_LINE_COLUMNS = (
    "r.id, r.last_name, r.first_name, r.phone, r.civic_number, s.name AS street,"
    " z.name AS zone, r.active, r.consent_sms_alerts, r.consent_voice_alerts,"
    " r.consent_neighbour_alerts, r.password_hash LIKE '$argon2%' AS has_password, r.created_at"
)


def query_conditions(query: ResidentQuery) -> tuple[str, list[object]]:
    """SQL conditions and parameters for the query's text and filters (over `resident r`
    and `street s`, so the CSV export can filter exactly as the list does)."""
    clauses: list[str] = []
    params: list[object] = []
    text = " ".join(query.text.split())[:_QUERY_MAX]
    if text:
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3 and re.fullmatch(r"[\d\s().+-]+", text):
            # A number as typed (514 555-0101): match the login number or any contact's.
            pattern = f"%{digits}%"
            clauses.append(
                "(r.phone LIKE ? OR EXISTS (SELECT 1 FROM contact c"
                " WHERE c.resident_id = r.id AND c.number LIKE ?))"
            )
            params += [pattern, pattern]
        else:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(
                "(r.last_name || ' ' || r.first_name LIKE ? ESCAPE '\\'"
                " OR r.first_name || ' ' || r.last_name LIKE ? ESCAPE '\\'"
                " OR s.name LIKE ? ESCAPE '\\' OR r.email LIKE ? ESCAPE '\\')"
            )
            params += [like, like, like, like]
    if query.zone_id is not None:
        clauses.append("s.zone_id = ?")
        params.append(query.zone_id)
    if query.active is not None:
        clauses.append("r.active = ?")
        params.append(int(query.active))
    if query.consent in _CONSENTS:
        clauses.append(_CONSENTS[query.consent])
    return (" AND ".join(clauses) or "1"), params


def _line(row: sqlite3.Row) -> ResidentLine:
    return ResidentLine(
        id=int(row[0]),
        last_name=str(row[1]),
        first_name=str(row[2]),
        phone=str(row[3]),
        civic_number=str(row[4]),
        street="" if row[5] is None else str(row[5]),
        zone="" if row[6] is None else str(row[6]),
        active=bool(row[7]),
        consent_sms=bool(row[8]),
        consent_voice=bool(row[9]),
        consent_neighbours=bool(row[10]),
        has_password=bool(row[11]),
        created_at=from_ms(int(row[12])),
    )
