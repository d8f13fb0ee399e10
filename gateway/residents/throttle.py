"""Failed sign-in throttling, per number and per client address, with a growing lock.

After `limit` failures within a day, the key is locked for `lock_base`, doubling with each
further failure (1, 2, 4 … minutes by default, at most a day). A number that has no account
is counted and locked exactly like one that has, so neither the answer nor its timing tells
them apart. Attempts refused while locked are not counted: a person reloading the page does
not lengthen their own wait. Keys are HMACs (keys.py): the table never names a number.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from gateway.residents.keys import Keyring
from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms, utc_now

WINDOW: Final = timedelta(days=1)
_MAX_LOCK: Final = timedelta(days=1)


class Kind(enum.StrEnum):
    """What a failure counter is keyed by."""

    NUMBER = "number"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class Failure:
    """The outcome of recording one failure: which keys just reached their limit (alarm)."""

    bursts: tuple[Kind, ...]


class SignInThrottle:
    """Counts failed sign-ins and says whether a number or an address is locked now."""

    def __init__(
        self,
        db: Database,
        keys: Keyring,
        *,
        number_limit: int,
        client_limit: int,
        lock_base: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._keys = keys
        self._limits = {Kind.NUMBER: number_limit, Kind.CLIENT: client_limit}
        self._lock_base = lock_base
        self._clock = clock

    async def locked(self, number: str, client: str) -> Kind | None:
        """Which of the two is locked right now, or None."""
        now = self._clock()
        async with self._db.read() as conn:
            for kind, key in self._keyed(number, client):
                rows = list(
                    await conn.execute_fetchall(
                        "SELECT count(*), max(at) FROM signin_failure"
                        " WHERE kind = ? AND key = ? AND at > ?",
                        (kind.value, key, to_ms(now - WINDOW)),
                    )
                )
                count, last = int(rows[0][0]), rows[0][1]
                if last is not None and now < from_ms(int(last)) + self._lock(kind, count):
                    return kind
        return None

    async def failed(self, number: str, client: str) -> Failure:
        """Record a failure for both keys; report the keys that reached their limit now."""
        now = self._clock()
        bursts: list[Kind] = []
        async with self._db.write() as conn:
            for kind, key in self._keyed(number, client):
                await conn.execute(
                    "INSERT INTO signin_failure (kind, key, at) VALUES (?, ?, ?)",
                    (kind.value, key, to_ms(now)),
                )
                rows = list(
                    await conn.execute_fetchall(
                        "SELECT count(*) FROM signin_failure WHERE kind = ? AND key = ? AND at > ?",
                        (kind.value, key, to_ms(now - WINDOW)),
                    )
                )
                if int(rows[0][0]) == self._limits[kind]:
                    bursts.append(kind)
        return Failure(tuple(bursts))

    async def succeeded(self, number: str) -> None:
        """The right password for the number: its counter restarts (the address's does not,
        or one account of the attacker's own would reset it)."""
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM signin_failure WHERE kind = 'number' AND key = ?",
                (self._keys.number_key(number),),
            )

    async def forget(self, numbers: list[str]) -> None:
        """Account deletion: the counters of these numbers."""
        async with self._db.write() as conn:
            await conn.executemany(
                "DELETE FROM signin_failure WHERE kind = 'number' AND key = ?",
                [(self._keys.number_key(n),) for n in numbers],
            )

    def _keyed(self, number: str, client: str) -> tuple[tuple[Kind, str], ...]:
        return (
            (Kind.NUMBER, self._keys.number_key(number)),
            (Kind.CLIENT, self._keys.client_key(client)),
        )

    def _lock(self, kind: Kind, count: int) -> timedelta:
        over = count - self._limits[kind]
        if over < 0:
            return timedelta(0)
        lock: timedelta = self._lock_base * (2 ** min(over, 20))
        return min(lock, _MAX_LOCK)
