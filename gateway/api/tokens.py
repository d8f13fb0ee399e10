"""API tokens: made by an admin or the CLI, shown once, stored as a SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from gateway.campaigns.models import Role
from gateway.storage.database import Database
from gateway.storage.times import from_ms, opt_from_ms, to_ms, utc_now

# "tocsin_" tells a leaked string for what it is (secret scanners key on such prefixes).
TOKEN_PREFIX: Final = "tocsin_"
TOKEN_BYTES: Final = 32
# Shown in lists and logs to tell tokens apart; 8 characters of 43 give nothing away.
SHOWN_CHARS: Final = len(TOKEN_PREFIX) + 8
# last_used_at is written at most this often: reading a status is not a write per request.
TOUCH_EVERY: Final = timedelta(minutes=1)
TOKEN_ROLES: Final = (Role.OPERATOR, Role.VIEWER)
_NAME_MAX = 64
_COLUMNS = "id, name, role, prefix, created_by, created_at, last_used_at, revoked_at"


class TokenError(ValueError):
    """A name or role that cannot be used; `code` names it (name, role, taken)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as lists show it (never the secret, never its hash)."""

    id: int
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How the audit log and the alert history name what this token did."""
        return f"api:{self.name}"


@dataclass(frozen=True, slots=True)
class NewToken:
    """What `create` returns: the secret, which exists nowhere else once shown."""

    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    """What the table stores and what a request's bearer value is looked up by."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def clean_name(raw: str) -> str:
    """A short printable label, e.g. the system that will use the token."""
    name = " ".join(raw.split())
    if not name or len(name) > _NAME_MAX or not name.isprintable():
        raise TokenError("name")
    return name


class ApiTokens:
    """The api_token table's only door."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def create(self, name: str, role: Role, *, created_by: str) -> NewToken:
        """A new token; TokenError(name|role|taken) otherwise."""
        label = clean_name(name)
        if role not in TOKEN_ROLES:
            raise TokenError("role")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        now = to_ms(self._clock())

        def insert(conn: sqlite3.Connection) -> int:
            try:
                cursor = conn.execute(
                    "INSERT INTO api_token (name, role, token_hash, prefix, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (label, role.value, token_hash(secret), secret[:SHOWN_CHARS], created_by, now),
                )
            except sqlite3.IntegrityError:
                raise TokenError("taken") from None
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        token_id = await self._db.write_fn(insert)
        token = await self.get(token_id)
        assert token is not None
        return NewToken(token, secret)

    async def authenticate(self, secret: str) -> ApiToken | None:
        """The live token for a bearer value, touched now and then; None otherwise."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 2 * TOKEN_BYTES + 16:
            return None
        key = token_hash(secret)
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_token WHERE token_hash = ? AND revoked_at IS NULL",
                (key,),
            ).fetchall()
        )
        if not rows:
            return None
        token = _token(rows[0])
        now = self._clock()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            now_ms = to_ms(now)
            await self._db.write_fn(
                lambda conn: conn.execute(
                    "UPDATE api_token SET last_used_at = ? WHERE id = ?", (now_ms, token.id)
                )
            )
        return token

    async def revoke(self, token_id: int) -> ApiToken | None:
        """The token stops working at once; None when there is no such live token."""
        now = to_ms(self._clock())
        changed = await self._db.write_fn(
            lambda conn: (
                conn.execute(
                    "UPDATE api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (now, token_id),
                ).rowcount
            )
        )
        return await self.get(token_id) if changed else None

    async def find_live(self, name: str) -> ApiToken | None:
        """The live token of that name (the CLI revokes by name)."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_token"
                " WHERE name = ? COLLATE NOCASE AND revoked_at IS NULL",
                (" ".join(name.split()),),
            ).fetchall()
        )
        return _token(rows[0]) if rows else None

    async def get(self, token_id: int) -> ApiToken | None:
        """By id, revoked or not."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_token WHERE id = ?", (token_id,)
            ).fetchall()
        )
        return _token(rows[0]) if rows else None

    async def all(self) -> list[ApiToken]:
        """Live tokens first, then revoked ones; newest first within each."""
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_token"
                " ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
            ).fetchall()
        )
        return [_token(row) for row in rows]


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=int(row["id"]),
        name=str(row["name"]),
        role=Role(str(row["role"])),
        prefix=str(row["prefix"]),
        created_by=str(row["created_by"]),
        created_at=from_ms(int(row["created_at"])),
        last_used_at=opt_from_ms(row["last_used_at"]),
        revoked_at=opt_from_ms(row["revoked_at"]),
    )
