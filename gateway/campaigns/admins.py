"""Staff accounts, their server-side sessions and the audit log, apart from residents'."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.campaigns.models import Admin, AuditEntry, Role
from gateway.residents import passwords
from gateway.residents.errors import WeakPassword
from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms, to_ms, utc_now

TOKEN_BYTES = 32
# Staff passwords guard the whole town's alerting: longer than residents' minimum.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# last_seen_at is written at most this often, so reading a page is not a write per request.
TOUCH_EVERY = timedelta(seconds=30)
_USERNAME_MAX = 64
_ADMIN_COLUMNS = "id, username, role, active, created_at, last_login_at"


class AdminError(ValueError):
    """A username or password that cannot be used; `code` names it for the page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class AdminSession:
    """One staff browser; `token` is the cookie value and exists only in memory."""

    token: str
    admin_id: int | None
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def _token_hash(token: str) -> str:
    """What the table stores: a database leak does not hand out live cookies."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def clean_username(raw: str) -> str:
    """Letters, digits and . _ - only, so a name is unambiguous in the audit log."""
    name = raw.strip()
    if not name or len(name) > _USERNAME_MAX:
        raise AdminError("username")
    if not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise AdminError("username")
    return name


class AdminAccounts:
    """The admin table's only door."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def create(self, username: str, password: str, role: Role) -> Admin:
        """A new account; AdminError(username|taken|too_short|too_long|common) otherwise."""
        name = clean_username(username)
        try:
            passwords.check_policy(
                password, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH
            )
        except WeakPassword as exc:
            raise AdminError(exc.code) from None
        hashed = await passwords.hash_password(password)
        now = to_ms(self._clock())

        def insert(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute(
                    "INSERT INTO admin (username, password_hash, role, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (name, hashed, role.value, now),
                )
            except sqlite3.IntegrityError:
                raise AdminError("taken") from None
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        admin_id = await self._db.write_fn(insert)
        admin = await self.get(admin_id)
        assert admin is not None
        return admin

    async def set_password(self, username: str, password: str) -> bool:
        """Replace a password (policy checked); False when there is no such account."""
        try:
            passwords.check_policy(
                password, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH
            )
        except WeakPassword as exc:
            raise AdminError(exc.code) from None
        hashed = await passwords.hash_password(password)
        return await self._db.write_fn(
            lambda conn: (
                conn.execute(
                    "UPDATE admin SET password_hash = ? WHERE username = ?", (hashed, username)
                ).rowcount
                == 1
            )
        )

    async def authenticate(self, username: str, password: str) -> Admin | None:
        """The account when the password matches and it is active; same work either way."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_ADMIN_COLUMNS}, password_hash FROM admin WHERE username = ?",
                (username.strip(),),
            ).fetchall()
        )
        stored = str(rows[0]["password_hash"]) if rows else None
        if not await passwords.verify_password(stored, password) or not rows:
            return None
        admin = _admin(rows[0])
        if not admin.active:
            return None
        now = to_ms(self._clock())
        await self._db.write_fn(
            lambda conn: conn.execute(
                "UPDATE admin SET last_login_at = ? WHERE id = ?", (now, admin.id)
            )
        )
        return admin

    async def get(self, admin_id: int) -> Admin | None:
        """By id; None when gone."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_ADMIN_COLUMNS} FROM admin WHERE id = ?", (admin_id,)
            ).fetchall()
        )
        return _admin(rows[0]) if rows else None

    async def all(self) -> list[Admin]:
        """Every account, for the staff page."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_ADMIN_COLUMNS} FROM admin ORDER BY username"
            ).fetchall()
        )
        return [_admin(row) for row in rows]


class AdminSessions:
    """The admin_session table's only door: hashed tokens, rotation, timeouts."""

    def __init__(
        self,
        db: Database,
        *,
        idle: timedelta,
        absolute: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._idle = idle
        self._absolute = absolute
        self._clock = clock

    async def create(self, admin_id: int | None = None) -> AdminSession:
        """A fresh token and CSRF token; expired sessions are swept on the way."""
        now = self._clock()
        session = AdminSession(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            admin_id=admin_id,
            csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
            created_at=now,
            last_seen_at=now,
        )
        idle_before, absolute_before = to_ms(now - self._idle), to_ms(now - self._absolute)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM admin_session WHERE last_seen_at < ? OR created_at < ?",
                (idle_before, absolute_before),
            )
            conn.execute(
                "INSERT INTO admin_session"
                " (token_hash, admin_id, csrf_token, data, created_at, last_seen_at)"
                " VALUES (?, ?, ?, '{}', ?, ?)",
                (
                    _token_hash(session.token),
                    admin_id,
                    session.csrf_token,
                    to_ms(now),
                    to_ms(now),
                ),
            )

        await self._db.write_fn(insert)
        return session

    async def get(self, token: str) -> AdminSession | None:
        """The live session for this cookie, touched; None if unknown or timed out."""
        if not token or len(token) > 2 * TOKEN_BYTES:
            return None
        key = _token_hash(token)
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT admin_id, csrf_token, data, created_at, last_seen_at"
                " FROM admin_session WHERE token_hash = ?",
                (key,),
            ).fetchall()
        )
        if not rows:
            return None
        row = rows[0]
        now = self._clock()
        created, seen = from_ms(int(row[3])), from_ms(int(row[4]))
        if now - seen >= self._idle or now - created >= self._absolute:
            await self._delete(key)
            return None
        if now - seen >= TOUCH_EVERY:
            seen_ms = to_ms(now)
            await self._db.write_fn(
                lambda conn: conn.execute(
                    "UPDATE admin_session SET last_seen_at = ? WHERE token_hash = ?",
                    (seen_ms, key),
                )
            )
            seen = now
        return AdminSession(
            token=token,
            admin_id=None if row[0] is None else int(row[0]),
            csrf_token=str(row[1]),
            created_at=created,
            last_seen_at=seen,
            data=json.loads(str(row[2])),
        )

    async def save_data(self, session: AdminSession) -> None:
        """Store the session's data dict (language, flashes)."""
        data, key = json.dumps(session.data), _token_hash(session.token)
        await self._db.write_fn(
            lambda conn: conn.execute(
                "UPDATE admin_session SET data = ? WHERE token_hash = ?", (data, key)
            )
        )

    async def rotate(self, old: AdminSession, admin_id: int | None) -> AdminSession:
        """A new token at sign-in and sign-out; the old one stops working."""
        await self._delete(_token_hash(old.token))
        session = await self.create(admin_id)
        session.data = dict(old.data)
        await self.save_data(session)
        return session

    async def _delete(self, key: str) -> None:
        await self._db.write_fn(
            lambda conn: conn.execute("DELETE FROM admin_session WHERE token_hash = ?", (key,))
        )


class AuditLog:
    """Append-only record of sign-ins and actions."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        action: str,
        *,
        admin: Admin | None = None,
        username: str = "",
        detail: str = "",
        client: str = "",
    ) -> None:
        """One line; `username` is used when there is no account (a failed sign-in)."""
        params = (
            to_ms(self._clock()),
            admin.id if admin is not None else None,
            admin.username if admin is not None else username[:_USERNAME_MAX],
            action,
            detail,
            client,
        )
        await self._db.write_fn(
            lambda conn: conn.execute(
                "INSERT INTO audit_log (at, admin_id, username, action, detail, client)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                params,
            )
        )

    async def recent(self, limit: int = 200) -> list[AuditEntry]:
        """Newest first."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT at, username, action, detail, client FROM audit_log"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [
            AuditEntry(from_ms(int(r[0])), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows
        ]


def _admin(row: sqlite3.Row) -> Admin:
    return Admin(
        id=int(row["id"]),
        username=str(row["username"]),
        role=Role(str(row["role"])),
        active=bool(row["active"]),
        created_at=from_ms(int(row["created_at"])),
        last_login_at=opt_from_ms(row["last_login_at"]),
    )
