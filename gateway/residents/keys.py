"""The server's HMAC key, made at first run and kept in the database, never in a log or a page."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gateway.storage.database import Database

_KEY_NAME = "residents.hmac"
_KEY_BYTES = 32


class Keyring:
    """HMACs for codes and for the number/address keys that budgets and codes are filed under."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    async def load(cls, db: Database) -> Keyring:
        """Read the key, creating it on the first run (INSERT OR IGNORE: two starters agree)."""
        async with db.write() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO server_secret (name, value) VALUES (?, ?)",
                (_KEY_NAME, secrets.token_bytes(_KEY_BYTES)),
            )
            rows = list(
                await conn.execute_fetchall(
                    "SELECT value FROM server_secret WHERE name = ?", (_KEY_NAME,)
                )
            )
        return cls(bytes(rows[0][0]))

    def mac(self, *parts: str) -> str:
        """HMAC-SHA256 of the parts, unambiguously joined, as hex."""
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def number_key(self, e164: str) -> str:
        """What budgets and codes store instead of the number itself."""
        return self.mac("number", e164)

    def client_key(self, address: str) -> str:
        """What budgets store instead of the client address."""
        return self.mac("client", address)
