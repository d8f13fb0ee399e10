"""Send budgets: how many codes and notices one number, one client and the town may trigger."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.residents.keys import Keyring
from gateway.residents.settings import ResidentSettings
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

_15_MIN = timedelta(minutes=15)
_HOUR = timedelta(hours=1)
# Also the longest window: older events are deleted.
_DAY = timedelta(days=1)


class Exceeded(enum.StrEnum):
    """Which budget refused, for the admin alarm (never shown to the person)."""

    NUMBER_15MIN = "number_15min"
    NUMBER_DAY = "number_day"
    CLIENT_HOUR = "client_hour"
    GLOBAL_HOUR = "global_hour"


class SendBudgets:
    """Checks and records in one write transaction, so two requests cannot both take the last."""

    def __init__(
        self,
        db: Database,
        keys: Keyring,
        settings: ResidentSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._keys = keys
        self._settings = settings
        self._clock = clock

    async def spend(self, number: str, client: str) -> Exceeded | None:
        """Record one send and return None, or return the first budget it would exceed."""
        number_key = self._keys.number_key(number)
        client_key = self._keys.client_key(client)
        now = self._clock()
        s = self._settings
        by_number = "SELECT count(*) FROM send_event WHERE number_key = ? AND at > ?"
        by_client = "SELECT count(*) FROM send_event WHERE client_key = ? AND at > ?"
        town_wide = "SELECT count(*) FROM send_event WHERE at > ?"
        limits: tuple[tuple[Exceeded, str, tuple[str, ...], timedelta, int], ...] = (
            (Exceeded.NUMBER_15MIN, by_number, (number_key,), _15_MIN, s.budget_number_15min),
            (Exceeded.NUMBER_DAY, by_number, (number_key,), _DAY, s.budget_number_day),
            (Exceeded.CLIENT_HOUR, by_client, (client_key,), _HOUR, s.budget_ip_hour),
            (Exceeded.GLOBAL_HOUR, town_wide, (), _HOUR, s.budget_global_hour),
        )
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM send_event WHERE at < ?", (to_ms(now - _DAY),))
            for name, query, keys, window, limit in limits:
                rows = list(await conn.execute_fetchall(query, (*keys, to_ms(now - window))))
                if int(rows[0][0]) >= limit:
                    return name
            await conn.execute(
                "INSERT INTO send_event (number_key, client_key, at) VALUES (?, ?, ?)",
                (number_key, client_key, to_ms(now)),
            )
        return None

    async def forget(self, numbers: list[str]) -> None:
        """Delete the budget trail of these numbers (account deletion)."""
        keys = [(self._keys.number_key(n),) for n in numbers]
        async with self._db.write() as conn:
            await conn.executemany("DELETE FROM send_event WHERE number_key = ?", keys)
