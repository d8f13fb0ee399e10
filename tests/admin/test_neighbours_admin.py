"""Neighbour alerts in the admin console: listing with delivery, moderation, the block list,
the town's post to one zone, roles and CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.campaigns.models import Role
from gateway.campaigns.seed import streets_by_zone
from gateway.inbound.lists import blocked_senders
from gateway.inbound.relay import NeighbourAlerts
from gateway.inbound.store import AlertState
from tests.admin.helpers import AdminWeb, make_admin, running_admin
from tests.inbound.helpers import add_resident, outbox_rows

SENDER = "+15145550171"
SAME_ZONE = ("+15145550172", "+15145550173")
OTHER_ZONE = "+15145550174"


def alerts_of(web: AdminWeb) -> NeighbourAlerts:
    alerts: NeighbourAlerts = web.recorder.app.state.neighbours
    return alerts


async def populate(web: AdminWeb) -> dict[str, int]:
    """A sender and two neighbours in one zone, one resident in another; zone ids by name."""
    assert web.gateway.db is not None
    streets = await streets_by_zone(web.gateway.db)
    first, second = sorted(streets)[:2]
    await add_resident(web.gateway, SENDER, street_id=streets[first][0], first_name="Antoine")
    for number in SAME_ZONE:
        await add_resident(web.gateway, number, street_id=streets[first][0], first_name="Lea")
    await add_resident(web.gateway, OTHER_ZONE, street_id=streets[second][0], first_name="Marc")
    zones = {z.name: z.id for z in await web.service.reference.zones()}
    return {"home": zones[first], "other": zones[second]}


async def sender_id(web: AdminWeb) -> int:
    assert web.gateway.db is not None
    async with web.gateway.db.read() as conn:
        rows = list(
            await conn.execute_fetchall("SELECT id FROM resident WHERE phone = ?", (SENDER,))
        )
    return int(rows[0][0])


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[AdminWeb]:
    overrides = {"neighbours.moderation": True}
    async with running_admin(tmp_path, residents=False, overrides=overrides) as client:
        yield client


async def relays(web: AdminWeb) -> list[tuple[str, str]]:
    return sorted(
        (dest, body) for cls, dest, body in await outbox_rows(web.gateway) if cls == "relay"
    )


async def test_list_shows_alerts_with_state_and_delivery(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "vera", Role.VIEWER)
    decision = await alerts_of(web).post(await sender_id(web), "Chien perdu rue Principale")
    assert decision is not None
    assert decision.state is AlertState.PENDING
    await web.login("vera")
    page = await web.get("/admin/neighbours")
    assert page.status_code == 200
    assert web.template == "admin/neighbours.html"
    assert [a.id for a in web.context["alerts"]] == [decision.alert_id]
    assert [a.id for a in web.context["pending"]] == [decision.alert_id]
    assert "Chien perdu rue Principale" in page.text
    assert "en attente de modération" in page.text
    assert page.text.count("<h1>") == 1
    # A viewer sees the queue but has no buttons, nor the town's form, nor the block form.
    assert "/approve" not in page.text
    assert 'action="/admin/neighbours/post"' not in page.text
    assert 'action="/admin/neighbours/blocks"' not in page.text
    english = await web.get("/admin/neighbours?lang=en")
    assert "Neighbour alerts" in english.text
    assert "awaiting moderation" in english.text


async def test_approve_relays_to_the_zone_and_is_audited(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "olga", Role.OPERATOR)
    decision = await alerts_of(web).post(await sender_id(web), "Voiture suspecte")
    assert decision is not None
    assert await relays(web) == []
    await web.login("olga")
    await web.get("/admin/neighbours")
    response = await web.post(f"/admin/neighbours/{decision.alert_id}/approve", {})
    assert response.status_code == 303
    assert sorted(dest for dest, _ in await relays(web)) == sorted(SAME_ZONE)
    assert all(body == "Antoine: Voiture suspecte" for _, body in await relays(web))
    alert = await alerts_of(web).get(decision.alert_id)
    assert alert is not None
    assert alert.state is AlertState.RELAYED
    assert alert.decided_by == "olga"
    await web.get("/admin/neighbours")
    assert web.context["pending"] == []
    delivery = web.context["deliveries"][decision.alert_id]
    assert (delivery.waiting, delivery.delivered, delivery.failed) == (2, 0, 0)
    # A second decision changes nothing.
    await web.post(f"/admin/neighbours/{decision.alert_id}/reject", {})
    assert (await alerts_of(web).get(decision.alert_id)).state is AlertState.RELAYED  # type: ignore[union-attr]
    entries = [(e.username, e.action, e.detail) for e in await web.service.audit.recent()]
    assert ("olga", "neighbour.approve", f"#{decision.alert_id}") in entries
    assert not any(action == "neighbour.reject" for _, action, _ in entries)


async def test_reject_relays_nothing(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "olga", Role.OPERATOR)
    decision = await alerts_of(web).post(await sender_id(web), "Rumeur")
    assert decision is not None
    await web.login("olga")
    await web.get("/admin/neighbours")
    assert (await web.post(f"/admin/neighbours/{decision.alert_id}/reject", {})).status_code == 303
    assert await relays(web) == []
    alert = await alerts_of(web).get(decision.alert_id)
    assert alert is not None
    assert alert.state is AlertState.REJECTED
    actions = [e.action for e in await web.service.audit.recent()]
    assert "neighbour.reject" in actions
    page = await web.get("/admin/neighbours")
    assert "rejetée" in page.text
    assert (await web.post("/admin/neighbours/999/approve", {})).status_code == 404


async def test_viewer_cannot_moderate(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "vera", Role.VIEWER)
    decision = await alerts_of(web).post(await sender_id(web), "Voiture suspecte")
    assert decision is not None
    await web.login("vera")
    await web.get("/admin/neighbours")
    response = await web.post(f"/admin/neighbours/{decision.alert_id}/approve", {})
    assert response.status_code == 403
    response = await web.post("/admin/neighbours/post", {"zone": "1", "body": "x"})
    assert response.status_code == 403
    assert await relays(web) == []


async def test_csrf_is_required(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "olga", Role.OPERATOR)
    decision = await alerts_of(web).post(await sender_id(web), "Voiture suspecte")
    assert decision is not None
    await web.login("olga")
    await web.get("/admin/neighbours")
    web.csrf = "forged"
    response = await web.post(f"/admin/neighbours/{decision.alert_id}/approve", {})
    assert response.status_code == 403
    assert await relays(web) == []


async def test_block_and_unblock(web: AdminWeb) -> None:
    await populate(web)
    await make_admin(web, "ada", Role.ADMIN)
    await make_admin(web, "olga", Role.OPERATOR)
    await web.login("olga")
    await web.get("/admin/neighbours")
    assert (
        await web.post("/admin/neighbours/blocks", {"number": "514 555-0171"})
    ).status_code == 403
    await web.post("/admin/logout", {})
    await web.login("ada")
    await web.get("/admin/neighbours")
    response = await web.post("/admin/neighbours/blocks", {"number": "pas un numéro"})
    assert response.status_code == 400
    assert web.context["neighbour_errors"] == {"number": "number"}
    response = await web.post(
        "/admin/neighbours/blocks", {"number": "(514) 555-0171", "reason": "  abus  répétés "}
    )
    assert response.status_code == 303
    assert web.gateway.db is not None
    blocked = await blocked_senders(web.gateway.db)
    assert [(b.number, b.reason, b.blocked_by) for b in blocked] == [
        (SENDER, "abus répétés", "ada")
    ]
    page = await web.get("/admin/neighbours")
    assert "(514) 555-0171" in page.text
    assert "Débloquer" in page.text
    assert (
        await web.post("/admin/neighbours/blocks/remove", {"number": SENDER})
    ).status_code == 303
    assert await blocked_senders(web.gateway.db) == []
    entries = [(e.action, e.detail) for e in await web.service.audit.recent()]
    assert ("neighbour.block", SENDER) in entries
    assert ("neighbour.unblock", SENDER) in entries


async def test_town_post_reaches_the_zone_only(web: AdminWeb) -> None:
    zones = await populate(web)
    await make_admin(web, "olga", Role.OPERATOR)
    await web.login("olga")
    await web.get("/admin/neighbours")
    response = await web.post("/admin/neighbours/post", {"zone": str(zones["home"]), "body": " "})
    assert response.status_code == 400
    assert web.context["neighbour_errors"] == {"body": "body"}
    response = await web.post("/admin/neighbours/post", {"zone": "9999", "body": "Bonjour"})
    assert response.status_code == 400
    assert web.context["neighbour_errors"] == {"zone": "zone"}
    response = await web.post(
        "/admin/neighbours/post",
        {"zone": str(zones["home"]), "body": "Travaux  rue Principale demain"},
    )
    assert response.status_code == 303
    sent = await relays(web)
    # Moderation does not hold the town's own post; the sender is a member like the others.
    assert sorted(dest for dest, _ in sent) == sorted((SENDER, *SAME_ZONE))
    assert all(body == "Ville de Démo: Travaux rue Principale demain" for _, body in sent)
    assert OTHER_ZONE not in {dest for dest, _ in sent}
    page = await web.get("/admin/neighbours")
    alert = web.context["alerts"][0]
    assert alert.sender_name == "Ville de Démo"
    assert alert.recipients == 3
    assert "la ville" in page.text
    actions = [e.action for e in await web.service.audit.recent()]
    assert "neighbour.post" in actions


async def test_nav_links_to_the_page(web: AdminWeb) -> None:
    await make_admin(web, "vera", Role.VIEWER)
    await web.login("vera")
    page = await web.get("/admin/campaigns")
    assert 'href="/admin/neighbours"' in page.text
