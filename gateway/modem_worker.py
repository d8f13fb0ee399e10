"""One modem in the pool: keeps it alive (open, watchdog, reset, reopen) and feeds it jobs.

Two tasks per modem. The supervisor opens the port (again and again, with capped backoff, when
it vanishes), pings it when idle, resets it when it stops answering. The sender takes the next
job from the outbox whenever the modem is ready and its SIM has quota, so a modem that finishes
a send takes the next job at once; when nothing is due it sleeps until woken by an enqueue or
until the next retry falls due. No polling loop, no sleep between sends beyond rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from gateway.calls.outcomes import CallOutcome
from gateway.calls.runner import CallRunner
from gateway.calls.worker import ModemCalls
from gateway.config import Config, ModemSettings
from gateway.events import EventBus
from gateway.outbox import (
    Channel,
    MessageClass,
    OutboundMessage,
    Outbox,
    PartRef,
)
from gateway.prefetch import Prefetch
from gateway.quota import QuotaLimits, SendQuota
from gateway.send_errors import Verdict, verdict_for
from modem.at import PRIORITY_BULK, PRIORITY_NORMAL, PRIORITY_URGENT
from modem.exceptions import ModemError
from modem.modem import Modem, ModemCallbacks, ModemConfig
from modem.pdu import segment_info
from modem.types import DeliveryReport, ReceivedSms, Registration, SentPart

_LOGGER = logging.getLogger(__name__)

DAY_S: Final = 86400.0  # the longest quota window: sends older than this no longer count
# Reopening a vanished port: first try after 1 s, then back off to at most every 10 s.
REOPEN_DELAYS: Final = (1.0, 2.0, 5.0, 10.0)
# A send time estimate needs history; until then assume the realistic ~3 s per part.
DEFAULT_SECONDS_PER_PART: Final = 3.0
# Weight of the newest send in the moving average of send time.
RATE_SMOOTHING: Final = 0.2

_URGENT_CLASSES: Final = frozenset({MessageClass.OTP, MessageClass.RELAY})
_BULK_CLASSES: Final = frozenset({MessageClass.ALERT, MessageClass.API})


class Health(enum.StrEnum):
    DOWN = "down"  # port absent or init failing
    READY = "ready"  # idle, can take a job
    BUSY = "busy"  # sending
    DEGRADED = "degraded"  # answering, but not registered or recently failing
    BLOCKED = "blocked"  # out of rotation for a while (failures, SIM trouble)


@dataclass
class ModemStatus:
    """What the health page and the ETA need to know about one modem."""

    name: str
    port: str
    health: Health = Health.DOWN
    identity: dict[str, object] = field(default_factory=dict)
    registration: str = "unknown"
    operator: str | None = None
    signal_dbm: int | None = None
    signal_bars: int = 0
    last_error: str | None = None
    blocked_until: float | None = None
    block_reason: str | None = None
    consecutive_failures: int = 0
    sent_parts: int = 0
    busy_seconds: float = 0.0
    seconds_per_part: float = DEFAULT_SECONDS_PER_PART
    quota_left: dict[str, int | None] = field(default_factory=dict)


InboundSink = Callable[[ReceivedSms], Awaitable[None]]
ReportSink = Callable[[DeliveryReport], Awaitable[None]]


class ModemWorker:
    def __init__(
        self,
        settings: ModemSettings,
        *,
        outbox: Outbox,
        bus: EventBus,
        config: Config,
        on_sms: InboundSink,
        on_report: ReportSink,
        clock: Callable[[], float] = time.time,
        calls: CallRunner | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name or os.path.basename(settings.port)
        serves_voice = calls is not None and "voice" in settings.channels
        self._channels = frozenset(
            Channel(c) for c in settings.channels if c == "sms" or (c == "voice" and serves_voice)
        )
        self._outbox = outbox
        self._bus = bus
        self._config = config
        self._clock = clock
        self.status = ModemStatus(self.name, settings.port)
        self.quota = SendQuota(
            QuotaLimits(settings.per_minute, settings.per_hour, settings.per_day)
        )
        self._modem = Modem(
            ModemConfig(
                port=settings.port,
                name=self.name,
                baudrate=settings.baudrate,
                rtscts=settings.rtscts,
                pin=settings.pin or None,
                audio_port=settings.audio_port or None,
            ),
            ModemCallbacks(
                on_sms=on_sms,
                on_report=on_report,
                on_registration=self._on_registration,
                on_disconnect=self._on_disconnect,
            ),
        )
        self._wake = asyncio.Event()  # work may be available (enqueue, retry, release)
        self._usable = asyncio.Event()  # the modem is open and not blocked
        self._lost = asyncio.Event()  # the port went away
        self._tasks: list[asyncio.Task[None]] = []
        self._prefetch = Prefetch(outbox, self.name)  # claimed while the previous send ran
        self._recording: set[asyncio.Future[OutboundMessage]] = set()
        self._calls = (
            ModemCalls(calls, self._modem, clock=clock) if calls and serves_voice else None
        )

    # ---- lifecycle

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._supervise(), name=f"supervise {self.name}"),
            loop.create_task(self._serve(), name=f"serve {self.name}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        # Outcomes of finished sends still committing: let them land before the db closes.
        await asyncio.gather(*self._recording, return_exceptions=True)
        await self._modem.close()
        self._set_health(Health.DOWN)

    def wake(self, priority: int | None = None) -> None:
        """Something may be due: an enqueue, a release, a retry scheduled (at `priority`)."""
        if priority is not None:
            self._prefetch.note(priority)
        self._wake.set()

    @property
    def modem(self) -> Modem:
        return self._modem

    @property
    def channels(self) -> frozenset[Channel]:
        """What this modem claims now: voice jobs rest a while after one was handed over."""
        if self._calls is not None:
            return self._calls.claimable(self._channels)
        return self._channels

    # ---- supervisor

    async def _supervise(self) -> None:
        if self.quota.limits.windows():
            since = datetime.fromtimestamp(self._clock() - DAY_S, UTC)
            self.quota.preload(await self._outbox.part_times(self.name, since))
        attempt = 0
        while True:
            if not await self._open():
                delay = REOPEN_DELAYS[min(attempt, len(REOPEN_DELAYS) - 1)]
                attempt += 1
                await asyncio.sleep(delay)
                continue
            attempt = 0
            await self._watch()

    async def _open(self) -> bool:
        if not os.path.exists(self.settings.port):  # noqa: ASYNC240 - one stat of a /dev path
            self._set_health(Health.DOWN, "port not present")
            return False
        self._lost.clear()
        try:
            await self._modem.open()
        except ModemError as exc:
            self._set_health(Health.DOWN, f"open failed: {exc}")
            return False
        identity = self._modem.identity
        if identity is not None:
            self.status.identity = {
                "manufacturer": identity.manufacturer,
                "model": identity.model,
                "imei": identity.imei,
                "imsi": identity.imsi,
                "iccid": identity.iccid,
                "family": identity.family,
            }
        await self._refresh_signal()
        self._set_health(self._idle_health())
        return True

    async def _watch(self) -> None:
        """While the port is there: ping when idle, reset when silent, re-init after reboot."""
        interval = self._config.get_float("dispatch.watchdog_interval_s")
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._lost.wait()
            if self._lost.is_set():
                self._set_health(Health.DOWN, "port lost")
                await self._modem.close()
                return
            if self.status.health is Health.BUSY:
                continue  # a send in progress proves the modem alive
            try:
                if self._modem.rebooted:
                    _LOGGER.warning("%s: re-initialising after an unrequested reboot", self.name)
                    await self._modem.initialise()
                await self._modem.ping()
                await self._refresh_signal()
                self._unblock_if_due()
            except ModemError as exc:
                _LOGGER.warning("%s: watchdog: %s; resetting", self.name, exc)
                self._set_health(Health.DOWN, f"watchdog: {exc}")
                try:
                    await self._modem.reset()
                except ModemError as reset_error:
                    _LOGGER.error("%s: reset failed: %s", self.name, reset_error)
                    await self._modem.close()
                    return
                self._set_health(self._idle_health())

    async def _refresh_signal(self) -> None:
        with contextlib.suppress(ModemError):
            signal = await self._modem.signal()
            self.status.signal_dbm = signal.dbm
            self.status.signal_bars = signal.bars
            self._on_registration(await self._modem.query_registration())
            self.status.operator = await self._modem.operator()

    # ---- sender

    async def _serve(self) -> None:
        try:
            while True:
                if not self._usable.is_set():
                    await self._prefetch.give_back()  # blocked or lost: another modem takes it
                    await self._usable.wait()
                now = self._clock()
                wait_for_quota = self.quota.available_at(now) - now
                if wait_for_quota > 0:
                    await self._prefetch.give_back()
                    # Only time refills a quota; an enqueue must not wake us into a busy loop.
                    await asyncio.sleep(wait_for_quota)
                    continue
                self._wake.clear()  # cleared before the claim: an enqueue during it is not missed
                job = await self._prefetch.next_job(self.channels)
                if job is None:
                    due = await self._outbox.next_due_time(self.channels)
                    timeout = None if due is None else (due - _utcnow()).total_seconds()
                    await self._sleep_or_wake(timeout)
                    continue
                available = self._quota_available_at(job)
                if available == math.inf:
                    await self._fail_oversized(job)
                    continue
                if available > self._clock():
                    await self._outbox.unclaim(job.id, job.attempts)  # another modem takes it
                    await asyncio.sleep(available - now)
                    continue
                # Claim the next job now, so it is committed before this send ends; the
                # previous send's outcome is being committed too, in the same transaction.
                async with self._prefetch.claiming(self.channels):
                    await self._send(job)
        finally:
            await self._prefetch.give_back()

    async def _fail_oversized(self, job: OutboundMessage) -> None:
        """More parts than one of this SIM's windows allows: it could never go out here."""
        text = f"{self.name}: {segment_info(job.body).parts} parts exceed this SIM's send caps"
        message = await self._outbox.mark_failed(job.id, text)
        self._publish_message(message, message.state)

    def _quota_available_at(self, job: OutboundMessage) -> float:
        now = self._clock()
        if not self.quota.limits.windows() or job.channel is Channel.VOICE:
            return now  # no limits: spare segment_info, a third of our CPU per message
        return self.quota.available_at(now, segment_info(job.body).parts)

    async def _sleep_or_wake(self, timeout: float | None) -> None:
        if timeout is not None and timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def _send(self, job: OutboundMessage) -> None:
        """Send the job (an SMS, or a call); its outcome is committed in the background."""
        if job.channel is Channel.VOICE and not self._voice_calls.speaks(job):
            self._record(self._voice_calls.hand_over(job))
            return
        self._set_health(Health.BUSY)
        self._publish_message(job, "sending")
        started = time.monotonic()
        try:
            if job.channel is Channel.VOICE:
                outcome = await self._call(job)
            else:
                outcome = await self._send_sms(job, started)
        finally:
            self.status.busy_seconds += time.monotonic() - started
        self._record(outcome)
        if self.status.health is Health.BUSY:
            self._set_health(self._idle_health())

    async def _send_sms(self, job: OutboundMessage, started: float) -> Awaitable[OutboundMessage]:
        """Write the job's AT+CMGS; return the outbox update to commit."""
        sent: list[SentPart] = []
        error: ModemError | None = None
        try:
            await self._modem.send_sms(
                job.destination, job.body, priority=_priority(job), on_part_sent=sent.append
            )
        except ModemError as exc:
            error = exc
        finally:
            if sent:
                self.quota.record(self._clock(), len(sent))
                self.status.sent_parts += len(sent)
                per_part = (time.monotonic() - started) / len(sent)
                self.status.seconds_per_part += RATE_SMOOTHING * (
                    per_part - self.status.seconds_per_part
                )
        if error is not None:
            return self._handle_failure(job, error, partial=bool(sent))
        refs = [PartRef(self.name, p.sequence, p.message_reference) for p in sent]
        self.status.consecutive_failures = 0
        self.status.last_error = None
        return self._outbox.mark_sent(job.id, refs)

    async def _call(self, job: OutboundMessage) -> Awaitable[OutboundMessage]:
        """Place a voice job's call (it occupies the modem like a send)."""
        try:
            record = await self._voice_calls.place(job)
        except ModemError as exc:
            return self._handle_failure(job, exc, partial=False)
        if record.outcome is not CallOutcome.FAILED:
            self.status.consecutive_failures = 0
        return self._voice_calls.settle(job, record, self._retry_or_fail)

    @property
    def _voice_calls(self) -> ModemCalls:
        assert self._calls is not None, "voice job claimed by a modem that serves no voice"
        return self._calls

    def _record(self, outcome: Awaitable[OutboundMessage]) -> None:
        """Commit a send's outcome while the modem goes on with the next job."""
        task = asyncio.ensure_future(outcome)
        self._recording.add(task)
        task.add_done_callback(self._recorded)

    def _recorded(self, task: asyncio.Future[OutboundMessage]) -> None:
        self._recording.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            _LOGGER.error("%s: recording a send's outcome failed: %s", self.name, error)
            return
        message = task.result()
        self._publish_message(message, message.state)

    def _handle_failure(
        self, job: OutboundMessage, error: BaseException, *, partial: bool
    ) -> Awaitable[OutboundMessage]:
        """Judge the error now (health, blocking); return the outbox update to commit."""
        verdict = verdict_for(error)
        if partial and verdict is Verdict.MODEM:
            verdict = Verdict.UNKNOWN  # some parts reached the network
        text = f"{self.name}: {error}"
        self.status.last_error = text
        _LOGGER.warning("%s: message %d: %s → %s", self.name, job.id, error, verdict.value)
        if verdict is Verdict.FAIL:
            return self._outbox.mark_failed(job.id, text)
        if verdict is Verdict.RETRY:
            self._count_failure()
            return self._retry_or_fail(job, text)
        if verdict is Verdict.SIM:
            # Our SIM's fault, not the message's: give the claim back, retries unspent.
            self._block(self._config.get_float("dispatch.sim_block_s"), f"SIM: {error}")
            self._bus.publish("alarm", modem=self.name, reason=f"SIM cannot send: {error}")
            return self._outbox.unclaim(job.id, job.attempts)
        if verdict is Verdict.UNKNOWN:
            self._count_failure()
            return self._outbox.mark_unknown(job.id, text, retry_at=self._retry_time(job))
        # Nothing reached the network: the claim is given back, retries unspent.
        self._count_failure()
        return self._outbox.unclaim(job.id, job.attempts)

    async def _retry_or_fail(self, job: OutboundMessage, text: str) -> OutboundMessage:
        if job.attempts >= self._config.get_int("dispatch.max_attempts"):
            return await self._outbox.mark_failed(job.id, f"{text} (after {job.attempts} attempts)")
        return await self._outbox.schedule_retry(job.id, self._retry_time(job), text)

    def _retry_time(self, job: OutboundMessage) -> datetime:
        """Exponential backoff with jitter, so a congested network is not hammered in step."""
        base = self._config.get_float("dispatch.retry_base_s")
        ceiling = self._config.get_float("dispatch.retry_max_s")
        delay = min(ceiling, base * 2 ** max(0, job.attempts - 1)) * random.uniform(0.5, 1.5)
        return _utcnow() + timedelta(seconds=delay)

    def _count_failure(self) -> None:
        self.status.consecutive_failures += 1
        if self.status.consecutive_failures >= self._config.get_int(
            "dispatch.block_after_failures"
        ):
            self._block(
                self._config.get_float("dispatch.block_s"),
                f"{self.status.consecutive_failures} failures in a row",
            )

    def _block(self, seconds: float, reason: str) -> None:
        self.status.blocked_until = self._clock() + seconds
        self.status.block_reason = reason
        _LOGGER.warning("%s: out of rotation for %g s: %s", self.name, seconds, reason)
        self._set_health(Health.BLOCKED, reason)

    def _unblock_if_due(self) -> None:
        until = self.status.blocked_until
        if until is not None and self._clock() >= until:
            self.status.blocked_until = None
            self.status.block_reason = None
            self.status.consecutive_failures = 0
            self._set_health(self._idle_health())

    # ---- state

    def _idle_health(self) -> Health:
        if self.status.blocked_until is not None and self._clock() < self.status.blocked_until:
            return Health.BLOCKED
        if not self._modem.registration.registered:
            return Health.DEGRADED
        return Health.READY

    def _set_health(self, health: Health, reason: str | None = None) -> None:
        previous = self.status.health
        self.status.health = health
        if reason and health in (Health.DOWN, Health.BLOCKED):
            self.status.last_error = reason
        # DEGRADED (not registered) sends nothing: every send would fail with CMS 331.
        if health in (Health.READY, Health.BUSY):
            self._usable.set()
        else:
            self._usable.clear()
        self.status.quota_left = self.quota.remaining(self._clock())
        if health is not previous:
            self._bus.publish("modem", name=self.name, health=health.value, reason=reason or "")

    def _on_registration(self, registration: Registration) -> None:
        self._modem.registration = registration
        self.status.registration = registration.name
        if self.status.health in (Health.READY, Health.DEGRADED):
            self._set_health(self._idle_health())

    def _on_disconnect(self) -> None:
        self._usable.clear()
        self._lost.set()

    def _publish_message(self, message: OutboundMessage, state: str) -> None:
        self._bus.publish_message(message, modem=self.name, state=str(state))


def _priority(job: OutboundMessage) -> int:
    if job.message_class in _URGENT_CLASSES:
        return PRIORITY_URGENT
    if job.message_class in _BULK_CLASSES:
        return PRIORITY_BULK
    return PRIORITY_NORMAL


def _utcnow() -> datetime:
    return datetime.now(UTC)
