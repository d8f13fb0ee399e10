"""The admin pages in-process: LAN only, sign-in and roles, compose → preview → send, control,
progress stream, report and CSV, reference data, audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.campaigns.models import CampaignState, Role
from tests.admin.helpers import PASSWORD, AdminWeb, make_admin, running_admin
from web.admin.routes_campaigns import progress_events


@pytest.fixture
async def web(tmp_path: Path):
    async with running_admin(tmp_path) as client:
        yield client


async def zone_id(web: AdminWeb, name: str) -> int:
    return next(z.id for z in await web.service.reference.zones() if z.name == name)


async def test_outside_the_lan_every_admin_path_is_404(tmp_path: Path) -> None:
    async with running_admin(tmp_path, client=("203.0.113.7", 40000), residents=False) as web:
        for path in ("/admin/", "/admin/login", "/admin/campaigns", "/admin/nope"):
            response = await web.get(path)
            assert response.status_code == 404, path
            assert response.text == "Not found"
        assert (await web.client.post("/admin/login", data={})).status_code == 404
        # The resident pages still answer.
        assert (await web.get("/login")).status_code == 200


async def test_networks_are_configurable(tmp_path: Path) -> None:
    overrides = {"admin.allowed_networks": ["203.0.113.0/24"]}
    async with running_admin(
        tmp_path, client=("203.0.113.7", 1), overrides=overrides, residents=False
    ) as web:
        assert (await web.get("/admin/login")).status_code == 200
    async with running_admin(
        tmp_path / "b", client=("192.168.1.2", 1), overrides=overrides, residents=False
    ) as web:
        assert (await web.get("/admin/login")).status_code == 404


async def test_sign_in_and_out_are_audited(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    assert (await web.get("/admin/campaigns")).headers["location"] == "/admin/login"
    response = await web.login("marie", "wrong password here")
    assert response.status_code == 400
    assert web.context["errors"] == {"form": "login"}
    response = await web.login("marie")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/campaigns"
    page = await web.get("/admin/campaigns")
    assert page.status_code == 200
    assert web.template == "admin/campaigns.html"
    await web.post("/admin/logout", {})
    assert (await web.get("/admin/campaigns")).status_code == 303
    actions = [(e.username, e.action) for e in await web.service.audit.recent()]
    assert actions == [("marie", "signout"), ("marie", "signin"), ("marie", "signin.failed")]


async def test_a_resident_cookie_does_not_open_admin_pages(web: AdminWeb) -> None:
    await web.get("/login")  # a resident session cookie
    assert (await web.get("/admin/campaigns")).status_code == 303


async def test_csrf_is_required(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    await web.get("/admin/login")
    response = await web.client.post(
        "/admin/login", data={"username": "marie", "password": PASSWORD, "csrf_token": "x"}
    )
    assert response.status_code == 403


async def test_viewer_reads_but_cannot_compose(web: AdminWeb) -> None:
    await make_admin(web, "paul", Role.VIEWER)
    await web.login("paul")
    assert (await web.get("/admin/campaigns")).status_code == 200
    response = await web.get("/admin/campaigns/new")
    assert response.status_code == 403
    assert web.context["reason"] == "forbidden"
    assert (await web.get("/admin/audit")).status_code == 403


async def compose_form(web: AdminWeb, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "title": "Avis d'ébullition",
        "body_fr": "Avis d’ébullition préventif : faites bouillir l’eau 1 minute.",
        "body_en": "Boil-water advisory: boil tap water for 1 minute.",
        "channels": "sms",
        "severity": "information",
        "target": "zones",
        "zone": [str(await zone_id(web, "Nord"))],
        "action": "preview",
    }
    form.update(changes)
    return form


async def test_preview_then_send_to_one_zone(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    await web.login("marie")
    assert (await web.get("/admin/campaigns/new")).status_code == 200
    response = await web.post("/admin/campaigns/new", await compose_form(web))
    assert response.status_code == 200, response.text[:300]
    preview = web.context["preview"]
    assert preview.residents_matched == 8  # 24 residents over 3 zones
    assert preview.sms_numbers >= 1
    french = preview.languages[0]
    assert french.encoding == "ucs2"
    assert "’" in french.forcing_chars
    assert "UCS-2" in response.text
    assert web.context["eta_text"] in ("inconnue", "unknown")  # no modem in this gateway

    # One click: the plain-GSM variant of the French text.
    response = await web.post("/admin/campaigns/new", await compose_form(web, action="plain_fr"))
    assert (
        web.context["values"]["body_fr"]
        == "Avis d'ébullition préventif : faites bouillir l'eau 1 minute."
    )
    assert web.context["preview"].languages[0].encoding == "gsm7"

    # Send needs the confirmation box.
    response = await web.post("/admin/campaigns/new", await compose_form(web, action="send"))
    assert response.status_code == 400
    assert web.context["errors"] == {"confirm": "confirm"}
    response = await web.post(
        "/admin/campaigns/new", await compose_form(web, action="send", confirm="yes")
    )
    assert response.status_code == 303
    location = response.headers["location"]
    campaign_id = int(location.rsplit("/", 1)[1])
    page = await web.get(location)
    assert page.status_code == 200
    progress = web.context["progress"]
    assert progress.total == preview.sms_numbers
    assert progress.queued == progress.total  # no modem: everything waits
    rows = await web.gateway.outbox.counts_by_state(campaign_id)
    assert sum(rows.values()) == preview.sms_numbers

    # Pause holds the queued messages back; resume queues them again; cancel ends it.
    await web.post(f"{location}/pause", {})
    campaign = await web.service.get(campaign_id)
    assert campaign is not None
    assert campaign.state is CampaignState.PAUSED
    await web.get(location)
    assert web.context["progress"].cancelled == progress.total
    await web.post(f"{location}/resume", {})
    await web.get(location)
    assert web.context["progress"].queued == progress.total
    await web.post(f"{location}/cancel", {})
    await web.get(location)
    assert web.context["progress"].cancelled == progress.total
    assert web.context["campaign"].state is CampaignState.CANCELLED
    await web.post(f"{location}/resume", {})  # not allowed any more
    assert (await web.get(location)).status_code == 200
    assert "state" in str(web.context["flashes"])

    # Report, filters, CSV.
    await web.get(f"{location}/report?state=cancelled")
    assert web.context["total"] == progress.total
    await web.get(f"{location}/report?state=delivered")
    assert web.context["total"] == 0
    csv_response = await web.get(f"{location}/report.csv")
    assert csv_response.headers["content-type"].startswith("text/csv")
    lines = csv_response.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("residents,number,channel")
    assert len(lines) == progress.total + 1
    actions = [e.action for e in await web.service.audit.recent()]
    for action in ("campaign.send", "campaign.pause", "campaign.resume", "campaign.cancel"):
        assert action in actions
    assert "campaign.export" in actions

    # History lists it.
    await web.get("/admin/campaigns")
    assert [c.id for c, _p in web.context["rows"]] == [campaign_id]


async def test_compose_errors_are_reported(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    await web.login("marie")
    response = await web.post(
        "/admin/campaigns/new", await compose_form(web, title="", zone=[], body_fr="")
    )
    assert response.status_code == 400
    assert web.context["errors"] == {"title": "title", "body_fr": "body", "zones": "zones"}
    response = await web.post(
        "/admin/campaigns/new",
        await compose_form(web, target="range", range_street="1", civic_from="50", civic_to="10"),
    )
    assert web.context["errors"] == {"range_street": "range"}


async def test_progress_stream_sends_a_snapshot(web: AdminWeb) -> None:
    admin = await make_admin(web, "marie", Role.OPERATOR)
    await web.login("marie")
    await web.post("/admin/campaigns/new", await compose_form(web, action="send", confirm="yes"))
    [(campaign, _progress)] = await web.service.history()
    frames = progress_events(web.service, campaign, str, lifetime=0.05)
    assert await anext(frames) == "retry: 2000\n\n"
    frame = await anext(frames)
    assert frame.startswith("data: {")
    assert '"queued"' in frame
    await frames.aclose()
    await web.service.cancel(campaign.id, admin)


async def test_streets_csv_import(web: AdminWeb) -> None:
    await make_admin(web, "root", Role.ADMIN)
    await web.login("root")
    await web.get("/admin/reference")
    text = "name,zone\nRUE NOUVELLE,Sud\nRUE SAINT-LOUIS,Nord\n,Nord\nRUE NOUVELLE,Sud\n"
    response = await web.client.post(
        "/admin/reference/streets",
        data={"csrf_token": web.csrf},
        files={"file": ("streets.csv", text.encode(), "text/csv")},
        headers={"origin": "http://testserver"},
    )
    assert response.status_code == 200, response.text[:500]
    result = web.context["result"]
    assert (result.added, result.moved) == (1, 1)
    assert [reason for _line, reason in result.rejected] == ["name", "duplicate"]
    streets = {s.name: s.zone for s in await web.service.reference.streets()}
    assert streets["RUE NOUVELLE"] == "Sud"
    assert streets["RUE SAINT-LOUIS"] == "Nord"
