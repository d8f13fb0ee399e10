"""Residents and their contact points in SQLite: every write through Database.write()."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

import aiosqlite

from gateway.residents.models import Contact, ContactKind, Profile, Resident
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

_PROFILE_COLUMNS = (
    "last_name",
    "first_name",
    "language",
    "city",
    "civic_number",
    "street_id",
    "apartment",
    "postal_code",
    "email",
    "consent_sms_alerts",
    "consent_voice_alerts",
    "consent_neighbour_alerts",
    "hide_my_number",
)
_RESIDENT_SELECT = (
    "SELECT id, phone, password_hash, sms_prompt_done, created_at, updated_at, active, "
    + ", ".join(_PROFILE_COLUMNS)
    + " FROM resident"
)
_CONTACT_SELECT = "SELECT id, resident_id, kind, number, description, active, verified FROM contact"


class Residents:
    """Residents, their profile and contacts; callers validate input first (models.clean_*)."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def create(self, phone: str, password_hash: str, language: str) -> Resident | None:
        """The new resident with its login number as a verified voice contact; None if taken."""
        now = to_ms(self._clock())
        async with self._db.write() as conn:
            try:
                cursor = await conn.execute(
                    "INSERT INTO resident (phone, password_hash, language, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?)",
                    (phone, password_hash, language, now, now),
                )
            except sqlite3.IntegrityError:
                return None
            resident_id = cursor.lastrowid
            assert resident_id is not None
            # Receiving the code proved the number is the person's: no second code needed.
            await conn.execute(
                "INSERT INTO contact (resident_id, kind, number, active, verified, created_at)"
                " VALUES (?, 'voice', ?, 1, 1, ?)",
                (resident_id, phone, now),
            )
        resident = await self.get(resident_id)
        assert resident is not None
        return resident

    async def get(self, resident_id: int) -> Resident | None:
        """By id; None when deleted."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(f"{_RESIDENT_SELECT} WHERE id = ?", (resident_id,))
            )
        return _resident(rows[0]) if rows else None

    async def by_phone(self, phone: str) -> Resident | None:
        """By login number (E.164)."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(f"{_RESIDENT_SELECT} WHERE phone = ?", (phone,))
            )
        return _resident(rows[0]) if rows else None

    async def set_password(self, resident_id: int, password_hash: str) -> None:
        """Replace the password hash."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE resident SET password_hash = ?, updated_at = ? WHERE id = ?",
                (password_hash, to_ms(self._clock()), resident_id),
            )

    async def update_profile(self, resident_id: int, profile: Profile) -> None:
        """Store a profile already checked by clean_profile."""
        assignments = ", ".join(f"{name} = ?" for name in _PROFILE_COLUMNS)
        values = [getattr(profile, name) for name in _PROFILE_COLUMNS]
        async with self._db.write() as conn:
            await conn.execute(
                f"UPDATE resident SET {assignments}, updated_at = ? WHERE id = ?",
                (
                    *[int(v) if isinstance(v, bool) else v for v in values],
                    to_ms(self._clock()),
                    resident_id,
                ),
            )
            # A new email address must be proved again before neighbour-alert copies go to it.
            await conn.execute(
                "UPDATE neighbour_preference SET verified_email = '' WHERE resident_id = ?"
                " AND lower(verified_email) <> lower(?)",
                (resident_id, profile.email),
            )

    async def verify_login_number(self, resident_id: int, phone: str) -> None:
        """A reset code reached the login number: its unverified contacts become verified.

        Residents imported without verified numbers prove them this way ("Mot de passe
        oublié?"), as a registration code proves the number of a new account."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE contact SET verified = 1, active = 1"
                " WHERE resident_id = ? AND number = ? AND verified = 0",
                (resident_id, phone),
            )

    async def set_language(self, resident_id: int, language: str) -> None:
        """The language chosen with the page toggle also becomes the messages' language."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE resident SET language = ? WHERE id = ?", (language, resident_id)
            )

    async def mark_sms_prompt_done(self, resident_id: int) -> None:
        """The after-first-login question is asked once."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE resident SET sms_prompt_done = 1 WHERE id = ?", (resident_id,)
            )

    async def mark_login(self, resident_id: int) -> None:
        """The retention purge tells abandoned accounts from used ones by this."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE resident SET last_login_at = ? WHERE id = ?",
                (to_ms(self._clock()), resident_id),
            )

    # Contacts

    async def contacts(self, resident_id: int) -> list[Contact]:
        """Voice first, then SMS, oldest first within each (as the profile table shows them)."""
        async with self._db.read() as conn:
            rows = await conn.execute_fetchall(
                f"{_CONTACT_SELECT} WHERE resident_id = ? ORDER BY kind = 'sms', id",
                (resident_id,),
            )
        return [_contact(row) for row in rows]

    async def contact(self, resident_id: int, contact_id: int) -> Contact | None:
        """One contact, only if it belongs to this resident."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(
                    f"{_CONTACT_SELECT} WHERE resident_id = ? AND id = ?",
                    (resident_id, contact_id),
                )
            )
        return _contact(rows[0]) if rows else None

    async def add_contact(
        self,
        resident_id: int,
        kind: ContactKind,
        number: str,
        description: str,
        *,
        verified: bool,
    ) -> Contact | None:
        """Add a contact (active when verified); None when this resident already has it."""
        async with self._db.write() as conn:
            try:
                cursor = await conn.execute(
                    "INSERT INTO contact (resident_id, kind, number, description, active,"
                    " verified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        resident_id,
                        kind.value,
                        number,
                        description,
                        int(verified),
                        int(verified),
                        to_ms(self._clock()),
                    ),
                )
            except sqlite3.IntegrityError:
                return None
            contact_id = cursor.lastrowid
        assert contact_id is not None
        return await self.contact(resident_id, contact_id)

    async def number_verified(self, resident_id: int, number: str) -> bool:
        """True when one of this resident's contacts already proved this number."""
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT 1 FROM contact WHERE resident_id = ? AND number = ? AND verified = 1",
                    (resident_id, number),
                )
            )
        return bool(rows)

    async def verify_contact(self, resident_id: int, contact_id: int) -> None:
        """The code came back: the contact is verified and active."""
        await self._update_contact(
            "UPDATE contact SET verified = 1, active = 1 WHERE resident_id = ? AND id = ?",
            (resident_id, contact_id),
        )

    async def edit_contact(
        self, resident_id: int, contact_id: int, description: str, active: bool
    ) -> None:
        """Description and active flag; an unverified contact stays inactive."""
        await self._update_contact(
            "UPDATE contact SET description = ?, active = ? * verified"
            " WHERE resident_id = ? AND id = ?",
            (description, int(active), resident_id, contact_id),
        )

    async def delete_contact(self, resident_id: int, contact_id: int) -> None:
        """Remove one contact point."""
        await self._update_contact(
            "DELETE FROM contact WHERE resident_id = ? AND id = ?", (resident_id, contact_id)
        )

    async def _update_contact(self, sql: str, params: tuple[object, ...]) -> None:
        async with self._db.write() as conn:
            await conn.execute(sql, params)


def _resident(row: aiosqlite.Row) -> Resident:
    values = {name: row[name] for name in _PROFILE_COLUMNS}
    for flag in (
        "consent_sms_alerts",
        "consent_voice_alerts",
        "consent_neighbour_alerts",
        "hide_my_number",
    ):
        values[flag] = bool(values[flag])
    return Resident(
        id=int(row["id"]),
        phone=str(row["phone"]),
        password_hash=str(row["password_hash"]),
        profile=Profile(**values),
        sms_prompt_done=bool(row["sms_prompt_done"]),
        created_at=from_ms(int(row["created_at"])),
        updated_at=from_ms(int(row["updated_at"])),
        active=bool(row["active"]),
    )


def _contact(row: aiosqlite.Row) -> Contact:
    return Contact(
        id=int(row["id"]),
        resident_id=int(row["resident_id"]),
        kind=ContactKind(str(row["kind"])),
        number=str(row["number"]),
        description=str(row["description"]),
        active=bool(row["active"]),
        verified=bool(row["verified"]),
    )
