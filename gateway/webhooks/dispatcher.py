"""Webhook deliveries: events from the bus become stored rows, posted signed, retried.

Two tasks, apart from the modem dispatcher: a listener that turns bus events into
webhook_delivery rows (one per receiver), and a sender that posts what is due, a few at a
time, each POST bounded by a timeout. A slow or dead receiver therefore only delays its own
deliveries; the bus never waits on us (it drops the oldest events of a subscriber that falls
behind, which the listener logs).

Nothing is lost to a stop or a dropped bus event: inbound SMS are read back behind a cursor
over their ids, and API message states behind a cursor over api_message_event (rows a
trigger writes in the outbox's own transaction); for those the bus event is only a wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import httpx

from gateway.api.views import inbound_view, iso, message_view
from gateway.events import Event, EventBus, Subscription
from gateway.outbox import MessageClass, Outbox
from gateway.storage.database import Database
from gateway.storage.inbox import Inbox
from gateway.storage.times import utc_now
from gateway.webhooks import signing
from gateway.webhooks.settings import WebhookSettings
from gateway.webhooks.store import Delivery, DeliveryStore

_LOGGER = logging.getLogger(__name__)
# States an API caller wants to hear of (the trigger of migration 014 records these);
# `sending` and re-queues are noise.
REPORTED_STATES: Final = frozenset(
    {"sent", "delivered", "failed", "expired", "cancelled", "unknown"}
)
# A POST in flight is not due again for its timeout plus this margin.
LEASE_MARGIN: Final = timedelta(seconds=5)
USER_AGENT: Final = "Tocsin-Webhooks/1"
# Randomness on each backoff, so receivers coming back are not hit by a synchronised wave.
JITTER: Final = 0.1
# State changes no bus event announces (an expiry sweep, a cancel) are picked up this often.
MESSAGE_SWEEP_S: Final = 30.0


class WebhookDispatcher:
    """Started by the Gateway when webhooks.urls is set; stopped before the database closes."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        outbox: Outbox,
        inbox: Inbox,
        settings: WebhookSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.store = DeliveryStore(db, clock=clock)
        self._bus = bus
        self._outbox = outbox
        self._inbox = inbox
        self._transport = transport
        self._clock = clock
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._posts: set[asyncio.Task[None]] = set()
        self._in_flight: dict[asyncio.Task[None], str] = {}  # POST → its receiver

    def start(self) -> None:
        """Listen and send (pending deliveries of a previous run go first)."""
        if not self.settings.enabled:
            self._tasks = [
                asyncio.create_task(self._forget_message_events(), name="webhook history")
            ]
            return
        import httpx  # noqa: PLC0415 - ~5 MB of RSS that a box without webhooks never needs

        self._client = httpx.AsyncClient(
            timeout=self.settings.timeout_s,
            transport=self._transport,
            follow_redirects=False,  # a receiver that moved must be reconfigured, not guessed
            headers={"user-agent": USER_AGENT},
        )
        self._subscription = self._bus.subscribe({"inbound", "message"})
        self._tasks = [
            asyncio.create_task(self._listen(self._subscription), name="webhook listener"),
            asyncio.create_task(self._send_loop(), name="webhook sender"),
        ]

    async def stop(self) -> None:
        """Cancel the tasks and POSTs in flight (their leases make them due again later)."""
        for task in [*self._tasks, *self._posts]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._posts, return_exceptions=True)
        self._tasks, self._posts, self._in_flight = [], set(), {}
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def queue(
        self,
        event: str,
        event_id: str,
        data: dict[str, Any],
        *,
        inbound_id: int | None = None,
        message_event_id: int | None = None,
    ) -> int:
        """Store one event for every receiver and wake the sender; returns rows added."""
        if event not in self.settings.events:
            return 0
        body = json.dumps(
            {"id": event_id, "type": event, "created_at": iso(self._clock()), "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        added = await self.store.add(
            self.settings.urls,
            event,
            event_id,
            body,
            inbound_id=inbound_id,
            message_event_id=message_event_id,
        )
        self._wake.set()
        return added

    # ---- events → rows

    async def _listen(self, subscription: Subscription) -> None:
        if "sms.received" in self.settings.events:
            # Subscribed already: an SMS arriving now is queued twice at worst (then ignored).
            for inbound_id in await self.store.inbound_backlog():
                await self._inbound(inbound_id)
        await self.store.start_message_cursor()
        await self._message_events()
        dropped = 0
        while True:
            try:
                event = await subscription.next(timeout=MESSAGE_SWEEP_S)
            except TimeoutError:
                await self._sweep()
                continue
            if subscription.dropped != dropped:
                _LOGGER.warning(
                    "webhooks fell behind the event bus: %d event(s) dropped",
                    subscription.dropped - dropped,
                )
                dropped = subscription.dropped
            try:
                await self._on_event(event)
            except Exception:
                _LOGGER.exception("webhook event %s not stored", event.kind)

    async def _on_event(self, event: Event) -> None:
        data = event.data
        if event.kind == "inbound":
            await self._inbound(_int(data.get("id")))
            return
        if data.get("message_class") == MessageClass.API.value:
            # The row the state change committed is the truth; the event only says "look".
            await self._message_events()

    async def _message_events(self) -> None:
        """Turn the API message state changes behind the cursor into deliveries, in order."""
        while batch := await self.store.message_backlog():
            for change in batch:
                message = await self._outbox.get(change.message_id)
                if message is None or "message.status" not in self.settings.events:
                    await self.store.pass_message_event(change.id)
                    continue
                await self.queue(
                    "message.status",
                    f"message.status:{message.id}:{change.state}",
                    message_view(message, state=change.state),
                    message_event_id=change.id,
                )

    async def _sweep(self) -> None:
        try:
            await self._message_events()
        except Exception:
            _LOGGER.exception("webhook message states not stored")

    async def _forget_message_events(self) -> None:
        try:
            forgotten = await self.store.forget_message_events()
        except Exception:
            _LOGGER.exception("webhook message history not trimmed")
            return
        if forgotten:
            _LOGGER.info("no webhook receivers: %d message state change(s) dropped", forgotten)

    async def _inbound(self, inbound_id: int) -> None:
        found = await self._inbox.get_inbound(inbound_id)
        if found is not None:
            await self.queue(
                "sms.received",
                f"sms.received:{found.id}",
                inbound_view(found),
                inbound_id=found.id,
            )

    # ---- rows → POSTs

    async def _send_loop(self) -> None:
        lease = timedelta(seconds=self.settings.timeout_s) + LEASE_MARGIN
        while True:
            self._wake.clear()
            free = self.settings.concurrency - len(self._posts)
            if free > 0:
                for delivery in await self.store.claim(free, lease, self._in_flight.values()):
                    task = asyncio.create_task(self._post(delivery), name="webhook post")
                    self._posts.add(task)
                    self._in_flight[task] = delivery.url
                    task.add_done_callback(self._post_done)
            wait: float | None = None
            if len(self._posts) < self.settings.concurrency:
                due_at = await self.store.next_due_at(set(self._in_flight.values()))
                if due_at is not None:
                    wait = max(0.0, (due_at - self._clock()).total_seconds())
                    if wait == 0.0:
                        continue
            # Woken by a new event or a POST finishing; else at the next due time.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    def _post_done(self, task: asyncio.Task[None]) -> None:
        self._posts.discard(task)
        self._in_flight.pop(task, None)
        self._wake.set()

    async def _post(self, delivery: Delivery) -> None:
        try:
            await self._attempt(delivery)
        except Exception:  # a database error: the lease runs out and the POST is made again
            _LOGGER.exception(
                "webhook %s to %s: attempt not recorded", delivery.event_id, delivery.url
            )

    async def _attempt(self, delivery: Delivery) -> None:
        assert self._client is not None
        import httpx  # noqa: PLC0415 - loaded by start() already

        body = delivery.body.encode("utf-8")
        headers = {
            "content-type": "application/json",
            signing.SIGNATURE_HEADER: signing.header(self.settings.secret, body),
            signing.EVENT_HEADER: delivery.event,
            signing.DELIVERY_HEADER: delivery.event_id,
        }
        status: int | None = None
        try:
            response = await self._client.post(delivery.url, content=body, headers=headers)
            status = response.status_code
            error = "" if response.is_success else f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if status is not None and not error:
            await self.store.delivered(delivery.id, status)
            return
        attempts = delivery.attempts + 1
        if attempts >= self.settings.max_attempts:
            _LOGGER.warning(
                "webhook %s to %s given up after %d attempts: %s",
                delivery.event_id,
                delivery.url,
                attempts,
                error,
            )
            await self.store.attempt_failed(delivery.id, status=status, error=error, retry_in=None)
            self._bus.publish(
                "alarm", modem="", reason=f"webhook to {delivery.url} failed: {error}"
            )
            return
        delay = self.settings.retry_after(attempts) * random.uniform(1 - JITTER, 1 + JITTER)
        _LOGGER.info(
            "webhook %s to %s failed (%s); attempt %d in %.1f s",
            delivery.event_id,
            delivery.url,
            error,
            attempts + 1,
            delay.total_seconds(),
        )
        await self.store.attempt_failed(delivery.id, status=status, error=error, retry_in=delay)


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | str) else -1
