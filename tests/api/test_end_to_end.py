"""End to end on simulated modems over real ptys: the API sends one SMS, the simulated phone
receives it, and a real webhook receiver hears its states and a phone's reply."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.campaigns.models import Role
from modem.simulator import Simulator
from tests.api.helpers import running_api
from tests.api.receiver import SECRET, running_receiver
from tests.gateway.conftest import modem_settings


async def test_api_sms_reaches_the_phone_and_webhooks_follow(tmp_path: Path) -> None:
    async with (
        Simulator(modems=1, phones=2, scale=0.01) as sim,
        running_receiver() as receiver,
    ):
        overrides = {
            "webhooks.urls": [receiver.url],
            "webhooks.secret": SECRET,
            "webhooks.retry_base_s": 0.05,
            "dispatch.retry_max_s": 0.2,
        }
        async with running_api(
            tmp_path, modems=modem_settings(sim), overrides=overrides, residents=False
        ) as api:
            phone = sim.phones[0]
            text = "Votre demande de permis n° 2026-118 est acceptée."
            response = await api.post("/messages", {"to": phone.number, "text": text}, key="p-118")
            assert response.status_code == 202, response.text
            message_id = response.json()["id"]

            async with asyncio.timeout(20):
                while True:
                    state = (await api.get(f"/messages/{message_id}")).json()["state"]
                    if state == "delivered":
                        break
                    await asyncio.sleep(0.05)
            assert [m.text for m in phone.inbox] == [text]
            # The retried POST sends nothing more.
            again = await api.post("/messages", {"to": phone.number, "text": text}, key="p-118")
            assert again.json()["id"] == message_id
            assert again.json()["state"] == "delivered"

            # The phone answers the town: the receiver gets it too.
            await sim.phones[1].send_sms(sim.modems[0].number, "Merci pour l'avis")
            posts = await receiver.wait_for(3)
            viewer = await api.service.tokens.create("lecture", Role.VIEWER, created_by="t")
            assert (
                await api.get(f"/messages/{message_id}", token=viewer.secret)
            ).status_code == 200

        states = [
            p.body["data"]["state"]
            for p in posts
            if p.event == "message.status" and p.body["data"]["id"] == message_id
        ]
        assert states == ["sent", "delivered"]
        inbound = [p.body["data"] for p in posts if p.event == "sms.received"]
        assert inbound == [
            {**inbound[0], "from": sim.phones[1].number, "text": "Merci pour l'avis"}
        ]
        assert all(p.signature_ok for p in receiver.posts)
        await asyncio.sleep(0.05)
        assert [m.text for m in phone.inbox] == [text]
