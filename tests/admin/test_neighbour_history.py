"""The admin's neighbour-alert list: filters and paging; one alert's page with each recipient's
delivery state from the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.campaigns.models import Role
from gateway.inbound import history
from gateway.inbound.history import AlertFilter
from gateway.inbound.store import AlertState
from gateway.inbound.town import post_as_town
from gateway.outbox import Channel
from gateway.storage.outbox_models import PartRef
from tests.admin.helpers import AdminWeb, make_admin, running_admin
from tests.admin.test_neighbours_admin import (
    OTHER_ZONE,
    SAME_ZONE,
    SENDER,
    alerts_of,
    populate,
    sender_id,
)


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[AdminWeb]:
    async with running_admin(tmp_path, residents=False) as client:
        yield client


async def _mixed(web: AdminWeb) -> dict[str, int]:
    """Two resident alerts in the home zone (one over the limit), three town posts."""
    zones = await populate(web)
    alerts = alerts_of(web)
    sender = await sender_id(web)
    for body in ("Chien perdu", "Vol de vélo"):
        assert await alerts.post(sender, body) is not None
    for n in range(2):
        await post_as_town(alerts, zones["home"], f"Avis {n}", by="police")
    await post_as_town(alerts, zones["other"], "Avis ailleurs", by="police")
    return zones


async def test_search_filters_and_pages(web: AdminWeb) -> None:
    zones = await _mixed(web)
    alerts = alerts_of(web)
    everything = await history.search(alerts, AlertFilter(), page=1, size=2)
    assert (everything.total, everything.pages, everything.page) == (5, 3, 1)
    assert [a.body for a in everything.alerts] == ["Avis ailleurs", "Avis 1"]
    last = await history.search(alerts, AlertFilter(), page=3, size=2)
    assert [a.body for a in last.alerts] == ["Chien perdu"]
    beyond = await history.search(alerts, AlertFilter(), page=99, size=2)
    assert beyond.page == 3
    in_other = await history.search(alerts, AlertFilter(zone_id=zones["other"]))
    assert [a.body for a in in_other.alerts] == ["Avis ailleurs"]
    by_name = await history.search(alerts, AlertFilter(sender="antoi"))
    assert {a.body for a in by_name.alerts} == {"Chien perdu", "Vol de vélo"}
    by_town = await history.search(alerts, AlertFilter(sender="town"))
    assert by_town.total == 3
    relayed = await history.search(alerts, AlertFilter(state=AlertState.RELAYED.value))
    assert relayed.total == 5
    wildcard = await history.search(alerts, AlertFilter(sender="%"))
    assert wildcard.total == 0  # LIKE characters are literal
    now = datetime.now().astimezone()
    today = await history.search(alerts, AlertFilter(since=now - timedelta(hours=1)))
    assert today.total == 5
    tomorrow = await history.search(alerts, AlertFilter(since=now + timedelta(days=1)))
    assert tomorrow.total == 0


async def test_search_by_number_any_way_it_is_typed(web: AdminWeb) -> None:
    await populate(web)
    from tests.inbound.helpers import receive

    await web.gateway.router.route(await receive(web.gateway, SENDER, "Par texto"))
    for typed in (SENDER, "514 555-0171", "(514) 5550171"):
        found = await history.search(alerts_of(web), AlertFilter(sender=typed))
        assert [a.body for a in found.alerts] == ["Par texto"], typed


async def test_list_page_filters_and_pages(web: AdminWeb) -> None:
    zones = await _mixed(web)
    await make_admin(web, "vera", Role.VIEWER)
    await web.login("vera")
    page = await web.get(f"/admin/neighbours?zone={zones['home']}&sender=town")
    assert page.status_code == 200
    assert [a.body for a in web.context["alerts"]] == ["Avis 1", "Avis 0"]
    assert web.context["filters"]["sender"] == "town"
    assert 'name="sender"' in page.text
    assert 'href="/admin/neighbours/' in page.text
    # Garbage in the address is ignored, not an error.
    page = await web.get("/admin/neighbours?zone=x&state=nope&from=yesterday&page=-3")
    assert page.status_code == 200
    assert web.context["found"].total == 5
    assert web.context["filters"]["state"] == ""
    today = datetime.now().astimezone().date().isoformat()
    await web.get(f"/admin/neighbours?from={today}&to={today}")
    assert web.context["found"].total == 5
    await web.get("/admin/neighbours?to=2000-01-01")
    assert web.context["found"].total == 0
    link = web.context["page_link"](2)
    assert link.startswith("/admin/neighbours?")
    assert "to=2000-01-01" in link
    assert "page=2" in link


async def test_list_pages_past_fifty(web: AdminWeb) -> None:
    zones = await populate(web)
    await make_admin(web, "vera", Role.VIEWER)
    for n in range(history.PAGE_SIZE + 1):
        await post_as_town(alerts_of(web), zones["other"], f"Avis {n}", by="police")
    await web.login("vera")
    first = await web.get("/admin/neighbours")
    assert len(web.context["alerts"]) == history.PAGE_SIZE
    assert 'rel="next"' in first.text
    second = await web.get("/admin/neighbours?page=2")
    assert [a.body for a in web.context["alerts"]] == ["Avis 0"]
    assert 'rel="prev"' in second.text


async def test_detail_page_shows_each_recipient_delivery(web: AdminWeb) -> None:
    zones = await populate(web)
    decision = await post_as_town(alerts_of(web), zones["home"], "Travaux demain", by="police")
    await make_admin(web, "vera", Role.VIEWER)
    await web.login("vera")
    # One message is sent, one failed; the third is still queued.
    outbox = web.gateway.outbox
    rows = {r.destination: r for r in await history.recipients(alerts_of(web), decision.alert_id)}
    assert set(rows) == {SENDER, *SAME_ZONE}
    assert OTHER_ZONE not in rows
    assert {r.state for r in rows.values()} == {"queued"}
    claimed = await outbox.claim_next("sim0", [Channel.SMS])
    assert claimed is not None
    await outbox.mark_sent(claimed.id, [PartRef("sim0", 1, 7)])
    again = await outbox.claim_next("sim0", [Channel.SMS])
    assert again is not None
    await outbox.mark_failed(again.id, "CMS ERROR 21")
    page = await web.get(f"/admin/neighbours/{decision.alert_id}")
    assert page.status_code == 200
    assert web.template == "admin/neighbour.html"
    states = {r.destination: r.state for r in web.context["recipients"]}
    assert states[claimed.destination] == "sent"
    assert states[again.destination] == "failed"
    assert sorted(states.values()) == ["failed", "queued", "sent"]
    assert "CMS ERROR 21" in page.text
    assert "envoyé" in page.text
    assert page.text.count("<h1>") == 1
    english = await web.get(f"/admin/neighbours/{decision.alert_id}?lang=en")
    assert "sent" in english.text
    missing = await web.get("/admin/neighbours/9999")
    assert missing.status_code == 404
