"""Residents to CSV, in the very format the import reads (a round trip loses nothing it knows).

Written as UTF-8 with a BOM, so a spreadsheet opens accents right; streamed in pages of rows,
so exporting a whole town never holds it in memory.
"""

from __future__ import annotations

import csv
import functools
import io
import sqlite3
from collections.abc import AsyncIterator

from gateway.residents.csv_rows import CONSENT_COLUMNS, MAX_PHONES, PROFILE_COLUMNS, phone_columns
from gateway.residents.directory import ResidentQuery, query_conditions
from gateway.storage.database import Database

_PAGE = 1000
BOM = "\ufeff"
_FORMULA_STARTS = frozenset("=+-@\t\r")


def columns(phones: int) -> list[str]:
    """The header for `phones` numbers per resident."""
    return [*PROFILE_COLUMNS, *phone_columns(phones), *CONSENT_COLUMNS, "active"]


async def export_csv(
    db: Database, *, delimiter: str = ",", query: ResidentQuery | None = None
) -> AsyncIterator[str]:
    """The header, then chunks of rows by resident id; the first chunk starts with a BOM.

    With a `query`, only the residents the admin list shows for it (its page is ignored).
    """
    phones = await db.read_fn(_most_numbers)
    yield BOM + _line(columns(phones), delimiter)
    after = 0
    where = query_conditions(query) if query is not None else ("1", [])
    while True:
        rows, after = await db.read_fn(
            functools.partial(_page, after=after, phones=phones, where=where)
        )
        if not rows:
            return
        yield "".join(_line(row, delimiter) for row in rows)


async def count(db: Database, query: ResidentQuery | None = None) -> int:
    """How many residents an export writes (for a progress bar)."""
    where, params = query_conditions(query) if query is not None else ("1", [])
    sql = f"SELECT count(*) FROM resident r LEFT JOIN street s ON s.id = r.street_id WHERE {where}"
    return int(await db.read_fn(lambda conn: conn.execute(sql, params).fetchone()[0]))


def _most_numbers(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT max(n) FROM (SELECT count(DISTINCT number) AS n FROM contact GROUP BY resident_id)"
    ).fetchone()
    return max(1, min(MAX_PHONES, int(row[0] or 1)))


def _page(
    conn: sqlite3.Connection, after: int, phones: int, where: tuple[str, list[object]]
) -> tuple[list[list[str]], int]:
    conditions, params = where
    residents = conn.execute(
        "SELECT r.id, r.phone, r.last_name, r.first_name, r.language, r.civic_number,"
        " coalesce(s.name, ''), r.apartment, r.postal_code, r.city, r.email,"
        " r.consent_sms_alerts, r.consent_voice_alerts, r.consent_neighbour_alerts, r.active"
        " FROM resident r LEFT JOIN street s ON s.id = r.street_id"
        f" WHERE r.id > ? AND ({conditions}) ORDER BY r.id LIMIT ?",
        (after, *params, _PAGE),
    ).fetchall()
    if not residents:
        return [], after
    first, last = int(residents[0][0]), int(residents[-1][0])
    contacts: dict[int, dict[str, tuple[set[str], bool]]] = {}
    for resident_id, kind, number, verified in conn.execute(
        "SELECT resident_id, kind, number, verified FROM contact"
        " WHERE resident_id BETWEEN ? AND ? ORDER BY id",
        (first, last),
    ):
        numbers = contacts.setdefault(int(resident_id), {})
        kinds, was_verified = numbers.get(str(number), (set(), False))
        kinds.add(str(kind))
        numbers[str(number)] = (kinds, was_verified or bool(verified))
    rows = []
    for r in residents:
        numbers = contacts.get(int(r[0]), {})
        login = str(r[1])
        # The login number first: the import takes the first number as the login.
        ordered = [login, *(n for n in numbers if n != login)][:phones]
        cells = [_defuse(str(value)) for value in r[2:11]]
        for number in ordered:
            kinds, verified = numbers.get(number, ({"voice"}, False))
            kind = "both" if kinds == {"voice", "sms"} else next(iter(kinds))
            cells += [number, kind, _yes(verified)]
        cells += [""] * (3 * (phones - len(ordered)))
        cells += [_yes(bool(r[11])), _yes(bool(r[12])), _yes(bool(r[13])), _yes(bool(r[14]))]
        rows.append(cells)
    return rows, last


def _defuse(text: str) -> str:
    """A name typed as '=HYPERLINK(…)' stays text in a spreadsheet (CSV formula injection)."""
    return f"'{text}" if text[:1] in _FORMULA_STARTS else text


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _line(cells: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return out.getvalue()
