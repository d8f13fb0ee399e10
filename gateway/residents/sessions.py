"""Browser sessions stored server-side: hashed tokens, rotation, idle and absolute timeouts."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

TOKEN_BYTES = 32
# last_seen_at is written at most this often, so reading a page is not a write per request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class Session:
    """One browser's state; `token` is the cookie value and exists only in memory."""

    token: str
    resident_id: int | None
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def token_hash(token: str) -> str:
    """What the table stores: a database leak does not hand out live cookies."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class Sessions:
    """The only way into web_session."""

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

    async def create(
        self, resident_id: int | None = None, data: dict[str, Any] | None = None
    ) -> Session:
        """A new session with a fresh token and CSRF token; expired sessions are swept."""
        now = self._clock()
        session = Session(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            resident_id=resident_id,
            csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
            created_at=now,
            last_seen_at=now,
            data=dict(data or {}),
        )
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM web_session WHERE last_seen_at < ? OR created_at < ?",
                (to_ms(now - self._idle), to_ms(now - self._absolute)),
            )
            await conn.execute(
                "INSERT INTO web_session"
                " (token_hash, resident_id, csrf_token, data, created_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    token_hash(session.token),
                    resident_id,
                    session.csrf_token,
                    json.dumps(session.data),
                    to_ms(now),
                    to_ms(now),
                ),
            )
        return session

    async def get(self, token: str) -> Session | None:
        """The live session for this cookie, touched; None if unknown or timed out."""
        if not token or len(token) > 2 * TOKEN_BYTES:
            return None
        key = token_hash(token)
        now = self._clock()
        async with self._db.read() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT resident_id, csrf_token, data, created_at, last_seen_at"
                    " FROM web_session WHERE token_hash = ?",
                    (key,),
                )
            )
        if not rows:
            return None
        row = rows[0]
        created, seen = from_ms(int(row[3])), from_ms(int(row[4]))
        if now - seen >= self._idle or now - created >= self._absolute:
            await self._delete_hash(key)
            return None
        if now - seen >= TOUCH_EVERY:
            async with self._db.write() as conn:
                await conn.execute(
                    "UPDATE web_session SET last_seen_at = ? WHERE token_hash = ?",
                    (to_ms(now), key),
                )
            seen = now
        return Session(
            token=token,
            resident_id=None if row[0] is None else int(row[0]),
            csrf_token=str(row[1]),
            created_at=created,
            last_seen_at=seen,
            data=json.loads(str(row[2])),
        )

    async def save_data(self, session: Session) -> None:
        """Store the session's data dict (language, pending number)."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE web_session SET data = ? WHERE token_hash = ?",
                (json.dumps(session.data), token_hash(session.token)),
            )

    async def rotate(self, old: Session | None, resident_id: int | None) -> Session:
        """A new token (and CSRF token) for a login or logout; the old one stops working."""
        data = dict(old.data) if old is not None else {}
        if old is not None:
            await self._delete_hash(token_hash(old.token))
        return await self.create(resident_id, data)

    async def end(self, session: Session) -> None:
        """Logout: the token is dead server-side, whatever the browser keeps."""
        await self._delete_hash(token_hash(session.token))

    async def end_all(self, resident_id: int, keep: Session | None = None) -> None:
        """Every session of a resident (after a password reset or change), but `keep`."""
        kept = token_hash(keep.token) if keep is not None else ""
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM web_session WHERE resident_id = ? AND token_hash <> ?",
                (resident_id, kept),
            )

    async def _delete_hash(self, key: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM web_session WHERE token_hash = ?", (key,))
