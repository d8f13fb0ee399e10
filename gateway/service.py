"""The composition root: storage, outbox, inbox, modem pool and event bus in one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import TracebackType

from gateway.backup import ServiceLock, start_scheduled, stop_scheduled
from gateway.calls.outcomes import CallStore
from gateway.calls.runner import CallRunner, CallSettings
from gateway.config import Config, ModemSettings
from gateway.dispatcher import ModemPool
from gateway.events import EventBus
from gateway.health import HealthMonitor
from gateway.inbound.router import InboundRouter
from gateway.inbound.settings import InboundSettings
from gateway.metrics import Metrics
from gateway.outbox import Outbox, RecoveryReport
from gateway.residents.purge import start_purging, stop_purging
from gateway.residents.settings import ResidentSettings
from gateway.retention import start_scheduled as start_retention
from gateway.retention import stop_scheduled as stop_retention
from gateway.speech import EspeakEngine, Speech
from gateway.storage.database import Database
from gateway.storage.inbox import Inbox, pdu_hash
from gateway.webhooks.dispatcher import WebhookDispatcher
from gateway.webhooks.settings import WebhookSettings
from modem.types import DeliveryReport, ReceivedSms

_LOGGER = logging.getLogger(__name__)


class Gateway:
    """Starts and stops everything the service runs; the web app and the CLI hold one."""

    def __init__(self, config: Config, modems: tuple[ModemSettings, ...] | None = None) -> None:
        self.config = config
        self.modem_settings = modems if modems is not None else config.modems
        self.bus = EventBus()
        self.db: Database | None = None
        self.recovery: RecoveryReport | None = None
        self._outbox: Outbox | None = None
        self._inbox: Inbox | None = None
        self._pool: ModemPool | None = None
        self._router: InboundRouter | None = None
        self._calls: CallRunner | None = None
        self._lock: ServiceLock | None = None
        self._backups: asyncio.Task[None] | None = None
        self._health: HealthMonitor | None = None
        self._metrics: Metrics | None = None
        self._purge: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None
        self._webhooks: WebhookDispatcher | None = None

    @property
    def health(self) -> HealthMonitor:
        assert self._health is not None, "gateway not started"
        return self._health

    @property
    def metrics(self) -> Metrics:
        assert self._metrics is not None, "gateway not started"
        return self._metrics

    @property
    def outbox(self) -> Outbox:
        assert self._outbox is not None, "gateway not started"
        return self._outbox

    @property
    def inbox(self) -> Inbox:
        assert self._inbox is not None, "gateway not started"
        return self._inbox

    @property
    def calls(self) -> CallRunner:
        assert self._calls is not None, "gateway not started"
        return self._calls

    @property
    def router(self) -> InboundRouter:
        assert self._router is not None, "gateway not started"
        return self._router

    @property
    def webhooks(self) -> WebhookDispatcher:
        assert self._webhooks is not None, "gateway not started"
        return self._webhooks

    @property
    def pool(self) -> ModemPool:
        assert self._pool is not None, "gateway not started"
        return self._pool

    async def start(self) -> None:
        path = Path(self.config.get_str("storage.path"))
        path.parent.mkdir(parents=True, exist_ok=True)
        webhook_settings = WebhookSettings.from_config(self.config.values)  # refuse bad ones first
        # Held while running: `tocsin restore` refuses to swap the file under a live gateway.
        self._lock = ServiceLock.acquire(path)
        try:
            self.db = await Database.open(path)
        except BaseException:
            # A database that will not open (newer schema, bad file) must not stay locked.
            self._lock.release()
            self._lock = None
            raise
        self._outbox = Outbox(self.db)
        self._inbox = Inbox(self.db)
        # Rows left in `sending` by a crash or power cut: resend or mark unknown, per class.
        self.recovery = await self._outbox.recover_after_restart()
        _LOGGER.info("start-up recovery: %s", self.recovery)
        # Before the modems start: what a previous run left unrouted goes first.
        self._router = InboundRouter(
            self.db,
            self._outbox,
            self._inbox,
            InboundSettings.from_config(self.config),
            bus=self.bus,
        )
        await self._router.start()
        # Before the modems: no state change or inbound SMS of this run goes unseen.
        self._webhooks = WebhookDispatcher(
            self.db, self.bus, self._outbox, self._inbox, webhook_settings
        )
        self._webhooks.start()
        speech_dir = self.config.get_str("calls.speech_cache") or str(path.parent / "speech-cache")
        self._calls = CallRunner(
            outbox=self._outbox,
            store=CallStore(self.db),
            speech=Speech(EspeakEngine(), Path(speech_dir)),
            bus=self.bus,
            settings=CallSettings.from_config(self.config),
            town=self.config.get_str("town.name"),
        )
        self._pool = ModemPool(
            self.modem_settings,
            outbox=self._outbox,
            bus=self.bus,
            config=self.config,
            on_sms=self._store_inbound,
            on_report=self._store_report,
            calls=self._calls,
        )
        self._pool.start()
        self._health = HealthMonitor(
            self.config, pool=self._pool, outbox=self._outbox, db=self.db, bus=self.bus
        )
        self._health.start()
        self._metrics = Metrics(self._health, self.bus)
        self._backups = start_scheduled(self.config)
        self._purge = start_purging(self.db, ResidentSettings.from_config(self.config.values))
        self._retention = start_retention(self.db, self.config, self._outbox)

    async def stop(self) -> None:
        await stop_scheduled(self._backups)
        self._backups = None
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None
        if self._health is not None:
            await self._health.stop()
            self._health = None
        await stop_purging(self._purge)
        self._purge = None
        await stop_retention(self._retention)
        self._retention = None
        if self._pool is not None:
            await self._pool.stop()
            self._pool = None
        if self._router is not None:
            await self._router.stop()
            self._router = None
        if self._webhooks is not None:
            await self._webhooks.stop()
            self._webhooks = None
        if self.db is not None:
            await self.db.close()
            self.db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _store_inbound(self, sms: ReceivedSms) -> None:
        """Commit before the modem deletes it (this returning is the go-ahead to delete)."""
        message_id, is_new = await self.inbox.store_inbound(
            modem=sms.modem,
            sender=sms.sender,
            text=sms.text,
            network_timestamp=sms.timestamp,
            pdu_hash=pdu_hash(sms.pdus),
            concat_ref=sms.concat_reference,
            part_info=(sms.parts_received, sms.parts_expected),
            complete=sms.complete,
        )
        if is_new:
            self.bus.publish("inbound", id=message_id, sender=sms.sender, modem=sms.modem)
            if self._router is not None:
                self._router.submit(message_id)

    async def _store_report(self, report: DeliveryReport) -> None:
        message = await self.outbox.record_status_report(
            report.modem, report.message_reference, report.status, recipient=report.recipient
        )
        if message is not None:
            self.bus.publish_message(message, modem=report.modem)
