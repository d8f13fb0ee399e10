"""Captcha solutions already used, in SQLite: a solved challenge opens one form, even across
restarts, and the table stays bounded because rows past their expiry are purged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now


class SpentSolutions:
    """The only way into captcha_spent."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def spend(self, signature: str, expires_at: datetime) -> bool:
        """True the first time a signature is seen (it is then spent); False on a replay."""
        key = hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()
        now = to_ms(self._clock())
        async with self._db.write() as conn:
            # An expired row may still be there (purged later): it no longer protects anything,
            # and the challenge itself has expired, so altcha refuses it before we get here.
            await conn.execute(
                "DELETE FROM captcha_spent WHERE signature_hash = ? AND expires_at <= ?",
                (key, now),
            )
            cursor = await conn.execute(
                "INSERT INTO captcha_spent (signature_hash, expires_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (key, max(to_ms(expires_at), now)),
            )
            return cursor.rowcount == 1
