"""Can the box send? Per-modem state, queues, disk and alarms, for the health page and /metrics.

The modem workers already keep each modem's state, identity, signal and last error
(`ModemStatus`); this module adds what they do not: SIM balances (USSD), parts sent in the last
24 h against the daily cap, queue depth per class, the oldest message waiting, free disk, and
the alarm conditions evaluated on those every `health.check_interval_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

from gateway.alarms import Alarm, AlarmBoard, AlarmKind
from gateway.balance import BalanceChecker, BalanceReading, BalanceTarget
from gateway.config import Config
from gateway.dispatcher import ModemPool
from gateway.events import Event, EventBus
from gateway.modem_worker import Health, ModemWorker
from gateway.outbox import MessageClass, MessageState, Outbox
from gateway.storage.database import Database
from gateway.storage.times import to_ms

_LOGGER = logging.getLogger(__name__)

DAY: Final = timedelta(days=1)
# "While modems idle": the queue is stuck only if no send started for this long either (a
# 10,000-message alert keeps old messages waiting while every modem works flat out).
STALL_S: Final = 60.0
MB: Final = 1024 * 1024

_OLDEST_DUE = (
    "SELECT MIN(next_attempt_at) FROM message WHERE state = 'queued' AND next_attempt_at <= ?"
)
_COUNT_BY_CLASS_STATE = "SELECT class, state, count(*) FROM message GROUP BY class, state"


@dataclass(frozen=True, slots=True)
class ModemHealth:
    """One row of the health page."""

    name: str
    port: str
    state: str  # Health value: down, ready, busy, degraded, blocked
    model: str
    imei: str
    operator: str | None
    signal_bars: int
    signal_dbm: int | None
    registration: str
    balance: BalanceReading | None
    balance_code: str  # "" when this SIM's balance is not checked
    sent_24h: int
    daily_cap: int | None
    last_error: str | None
    blocked_until: datetime | None


@dataclass(frozen=True, slots=True)
class HealthReport:
    generated_at: datetime
    modems: list[ModemHealth]
    queue_depth: dict[MessageClass, int]
    oldest_due_s: float | None  # how long the oldest due message has waited
    disk_free_bytes: int
    disk_total_bytes: int
    alarms: list[Alarm]
    low_credit: float

    @property
    def can_send(self) -> bool:
        return any(m.state in (Health.READY, Health.BUSY) for m in self.modems)


class HealthMonitor:
    """Evaluates the alarm conditions on a schedule and builds the health report on demand."""

    def __init__(
        self,
        config: Config,
        *,
        pool: ModemPool,
        outbox: Outbox,
        db: Database,
        bus: EventBus,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._pool = pool
        self._outbox = outbox
        self._db = db
        self._bus = bus
        self._clock = clock
        self.data_dir = Path(config.get_str("storage.path")).parent
        self.alarms = AlarmBoard(config, outbox=outbox, bus=bus, clock=clock)
        self.balances = BalanceChecker(
            [_target(w) for w in pool.workers if w.settings.balance_ussd],
            interval_s=config.get_float("health.balance_check_s"),
            on_reading=self._on_balance,
            clock=clock,
        )
        started = clock()
        self._down_since: dict[str, datetime] = {w.name: started for w in pool.workers}
        self._last_send = float("-inf")  # no send yet: the modems are idle
        self._unlisten: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._unlisten = self._bus.listen(self._on_event)
        self._task = asyncio.create_task(self._run(), name="health checks")
        self.balances.start()

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        await self.balances.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.alarms.stop()

    # ---- on demand

    async def report(self) -> HealthReport:
        """Everything the health page shows, read now."""
        now = self._clock()
        depth = await self._outbox.queue_depth_by_class()
        oldest = await self._oldest_due(now)
        disk = _disk(self.data_dir)
        modems = [await self._modem_health(w, now) for w in self._pool.workers]
        return HealthReport(
            generated_at=now,
            modems=modems,
            queue_depth=depth,
            oldest_due_s=oldest,
            disk_free_bytes=disk.free,
            disk_total_bytes=disk.total,
            alarms=self.alarms.active(),
            low_credit=self._config.get_float("health.low_credit"),
        )

    async def check_balance(self, name: str | None = None) -> None:
        """Ask one SIM (or every SIM with a code) its balance now."""
        if name is None:
            await self.balances.check_all()
        elif name in self.balances.targets:
            await self.balances.check(name)
        else:
            raise KeyError(name)

    async def counts_by_class_and_state(self) -> dict[tuple[MessageClass, MessageState], int]:
        """Every (class, state) pair with its count, zeros included (for /metrics)."""

        def count(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(_COUNT_BY_CLASS_STATE).fetchall()

        counts = {(c, s): 0 for c in MessageClass for s in MessageState}
        for row in await self._db.read_fn(count):
            counts[(MessageClass(row[0]), MessageState(row[1]))] = int(row[2])
        return counts

    async def evaluate(self) -> None:
        """Raise or clear every condition alarm once, from the state now."""
        now = self._clock()
        down_after = timedelta(seconds=self._config.get_float("alarms.modem_down_s"))
        for worker in self._pool.workers:
            since = self._down_since.get(worker.name)
            if since is not None and now - since >= down_after:
                reason = worker.status.last_error or "down"
                self.alarms.set(AlarmKind.MODEM_DOWN, worker.name, reason)
            elif since is None:
                self.alarms.clear_kind(AlarmKind.MODEM_DOWN, worker.name)
        stuck_after = self._config.get_float("alarms.queue_stuck_s")
        oldest = await self._oldest_due(now)
        idle = time.monotonic() - self._last_send >= STALL_S
        if oldest is not None and oldest >= stuck_after and idle:
            minutes = int(oldest // 60)
            self.alarms.set(AlarmKind.QUEUE_STUCK, "", f"{minutes} min")
        elif oldest is None or oldest < stuck_after or not idle:
            self.alarms.clear_kind(AlarmKind.QUEUE_STUCK, "")
        disk = _disk(self.data_dir)
        if disk.free < self._config.get_int("alarms.disk_low_mb") * MB:
            self.alarms.set(AlarmKind.DISK_LOW, "", f"{disk.free // MB} MB")
        else:
            self.alarms.clear_kind(AlarmKind.DISK_LOW, "")
        self.alarms.active()  # one-off alarms past their time end here

    # ---- internals

    async def _run(self) -> None:
        interval = self._config.get_float("health.check_interval_s")
        while True:
            try:
                await self.evaluate()
            except Exception:
                _LOGGER.exception("health check failed")
            await asyncio.sleep(interval)

    async def _modem_health(self, worker: ModemWorker, now: datetime) -> ModemHealth:
        status = worker.status
        sent = await self._outbox.part_times(worker.name, now - DAY)
        blocked = status.blocked_until
        return ModemHealth(
            name=worker.name,
            port=status.port,
            state=status.health.value,
            model=" ".join(
                str(status.identity.get(k) or "") for k in ("manufacturer", "model")
            ).strip(),
            imei=str(status.identity.get("imei") or ""),
            operator=status.operator,
            signal_bars=status.signal_bars,
            signal_dbm=status.signal_dbm,
            registration=status.registration,
            balance=self.balances.readings.get(worker.name),
            balance_code=worker.settings.balance_ussd,
            sent_24h=len(sent),
            daily_cap=worker.settings.per_day,
            last_error=status.last_error,
            blocked_until=None if blocked is None else datetime.fromtimestamp(blocked, UTC),
        )

    async def _oldest_due(self, now: datetime) -> float | None:
        def select(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(_OLDEST_DUE, (to_ms(now),)).fetchone()
            return None if row is None or row[0] is None else int(row[0])

        oldest_ms = await self._db.read_fn(select)
        if oldest_ms is None:
            return None
        return max(0.0, (to_ms(now) - oldest_ms) / 1000)

    def _on_event(self, event: Event) -> None:
        if event.kind == "modem":
            name = str(event.data.get("name", ""))
            if event.data.get("health") == Health.DOWN.value:
                self._down_since.setdefault(name, self._clock())
            else:
                self._down_since.pop(name, None)
        elif event.kind == "message" and event.data.get("state") == "sending":
            self._last_send = float("-inf")  # no send yet: the modems are idle
        elif event.kind == "alarm":
            subject = str(event.data.get("modem") or event.data.get("source") or "")
            detail = ", ".join(
                f"{k}={v}" for k, v in sorted(event.data.items()) if k not in ("modem", "source")
            )
            self.alarms.raise_for(subject, detail, self._config.get_float("alarms.event_hold_s"))

    def _on_balance(self, name: str, reading: BalanceReading) -> None:
        if reading.amount is None:
            return  # a failed or unreadable check says nothing about the credit
        threshold = Decimal(str(self._config.get_float("health.low_credit")))
        if reading.amount < threshold:
            self.alarms.set(AlarmKind.CREDIT_LOW, name, f"{reading.amount}")
        else:
            self.alarms.clear_kind(AlarmKind.CREDIT_LOW, name)


def _target(worker: ModemWorker) -> BalanceTarget:
    def usable() -> bool:
        return worker.status.health not in (Health.DOWN,)

    return BalanceTarget(worker.name, worker.settings.balance_ussd, worker.modem, usable)


@dataclass(frozen=True, slots=True)
class _Disk:
    free: int
    total: int


def _disk(path: Path) -> _Disk:
    usage = shutil.disk_usage(path)
    return _Disk(usage.free, usage.total)
