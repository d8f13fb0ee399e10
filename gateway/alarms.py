"""Alarms: raised once, cleared once, and told to the admins by SMS and email, rate-limited.

A condition checked every tick (modem down, credit low, queue stuck, disk low) is `set` while
it holds and `clear`ed when it stops; only the change is noted, so nothing repeats every tick.
One-off events (a budget exceeded, a SIM that refused to send) are `raise_for` a while. Each
alarm's notices go out at most once per `alarms.repeat_s`, so a flapping modem is told once.
SMS notices go through the outbox (class `reply`: before alerts, after codes), so they are
durable and sent by the first free modem; email uses the neighbour copies' SMTP settings.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Final

import aiosmtplib

from gateway.config import Config
from gateway.events import EventBus
from gateway.inbound.email import smtp_send
from gateway.inbound.settings import InboundSettings
from gateway.outbox import Channel, MessageClass, NewMessage, Outbox

_LOGGER = logging.getLogger(__name__)

# An alarm SMS not sent within this long (every modem down) is dropped: stale by then.
SMS_VALID: Final = timedelta(hours=6)


class AlarmKind(enum.StrEnum):
    MODEM_DOWN = "modem_down"
    CREDIT_LOW = "credit_low"
    QUEUE_STUCK = "queue_stuck"
    DISK_LOW = "disk_low"
    EVENT = "event"  # a one-off "alarm" event from the bus (budget exceeded, SIM refused)


@dataclass(frozen=True, slots=True)
class Alarm:
    key: str  # e.g. "modem_down:sim1"; one active alarm per key
    kind: AlarmKind
    subject: str  # the modem's name, or ""
    detail: str  # plain words for the banner and the notices (never a code or a password)
    raised_at: datetime
    until: datetime | None = None  # one-off alarms end by themselves then


_TEXTS: Final = {
    "fr": {
        AlarmKind.MODEM_DOWN: "modem {subject} hors service",
        AlarmKind.CREDIT_LOW: "crédit bas sur la SIM de {subject}",
        AlarmKind.QUEUE_STUCK: "file d'envoi bloquée",
        AlarmKind.DISK_LOW: "disque presque plein",
        AlarmKind.EVENT: "alarme",
        "raised": "{town} ALARME : {what} ({detail})",
        "cleared": "{town} fin d'alarme : {what}",
    },
    "en": {
        AlarmKind.MODEM_DOWN: "modem {subject} down",
        AlarmKind.CREDIT_LOW: "low credit on the SIM of {subject}",
        AlarmKind.QUEUE_STUCK: "send queue stuck",
        AlarmKind.DISK_LOW: "disk almost full",
        AlarmKind.EVENT: "alarm",
        "raised": "{town} ALARM: {what} ({detail})",
        "cleared": "{town} alarm over: {what}",
    },
}


def describe(alarm: Alarm, language: str) -> str:
    """The alarm in a few words, in `language` (fr or en)."""
    texts = _TEXTS.get(language, _TEXTS["fr"])
    return str(texts[alarm.kind]).format(subject=alarm.subject)


class AlarmBoard:
    """The active alarms, and who is told when one starts or ends."""

    def __init__(
        self,
        config: Config,
        *,
        outbox: Outbox,
        bus: EventBus,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._outbox = outbox
        self._bus = bus
        self._clock = clock
        self._active: dict[str, Alarm] = {}
        self._last_notice: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._smtp = InboundSettings.from_config(config)
        self.notices_sent = 0  # SMS enqueued + emails handed to SMTP, for tests and /metrics

    # ---- state

    def active(self) -> list[Alarm]:
        """Active alarms, oldest first; one-off ones past their time are dropped here."""
        now = self._clock()
        for key, alarm in list(self._active.items()):
            if alarm.until is not None and alarm.until <= now:
                self.clear(key)
        return sorted(self._active.values(), key=lambda a: a.raised_at)

    def set(self, kind: AlarmKind, subject: str, detail: str) -> None:
        """The condition holds: raise the alarm unless it is already up (detail refreshed)."""
        key = f"{kind.value}:{subject}"
        current = self._active.get(key)
        if current is not None:
            if current.detail != detail:
                self._active[key] = replace(current, detail=detail)
            return
        self._raise(Alarm(key, kind, subject, detail, self._clock()))

    def raise_for(self, subject: str, detail: str, seconds: float) -> None:
        """A one-off event: on the banner for `seconds` (again: the time is extended)."""
        key = f"{AlarmKind.EVENT.value}:{subject}:{detail}"
        now = self._clock()
        until = now + timedelta(seconds=seconds)
        current = self._active.get(key)
        if current is not None:
            self._active[key] = replace(current, until=until)
            return
        self._raise(Alarm(key, AlarmKind.EVENT, subject, detail, now, until))

    def clear(self, key: str) -> None:
        alarm = self._active.pop(key, None)
        if alarm is None:
            return
        _LOGGER.info("alarm cleared: %s", key)
        self._bus.publish("alarm_state", key=key, active=False)
        self._notify(alarm, raised=False)

    def clear_kind(self, kind: AlarmKind, subject: str) -> None:
        self.clear(f"{kind.value}:{subject}")

    async def stop(self) -> None:
        """Let notices being handed over finish (the outbox row, the SMTP exchange)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- notices

    def _raise(self, alarm: Alarm) -> None:
        self._active[alarm.key] = alarm
        _LOGGER.warning("alarm raised: %s: %s", alarm.key, alarm.detail)
        self._bus.publish("alarm_state", key=alarm.key, active=True, detail=alarm.detail)
        self._notify(alarm, raised=True)

    def _notify(self, alarm: Alarm, *, raised: bool) -> None:
        now = self._clock()
        last = self._last_notice.get(alarm.key)
        if last is not None and now - last < timedelta(seconds=self._repeat_s):
            _LOGGER.info("alarm %s: notice held back (told %s ago)", alarm.key, now - last)
            return
        numbers = list(self._config["alarms.sms_to"])
        addresses = list(self._config["alarms.email_to"]) if self._smtp.email_enabled else []
        if not numbers and not addresses:
            return
        self._last_notice[alarm.key] = now
        language = self._config.get_str("town.language")
        texts = _TEXTS.get(language, _TEXTS["fr"])
        text = str(texts["raised" if raised else "cleared"]).format(
            town=self._config.get_str("town.name"),
            what=describe(alarm, language),
            detail=alarm.detail,
        )
        task = asyncio.get_running_loop().create_task(
            self._deliver(alarm, text, numbers, addresses, now=now, language=language)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        alarm: Alarm,
        text: str,
        numbers: list[str],
        addresses: list[str],
        *,
        now: datetime,
        language: str,
    ) -> None:
        stamp = int(now.timestamp() * 1000)
        for number in numbers:
            try:
                await self._outbox.enqueue(
                    NewMessage(
                        message_class=MessageClass.REPLY,
                        channel=Channel.SMS,
                        destination=number,
                        body=text,
                        language=language,
                        valid_until=now + SMS_VALID,
                        idempotency_key=f"alarm:{alarm.key}:{stamp}:{number}",
                    )
                )
                self.notices_sent += 1
            except Exception:
                _LOGGER.exception("alarm %s: could not queue the SMS notice", alarm.key)
        for address in addresses:
            message = EmailMessage()
            message["From"] = self._smtp.email_from
            message["To"] = address
            message["Subject"] = text[:120]
            message.set_content(f"{text}\n")
            try:
                await smtp_send(self._smtp, message)
                self.notices_sent += 1
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                _LOGGER.warning("alarm %s: email notice failed: %s", alarm.key, exc)

    @property
    def _repeat_s(self) -> float:
        return self._config.get_float("alarms.repeat_s")
