"""One-time codes: 6 digits, stored as an HMAC, single use, bound to a number and a purpose."""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import aiosqlite

from gateway.residents.keys import Keyring
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

CODE_DIGITS = 6


class Purpose(enum.StrEnum):
    """What a code may be used for; a code for one purpose never opens another."""

    REGISTER = "register"
    RESET = "reset"
    ADD_CONTACT = "add_contact"


class CodeCheck(enum.StrEnum):
    """The outcome of checking a code; the pages show all failures the same way."""

    OK = "ok"
    WRONG = "wrong"
    MISSING = "missing"  # none issued, used, expired, or killed by too many tries


def new_code() -> str:
    """Six digits from the OS's CSPRNG; leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class OneTimeCodes:
    """Issues and checks codes; the code itself exists only in the message sent to the person."""

    def __init__(
        self,
        db: Database,
        keys: Keyring,
        *,
        lifetime: timedelta,
        max_tries: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._keys = keys
        self._lifetime = lifetime
        self._max_tries = max_tries
        self._clock = clock

    async def issue(self, number: str, purpose: Purpose) -> str:
        """A fresh code for (number, purpose), replacing any earlier one."""
        code, _ = await self.replace(number, purpose)
        return code

    async def replace(self, number: str, purpose: Purpose) -> tuple[str, int | None]:
        """As issue(), with the voice fallback of the code it replaced (to cancel), if any."""
        code = new_code()
        now = to_ms(self._clock())
        number_key = self._keys.number_key(number)
        async with self._db.write() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT fallback_id FROM otp_code WHERE number_key = ? AND purpose = ?",
                    (number_key, purpose.value),
                )
            )
            await conn.execute(
                "INSERT OR REPLACE INTO otp_code"
                " (number_key, purpose, code_mac, tries, created_at, expires_at)"
                " VALUES (?, ?, ?, 0, ?, ?)",
                (
                    number_key,
                    purpose.value,
                    self._mac(number, purpose, code),
                    now,
                    now + self._lifetime // timedelta(milliseconds=1),
                ),
            )
        return code, _fallback_of(rows)

    async def set_fallback(self, number: str, purpose: Purpose, code: str, message_id: int) -> bool:
        """Remember the outbox id of the code's voice fallback, cancelled when the code goes.

        False when that very code is no longer live (used or replaced meanwhile): the caller
        then cancels the fallback itself."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE otp_code SET fallback_id = ?"
                " WHERE number_key = ? AND purpose = ? AND code_mac = ?",
                (
                    message_id,
                    self._keys.number_key(number),
                    purpose.value,
                    self._mac(number, purpose, code),
                ),
            )
            return cursor.rowcount == 1

    def rehearse(self, number: str, purpose: Purpose) -> None:
        """The hashing work of issue(), for paths that must take as long but send no code."""
        self._keys.number_key(number)
        self._mac(number, purpose, new_code())

    async def check(self, number: str, purpose: Purpose, code: str) -> CodeCheck:
        """Consume the code if it matches; count a wrong try and kill the code at the limit."""
        checked, _ = await self.check_releasing(number, purpose, code)
        return checked

    async def check_releasing(
        self, number: str, purpose: Purpose, code: str
    ) -> tuple[CodeCheck, int | None]:
        """As check(), with the voice fallback of the code if this check ended it (to cancel)."""
        number_key = self._keys.number_key(number)
        offered = self._mac(number, purpose, code.strip())
        now = to_ms(self._clock())
        async with self._db.write() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT code_mac, tries, expires_at FROM otp_code"
                    " WHERE number_key = ? AND purpose = ?",
                    (number_key, purpose.value),
                )
            )
            if not rows:
                return CodeCheck.MISSING, None
            stored, tries, expires_at = str(rows[0][0]), int(rows[0][1]), int(rows[0][2])
            if expires_at <= now or tries >= self._max_tries:
                return CodeCheck.MISSING, await self._delete(conn, number_key, purpose)
            if hmac.compare_digest(stored, offered):
                return CodeCheck.OK, await self._delete(conn, number_key, purpose)
            if tries + 1 >= self._max_tries:
                return CodeCheck.WRONG, await self._delete(conn, number_key, purpose)
            await conn.execute(
                "UPDATE otp_code SET tries = tries + 1 WHERE number_key = ? AND purpose = ?",
                (number_key, purpose.value),
            )
            return CodeCheck.WRONG, None

    async def forget(self, numbers: list[str]) -> list[int]:
        """Delete every code of these numbers (account deletion); their fallbacks, to cancel."""
        fallbacks: list[int] = []
        async with self._db.write() as conn:
            for number in numbers:
                rows = await conn.execute_fetchall(
                    "DELETE FROM otp_code WHERE number_key = ? RETURNING fallback_id",
                    (self._keys.number_key(number),),
                )
                fallbacks.extend(int(row[0]) for row in rows if row[0] is not None)
        return fallbacks

    async def purge_expired(self) -> int:
        """Drop dead codes so the table holds only live ones."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "DELETE FROM otp_code WHERE expires_at <= ?", (to_ms(self._clock()),)
            )
            return cursor.rowcount

    def _mac(self, number: str, purpose: Purpose, code: str) -> str:
        return self._keys.mac("otp", purpose.value, number, code)

    @staticmethod
    async def _delete(conn: aiosqlite.Connection, number_key: str, purpose: Purpose) -> int | None:
        """Delete the code; its voice fallback's outbox id, if it had one."""
        rows = list(
            await conn.execute_fetchall(
                "DELETE FROM otp_code WHERE number_key = ? AND purpose = ? RETURNING fallback_id",
                (number_key, purpose.value),
            )
        )
        return _fallback_of(rows)


def _fallback_of(rows: list[aiosqlite.Row]) -> int | None:
    """The fallback_id of a one-row result, or None."""
    if not rows or rows[0][0] is None:
        return None
    return int(rows[0][0])
