"""Pause, resume and cancel an alert through the API, in-process on a real SQLite file and on
simulated modems: the console's rules (409 when the state forbids), operator tokens only,
the audit log names the token, and a cancel mid-way sends nothing further."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.campaigns.models import CampaignState
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.outbox import MessageState
from modem.simulator import Simulator
from tests.api.helpers import ApiClient, running_api
from tests.api.test_routes import alert_body, error
from tests.gateway.conftest import modem_settings

ACTOR = "api:Travaux publics"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[ApiClient]:
    async with running_api(tmp_path) as client:
        yield client


async def new_alert(api: ApiClient) -> dict[str, Any]:
    response = await api.post("/alerts", alert_body(await api.zone_id("Nord")))
    assert response.status_code == 201, response.text
    alert: dict[str, Any] = response.json()
    return alert


async def audit_lines(api: ApiClient) -> list[tuple[str, str]]:
    return [(e.username, e.action) for e in await api.web.service.audit.recent()]


async def test_pause_resume_cancel_follow_the_consoles_rules(api: ApiClient) -> None:
    alert = await new_alert(api)
    total = alert["progress"]["total"]
    path = f"/alerts/{alert['id']}"

    paused = await api.post(f"{path}/pause", None)
    assert paused.status_code == 200, paused.text
    assert paused.headers["cache-control"] == "no-store"
    assert paused.json()["state"] == "paused"
    assert paused.json()["progress"]["cancelled"] == total  # no modem: everything was queued
    counts = await api.gateway.outbox.counts_by_state(alert["id"])
    assert counts[MessageState.QUEUED] == 0

    resumed = await api.post(f"{path}/resume", None)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["state"] == "sending"
    assert resumed.json()["progress"]["queued"] == total
    counts = await api.gateway.outbox.counts_by_state(alert["id"])
    assert counts[MessageState.QUEUED] == total

    cancelled = await api.post(f"{path}/cancel", None)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    counts = await api.gateway.outbox.counts_by_state(alert["id"])
    assert counts[MessageState.QUEUED] == 0
    campaign = await api.web.service.get(alert["id"])
    assert campaign is not None
    assert campaign.state is CampaignState.CANCELLED

    lines = await audit_lines(api)
    for action in ("campaign.pause", "campaign.resume", "campaign.cancel"):
        assert (ACTOR, action) in lines, action
    details = [e.detail for e in await api.web.service.audit.recent()]
    assert f"#{alert['id']}: {total} held" in details


async def test_a_state_that_does_not_allow_it_is_409(api: ApiClient) -> None:
    alert = await new_alert(api)
    path = f"/alerts/{alert['id']}"
    response = await api.post(f"{path}/resume", None)  # sending, not paused
    assert response.status_code == 409
    body = error(response)
    assert body["code"] == "wrong_state"
    assert "sending" in body["message"]
    assert (await api.post(f"{path}/pause", None)).status_code == 200
    assert (await api.post(f"{path}/pause", None)).status_code == 409
    assert (await api.post(f"{path}/cancel", None)).status_code == 200
    for action in ("pause", "resume", "cancel"):
        response = await api.post(f"{path}/{action}", None)
        assert response.status_code == 409, action
        assert "cancelled" in error(response)["message"]
    campaign = await api.web.service.get(alert["id"])
    assert campaign is not None
    assert campaign.state is CampaignState.CANCELLED
    # Refusals change nothing and log no action.
    actions = [action for _who, action in await audit_lines(api)]
    assert actions.count("campaign.cancel") == 1
    assert actions.count("campaign.pause") == 1


async def test_a_viewer_token_may_not_act(api: ApiClient) -> None:
    alert = await new_alert(api)
    for action in ("pause", "resume", "cancel"):
        response = await api.post(f"/alerts/{alert['id']}/{action}", None, token=api.viewer)
        assert response.status_code == 403, action
        assert error(response)["code"] == "forbidden"
    campaign = await api.web.service.get(alert["id"])
    assert campaign is not None
    assert campaign.state is CampaignState.SENDING
    counts = await api.gateway.outbox.counts_by_state(alert["id"])
    assert counts[MessageState.QUEUED] == alert["progress"]["total"]
    response = await api.client.post(f"/api/v1/alerts/{alert['id']}/cancel")  # no token
    assert response.status_code == 401


async def test_an_unknown_alert_is_404(api: ApiClient) -> None:
    for alert_id in (999, 2**64):
        for action in ("pause", "resume", "cancel"):
            response = await api.post(f"/alerts/{alert_id}/{action}", None)
            assert response.status_code == 404, (alert_id, action)
            assert error(response)["code"] == "not_found"
    assert (await api.post("/alerts/1/stop", None)).status_code == 404
    assert (await api.get("/alerts/1/cancel")).status_code == 405


async def test_cancel_mid_way_on_the_simulator_sends_nothing_further(tmp_path: Path) -> None:
    async with (
        Simulator(modems=2, phones=12, scale=0.3) as sim,
        running_api(tmp_path, modems=modem_settings(sim), residents=False) as api,
    ):
        db = api.gateway.db
        assert db is not None
        zones = await streets_by_zone(db)
        phones = [p.number for p in sim.phones]
        await seed_residents(db, town(phones, zones, zone_names=["Nord", "Est", "Ouest"]))
        async with asyncio.timeout(20):
            while not all(w.status.health.value == "ready" for w in api.gateway.pool.workers):
                await asyncio.sleep(0.02)
        events = api.gateway.bus.subscribe({"message"})
        response = await api.post("/alerts", alert_body(1, target={"kind": "everyone"}))
        assert response.status_code == 201, response.text
        alert_id = response.json()["id"]
        async with asyncio.timeout(20):
            while (await events.next()).data["state"] != "sent":
                pass
        response = await api.post(f"/alerts/{alert_id}/cancel", None)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "cancelled"
        counts = await api.gateway.outbox.counts_by_state(alert_id)
        in_flight = (
            counts[MessageState.SENDING]
            + counts[MessageState.SENT]
            + counts[MessageState.DELIVERED]
            + counts[MessageState.FAILED]
        )
        assert counts[MessageState.CANCELLED] > 0
        await asyncio.sleep(1.5)  # several send times at this scale
        received = sum(
            1 for phone in sim.phones for m in phone.inbox if m.text.startswith("Faites")
        )
        assert received <= in_flight
        after = await api.gateway.outbox.counts_by_state(alert_id)
        assert after[MessageState.CANCELLED] == counts[MessageState.CANCELLED]
        assert after[MessageState.QUEUED] == 0
        events.close()
