"""Alert templates: named drafts (title, texts, channels, severity) staff start compose from."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from gateway.campaigns.models import AlertTemplate, Channels, Draft, Severity
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

NAME_MAX = 80
_SELECT = (
    "SELECT t.*, coalesce(a.username, '') AS author FROM alert_template t"
    " LEFT JOIN admin a ON a.id = t.updated_by"
)


class TemplateError(ValueError):
    """A template name that cannot be used."""


class Templates:
    """The alert_template table's only door."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def save(self, name: str, draft: Draft, admin_id: int | None) -> tuple[int, bool]:
        """Store under `name`, replacing one of the same name; (id, True when it was new)."""
        clean = " ".join(name.split())
        if not clean or len(clean) > NAME_MAX:
            raise TemplateError("template_name")
        now = to_ms(self._clock())

        def upsert(conn: sqlite3.Connection) -> tuple[int, bool]:
            found = conn.execute(
                "SELECT id FROM alert_template WHERE name = ?", (clean,)
            ).fetchone()
            values = (
                *draft.columns(),
                admin_id,
                now,
            )
            if found is not None:
                conn.execute(
                    "UPDATE alert_template SET title = ?, body_fr = ?, body_en = ?, channels = ?,"
                    " severity = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                    (*values, int(found[0])),
                )
                return int(found[0]), False
            cursor = conn.execute(
                "INSERT INTO alert_template (title, body_fr, body_en, channels, severity,"
                " updated_by, updated_at, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, clean),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid, True

        return await self._db.write_fn(upsert)

    async def all(self) -> list[AlertTemplate]:
        """Every template by name."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(f"{_SELECT} ORDER BY t.name").fetchall()
        )
        return [_template(row) for row in rows]

    async def get(self, template_id: int) -> AlertTemplate | None:
        """One template, or None."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(f"{_SELECT} WHERE t.id = ?", (template_id,)).fetchall()
        )
        return _template(rows[0]) if rows else None

    async def delete(self, template_id: int) -> bool:
        """False when it was already gone."""
        return await self._db.write_fn(
            lambda conn: (
                conn.execute("DELETE FROM alert_template WHERE id = ?", (template_id,)).rowcount
                == 1
            )
        )


def _template(row: sqlite3.Row) -> AlertTemplate:
    return AlertTemplate(
        id=int(row["id"]),
        name=str(row["name"]),
        draft=Draft(
            title=str(row["title"]),
            body_fr=str(row["body_fr"]),
            body_en=str(row["body_en"]),
            channels=Channels(str(row["channels"])),
            severity=Severity(str(row["severity"])),
        ),
        updated_by=str(row["author"]),
        updated_at=from_ms(int(row["updated_at"])),
    )
