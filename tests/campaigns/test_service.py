"""Campaigns on simulated modems: a zone gets its alert in each resident's language and nobody
else gets anything; cancel stops what is queued; pause and resume lose and duplicate nothing;
staff accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.campaigns.admins import AdminError
from gateway.campaigns.models import Admin, CampaignState, Channels, Draft, Role, Severity
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.campaigns.service import CampaignService, idempotency_key
from gateway.campaigns.settings import CampaignSettings
from gateway.campaigns.targeting import Target, TargetKind
from gateway.outbox import MessageState
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.gateway.conftest import make_config, modem_settings

PASSWORD = "une phrase de passe assez longue"
DRAFT = Draft(
    "Avis", "Avis d'ébullition: faites bouillir l'eau.", "Boil-water advisory.",
    Channels.SMS, Severity.INFORMATION,
)  # fmt: skip


class Town:
    def __init__(self, sim: Simulator, gateway: Gateway, service: CampaignService) -> None:
        self.sim = sim
        self.gateway = gateway
        self.service = service

    async def zone(self, name: str) -> Target:
        zones = {z.name: z.id for z in await self.service.reference.zones()}
        return Target(TargetKind.ZONES, zone_ids=(zones[name],))

    async def admin(self) -> Admin:
        return await self.service.accounts.create("op", PASSWORD, Role.OPERATOR)

    async def wait_done(self, campaign_id: int, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while True:
                campaign = await self.service.get(campaign_id)
                assert campaign is not None
                progress = await self.service.progress(campaign)
                if progress.total and progress.finished == progress.total:
                    return
                await asyncio.sleep(0.05)


@pytest.fixture
async def town_(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Town]:
    scale = getattr(request, "param", 0.01)
    async with (
        Simulator(modems=2, phones=12, scale=scale) as sim,
        Gateway(make_config(tmp_path), modem_settings(sim)) as gateway,
    ):
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        zones = await streets_by_zone(gateway.db)
        phones = [p.number for p in sim.phones]
        await seed_residents(gateway.db, town(phones, zones, zone_names=["Nord", "Est", "Ouest"]))
        service = CampaignService(
            gateway.db, gateway.outbox, gateway.bus, gateway.pool, CampaignSettings()
        )
        async with asyncio.timeout(20):
            while not all(w.status.health.value == "ready" for w in gateway.pool.workers):
                await asyncio.sleep(0.02)
        yield Town(sim, gateway, service)


async def test_a_zone_gets_its_alert_in_each_language_and_nobody_else(town_: Town) -> None:
    admin = await town_.admin()
    target = await town_.zone("Nord")
    preview = await town_.service.preview(DRAFT, target)
    expected = {r.number: r.language for r in preview.recipients}
    assert expected  # residents 0, 3, 6, 9 are in Nord; 10 did not consent to SMS
    campaign_id = await town_.service.send(DRAFT, target, admin)
    await town_.wait_done(campaign_id)
    await asyncio.sleep(0.2)  # nothing more may arrive
    for phone in town_.sim.phones:
        texts = [m.text for m in phone.inbox if m.text.startswith(("Avis", "Boil"))]
        if phone.number in expected:
            body = DRAFT.body_en if expected[phone.number] == "en" else DRAFT.body_fr
            assert texts == [body], phone.number
        else:
            assert texts == [], phone.number
    campaign = await town_.service.get(campaign_id)
    assert campaign is not None
    assert campaign.state is CampaignState.DONE
    progress = await town_.service.progress(campaign)
    assert progress.delivered == len(expected)
    total, rows = await town_.service.report(campaign_id)
    assert total == len(expected)
    assert {row.state for row in rows} == {"delivered"}
    timeline = await town_.service.timeline(campaign)
    assert sum(timeline.counts) == len(expected)
    assert sum(n for _m, n in timeline.per_modem) == len(expected)


@pytest.mark.parametrize("town_", [0.3], indirect=True)
async def test_cancel_mid_way_sends_nothing_further(town_: Town) -> None:
    admin = await town_.admin()
    everyone = Target(TargetKind.EVERYONE)
    campaign_id = await town_.service.send(DRAFT, everyone, admin)
    events = town_.gateway.bus.subscribe({"message"})
    async with asyncio.timeout(20):
        while (await events.next()).data["state"] != "sent":
            pass
    await town_.service.cancel(campaign_id, admin)
    counts = await town_.gateway.outbox.counts_by_state(campaign_id)
    in_flight = (
        counts[MessageState.SENDING]
        + counts[MessageState.SENT]
        + counts[MessageState.DELIVERED]
        + counts[MessageState.FAILED]
    )
    assert counts[MessageState.CANCELLED] > 0
    await asyncio.sleep(1.5)  # several send times at this scale
    received = sum(
        1 for phone in town_.sim.phones for m in phone.inbox if m.text.startswith(("Avis", "Boil"))
    )
    assert received <= in_flight
    after = await town_.gateway.outbox.counts_by_state(campaign_id)
    assert after[MessageState.CANCELLED] == counts[MessageState.CANCELLED]
    assert after[MessageState.QUEUED] == 0
    events.close()


@pytest.mark.parametrize("town_", [0.3], indirect=True)
async def test_pause_and_resume_lose_nothing_and_duplicate_nothing(town_: Town) -> None:
    admin = await town_.admin()
    target = Target(TargetKind.EVERYONE)
    preview = await town_.service.preview(DRAFT, target)
    campaign_id = await town_.service.send(DRAFT, target, admin)
    held = await town_.service.pause(campaign_id, admin)
    assert held > 0
    campaign = await town_.service.get(campaign_id)
    assert campaign is not None
    assert campaign.state is CampaignState.PAUSED
    assert await town_.service.resume(campaign_id, admin) == held
    await town_.wait_done(campaign_id)
    await asyncio.sleep(0.3)
    for recipient in preview.recipients:
        phone = next(p for p in town_.sim.phones if p.number == recipient.number)
        texts = [m.text for m in phone.inbox if m.text.startswith(("Avis", "Boil"))]
        assert len(texts) == 1, recipient.number
    total, _rows = await town_.service.report(campaign_id, state="delivered")
    assert total == len(preview.recipients)


async def test_eta_comes_from_the_pool(town_: Town) -> None:
    preview = await town_.service.preview(DRAFT, Target(TargetKind.EVERYONE))
    assert preview.eta_s is not None
    assert preview.eta_s > 0
    assert preview.sms_parts == preview.sms_numbers  # both texts fit one part


async def test_admin_accounts(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        service = CampaignService(
            gateway.db, gateway.outbox, gateway.bus, gateway.pool, CampaignSettings()
        )
        for username, password, code in [
            ("bob", "short", "too_short"),
            ("bob smith", PASSWORD, "username"),
            ("bob", "q1w2e3r4t5y6", "common"),
        ]:
            with pytest.raises(AdminError) as caught:
                await service.accounts.create(username, password, Role.VIEWER)
            assert caught.value.code == code
        admin = await service.accounts.create("Bob", PASSWORD, Role.ADMIN)
        with pytest.raises(AdminError, match="taken"):
            await service.accounts.create("bob", PASSWORD, Role.VIEWER)
        assert await service.accounts.authenticate("Bob", "nope nope nope") is None
        assert await service.accounts.authenticate("nobody", PASSWORD) is None
        found = await service.accounts.authenticate("Bob", PASSWORD)
        assert found is not None
        assert found.id == admin.id
        assert Role.ADMIN.allows(Role.OPERATOR)
        assert not Role.VIEWER.allows(Role.OPERATOR)


def test_idempotency_keys() -> None:
    assert idempotency_key(7, "sms", "+15145550101", 0) == "campaign:7:sms:+15145550101"
    assert idempotency_key(7, "sms", "+15145550101", 2) == "campaign:7:sms:+15145550101:2"
