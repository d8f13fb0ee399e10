"""The health page, the alarm banner and /metrics, in-process on simulated modems."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.campaigns.models import Role
from gateway.modem_worker import Health
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from modem.simulator import Simulator
from tests.admin.helpers import AdminWeb, make_admin, running_admin
from tests.gateway.conftest import modem_settings

WAIT = 10.0


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(modems=2, phones=2, scale=0.01) as simulator:
        for modem in simulator.modems:
            modem.ussd.template = "Votre solde est de {balance} $"
            modem.ussd.decimal = ","
        simulator.modems[0].balance = 12.34
        yield simulator


@pytest.fixture
async def web(sim: Simulator, tmp_path: Path) -> AsyncIterator[AdminWeb]:
    modems = modem_settings(sim, balance_ussd="*100#", per_day=500)
    overrides = {"health.balance_check_s": 0.0, "health.low_credit": 5.0}
    async with running_admin(
        tmp_path, modems=modems, overrides=overrides, residents=False
    ) as client:
        await eventually(
            lambda: all(s.health is Health.READY for s in client.gateway.pool.statuses())
        )
        yield client


async def test_health_page_shows_every_modem(web: AdminWeb, sim: Simulator) -> None:
    assert (await web.get("/admin/health")).headers["location"] == "/admin/login"
    await make_admin(web, "lea", Role.VIEWER)
    await web.login("lea")
    page = await web.get("/admin/health")
    assert page.status_code == 200
    assert web.template == "admin/health.html"
    report = web.context["report"]
    assert [m.name for m in report.modems] == ["sim0", "sim1"]
    assert report.modems[0].imei == sim.modems[0].imei
    assert report.modems[0].daily_cap == 500
    assert report.can_send
    assert sim.modems[0].imei in page.text
    assert sim.modems[0].operator in page.text
    assert "pas encore demandé" in page.text
    assert 'href="/admin/health"' in page.text  # the navigation link
    english = await web.get("/admin/health?lang=en")
    assert "System health" in english.text
    assert "not asked yet" in english.text


async def test_check_balance_now(web: AdminWeb, sim: Simulator) -> None:
    await make_admin(web, "lea", Role.VIEWER)
    await web.login("lea")
    await web.get("/admin/health")
    response = await web.post("/admin/health/balance", {"modem": "sim0"})
    assert response.status_code == 303
    page = await web.get("/admin/health")
    assert "Le solde a été demandé" in page.text
    reading = web.context["report"].modems[0].balance
    assert reading.amount == Decimal("12.34")
    assert "Votre solde est de 12,34 $" in page.text
    assert web.context["alarms"] == []

    sim.modems[1].set_no_credit()
    await web.post("/admin/health/balance", {})  # every SIM
    page = await web.get("/admin/campaigns")  # the banner is on every page
    assert [a.key for a in web.context["alarms"]] == ["credit_low:sim1"]
    assert "Alarmes en cours" in page.text
    assert "Crédit bas" in page.text

    assert (await web.post("/admin/health/balance", {"modem": "nope"})).status_code == 404
    forged = await web.client.post("/admin/health/balance", data={"modem": "sim0"})
    assert forged.status_code == 403


def families(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """name → {sorted labels → value} for every sample."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


async def scrape(web: AdminWeb) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = await web.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return families(response.text)


def messages_in(
    metrics: dict[str, dict[tuple[tuple[str, str], ...], float]], cls: str, *states: str
) -> float:
    return sum(metrics["tocsin_messages"][(("message_class", cls), ("state", s))] for s in states)


async def test_metrics_move_after_sending(web: AdminWeb, sim: Simulator) -> None:
    before = await scrape(web)
    assert messages_in(before, "otp", "sent", "delivered") == 0
    assert before["tocsin_send_latency_seconds_count"][(("message_class", "otp"),)] == 0
    assert before["tocsin_modem_state"][(("modem", "sim0"), ("state", "ready"))] == 1
    assert before["tocsin_modem_signal_bars"][(("modem", "sim0"),)] > 0
    assert before["tocsin_queue_depth"][(("message_class", "alert"),)] == 0
    assert before["tocsin_alarms_active"][(("kind", "credit_low"),)] == 0
    assert before["tocsin_disk_free_bytes"][()] > 0

    outbox = web.gateway.outbox
    ids = [
        await outbox.enqueue(
            NewMessage(MessageClass.OTP, Channel.SMS, phone.number, f"Code {i}", "fr")
        )
        for i, phone in enumerate(sim.phones)
    ]
    done = {MessageState.SENT, MessageState.DELIVERED}
    states: dict[int, MessageState] = {}

    async def all_sent() -> bool:
        for message_id in ids:
            message = await outbox.get(message_id)
            assert message is not None
            states[message_id] = message.state
        return all(s in done for s in states.values())

    async with asyncio.timeout(WAIT):
        while not await all_sent():
            await asyncio.sleep(0.05)
    registry = web.gateway.metrics.registry
    # Observed when the worker publishes the send, just after the row commits.
    await eventually(
        lambda: (
            registry.get_sample_value("tocsin_send_latency_seconds_count", {"message_class": "otp"})
            == len(ids)
        )
    )
    after = await scrape(web)
    assert messages_in(after, "otp", "sent", "delivered") == len(ids)
    assert after["tocsin_send_latency_seconds_count"][(("message_class", "otp"),)] == len(ids)
    sent_24h = after["tocsin_modem_sent_parts_24h"]
    assert sum(sent_24h.values()) == len(ids)

    await make_admin(web, "lea", Role.VIEWER)
    await web.login("lea")
    await web.get("/admin/health")
    await web.post("/admin/health/balance", {"modem": "sim0"})
    assert (await scrape(web))["tocsin_sim_balance"][(("modem", "sim0"),)] == pytest.approx(12.34)


async def test_metrics_outside_the_lan_and_with_a_token(tmp_path: Path) -> None:
    async with running_admin(tmp_path / "a", client=("203.0.113.7", 1), residents=False) as web:
        assert (await web.client.get("/metrics")).status_code == 404
    overrides = {"metrics.token": "un jeton secret"}
    async with running_admin(tmp_path / "b", overrides=overrides, residents=False) as web:
        assert (await web.client.get("/metrics")).status_code == 401
        wrong = {"authorization": "Bearer autre chose"}
        assert (await web.client.get("/metrics", headers=wrong)).status_code == 401
        right = {"authorization": "Bearer un jeton secret"}
        response = await web.client.get("/metrics", headers=right)
        assert response.status_code == 200
        assert "tocsin_messages" in response.text
