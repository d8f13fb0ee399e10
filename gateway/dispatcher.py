"""The modem pool: one worker per modem, all woken by the outbox when work may be due.

Priority lives in the outbox's claim order (OTP > relay > reply > alert > api, FIFO within a
class), so whichever modem frees up first takes the most urgent job: an OTP enqueued behind
10,000 alert messages waits for one send slot at most.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from gateway.calls.runner import CallRunner
from gateway.config import Config, ModemSettings
from gateway.events import EventBus
from gateway.modem_worker import Health, InboundSink, ModemStatus, ModemWorker, ReportSink
from gateway.outbox import Outbox

_LOGGER = logging.getLogger(__name__)


class ModemPool:
    def __init__(
        self,
        modems: Sequence[ModemSettings],
        *,
        outbox: Outbox,
        bus: EventBus,
        config: Config,
        on_sms: InboundSink,
        on_report: ReportSink,
        clock: Callable[[], float] = time.time,
        calls: CallRunner | None = None,
    ) -> None:
        self.workers = [
            ModemWorker(
                settings,
                outbox=outbox,
                bus=bus,
                config=config,
                on_sms=on_sms,
                on_report=on_report,
                clock=clock,
                calls=calls,
            )
            for settings in modems
        ]
        names = [w.name for w in self.workers]
        if len(set(names)) != len(names):
            raise ValueError(f"modem names must be unique: {names}")
        self._unlisten: Callable[[], None] | None = None
        self._outbox = outbox

    def start(self) -> None:
        self._unlisten = self._outbox.add_work_listener(self.wake_all)
        for worker in self.workers:
            worker.start()

    async def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for worker in self.workers:
            await worker.stop()

    def wake_all(self, priority: int | None = None) -> None:
        """Work at `priority` may be due: every modem looks, and the first one free sends it."""
        for worker in self.workers:
            worker.wake(priority)

    def statuses(self) -> list[ModemStatus]:
        return [worker.status for worker in self.workers]

    def send_rate(self) -> float:
        """SMS parts per second the pool sustains now, from measured send times and quotas."""
        now = time.time()
        total = 0.0
        for worker in self.workers:
            if worker.status.health in (Health.DOWN, Health.BLOCKED):
                continue
            rate = 1.0 / max(worker.status.seconds_per_part, 1e-3)
            limits = worker.quota.limits
            if limits.per_minute is not None:
                rate = min(rate, limits.per_minute / 60.0)
            if limits.per_hour is not None:
                rate = min(rate, limits.per_hour / 3600.0)
            left = worker.quota.remaining(now).get("day")
            if left == 0:
                continue
            total += rate
        return total

    def worker(self, name: str) -> ModemWorker:
        for worker in self.workers:
            if worker.name == name:
                return worker
        raise KeyError(name)
