"""Prometheus metrics: a registry per gateway, read at scrape time from the health report.

Gauges (messages per class and state, queue depth, modem state and signal, SIM balance, alarms,
free disk) are not kept up to date between scrapes: `Metrics.render()` reads the outbox and the
pool once and a custom collector turns that snapshot into families, so nothing costs anything
when nobody scrapes. The send latency histogram is fed by the event bus: each message the
network accepts is observed once (enqueue → sent), whichever modem sent it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.events import Event, EventBus
from gateway.health import HealthMonitor, HealthReport
from gateway.modem_worker import Health
from gateway.outbox import MessageClass, MessageState

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
# From an OTP sent at once (~1-3 s on a real modem) to an alert message that waited behind
# thousands of others (an hour).
LATENCY_BUCKETS: Final = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 7200)


class Metrics:
    """The gateway's /metrics: `render()` returns the exposition text."""

    def __init__(self, health: HealthMonitor, bus: EventBus) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._health = health
        self._snapshot = _Snapshot(self)
        self.registry.register(self._snapshot)
        self.latency = Histogram(
            "tocsin_send_latency_seconds",
            "Time from enqueue to the network accepting the message, per class.",
            ["message_class"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for message_class in MessageClass:
            self.latency.labels(message_class.value)  # every class present from the start
        self._unlisten: Callable[[], None] | None = bus.listen(self._on_event)
        self.report: HealthReport | None = None
        self.counts: dict[tuple[MessageClass, MessageState], int] = {}

    def close(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    async def render(self) -> bytes:
        """Read the state now and format every family."""
        self.report = await self._health.report()
        self.counts = await self._health.counts_by_class_and_state()
        return generate_latest(self.registry)

    def _on_event(self, event: Event) -> None:
        latency = event.data.get("latency_s")
        if event.kind == "message" and isinstance(latency, int | float):
            self.latency.labels(str(event.data.get("message_class", ""))).observe(
                max(0.0, float(latency))
            )


class _Snapshot(Collector):
    """Families built from the last `render()`'s reading."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        report = self._metrics.report
        if report is None:
            return
        messages = GaugeMetricFamily(
            "tocsin_messages",
            "Outbox messages per class and state.",
            labels=["message_class", "state"],
        )
        for (message_class, state), count in sorted(self._metrics.counts.items()):
            messages.add_metric([message_class.value, state.value], count)
        yield messages
        depth = GaugeMetricFamily(
            "tocsin_queue_depth", "Messages queued per class.", labels=["message_class"]
        )
        for message_class, count in sorted(report.queue_depth.items()):
            depth.add_metric([message_class.value], count)
        yield depth
        oldest = GaugeMetricFamily(
            "tocsin_queue_oldest_due_seconds",
            "How long the oldest due message has waited (0: none).",
        )
        oldest.add_metric([], report.oldest_due_s or 0.0)
        yield oldest
        yield from _modem_families(report)
        alarms = GaugeMetricFamily(
            "tocsin_alarms_active", "Active alarms per kind.", labels=["kind"]
        )
        kinds: dict[str, int] = {}
        for alarm in report.alarms:
            kinds[alarm.kind.value] = kinds.get(alarm.kind.value, 0) + 1
        for kind in ("modem_down", "credit_low", "queue_stuck", "disk_low", "event"):
            alarms.add_metric([kind], kinds.get(kind, 0))
        yield alarms
        disk = GaugeMetricFamily(
            "tocsin_disk_free_bytes", "Free space on the database's file system."
        )
        disk.add_metric([], report.disk_free_bytes)
        yield disk


def _modem_families(report: HealthReport) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "tocsin_modem_state",
        "1 for the modem's current state (down, ready, busy, degraded, blocked).",
        labels=["modem", "state"],
    )
    bars = GaugeMetricFamily("tocsin_modem_signal_bars", "Signal, 0-5 bars.", labels=["modem"])
    dbm = GaugeMetricFamily(
        "tocsin_modem_signal_dbm", "Signal strength (dBm), when known.", labels=["modem"]
    )
    sent = GaugeMetricFamily(
        "tocsin_modem_sent_parts_24h", "SMS parts sent in the last 24 h.", labels=["modem"]
    )
    balance = GaugeMetricFamily(
        "tocsin_sim_balance", "The SIM's last balance read by USSD.", labels=["modem"]
    )
    for modem in report.modems:
        for health in Health:
            state.add_metric([modem.name, health.value], 1 if modem.state == health.value else 0)
        bars.add_metric([modem.name], modem.signal_bars)
        if modem.signal_dbm is not None:
            dbm.add_metric([modem.name], modem.signal_dbm)
        sent.add_metric([modem.name], modem.sent_24h)
        if modem.balance is not None and modem.balance.amount is not None:
            balance.add_metric([modem.name], float(modem.balance.amount))
    yield from (state, bars, dbm, sent, balance)
