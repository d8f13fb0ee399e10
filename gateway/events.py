"""An in-process event bus: message state and modem health changes, for the web layer to stream.

Publishing never blocks and never fails: a subscriber that falls behind loses its oldest
events (and is told how many), so a slow browser cannot stall the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from gateway.outbox import OutboundMessage

_LOGGER = logging.getLogger(__name__)

# Enough for a few seconds of a busy campaign on eight modems; older events are dropped.
SUBSCRIBER_QUEUE_SIZE: Final = 1000


@dataclass(frozen=True)
class Event:
    kind: str  # "message" | "modem" | "alarm"
    data: dict[str, object]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Subscription:
    """One subscriber's queue; iterate it, close it when done."""

    def __init__(self, bus: EventBus, kinds: frozenset[str] | None) -> None:
        self._bus = bus
        self.kinds = kinds
        self.queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.kinds is not None and event.kind not in self.kinds:
            return
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def next(self, timeout: float | None = None) -> Event:
        async with asyncio.timeout(timeout):
            return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        self._listeners: list[Listener] = []

    def publish(self, kind: str, **data: object) -> None:
        event = Event(kind, dict(data))
        for subscriber in list(self._subscribers):
            subscriber.offer(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("event listener failed on a %s event", kind)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` synchronously on every event (metrics, alarms: cheap, never lost);
        returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe(self, kinds: set[str] | None = None) -> Subscription:
        subscription = Subscription(self, frozenset(kinds) if kinds else None)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish_message(self, message: OutboundMessage, *, modem: str, state: str = "") -> None:
        """A message changed state (`state` when it differs from the row's, e.g. "sending")."""
        latency: float | None = None
        sent = str(message.state) == "sent" and state in ("", "sent")
        if sent and message.sent_at is not None:
            latency = (message.sent_at - message.created_at).total_seconds()
        self.publish(
            "message",
            id=message.id,
            state=state or str(message.state),
            message_class=message.message_class.value,
            campaign_id=message.campaign_id,
            destination=message.destination,
            modem=modem,
            latency_s=latency,  # enqueue → accepted by the network, once, when it is sent
        )
