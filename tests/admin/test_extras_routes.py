"""The admin console's extras in-process: sign-in with a TOTP code (computed by pyotp, as an
authenticator app would), "my account", templates by role, scheduling from compose (edit,
cancel), quiet hours in the preview, odd/even ranges, and the per-modem chart fragment."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import pytest

from gateway.campaigns.models import Role, ScheduledState
from gateway.storage.times import utc_now
from tests.admin.helpers import AdminWeb, make_admin, running_admin
from tests.admin.test_routes import compose_form

_SECRET = re.compile(r'<p class="secret" id="secret">([A-Z2-7 ]+)</p>')


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[AdminWeb]:
    async with running_admin(tmp_path) as client:
        yield client


async def enrol(web: AdminWeb) -> pyotp.TOTP:
    """Through the account page: begin, read the secret off the page, confirm with a code."""
    await web.get("/admin/account")
    response = await web.post("/admin/account/totp", {"action": "begin"})
    assert response.status_code == 303
    page = await web.get("/admin/account")
    assert "otpauth://totp/" in web.context["uri"]
    assert '<svg role="img" class="qr"' in page.text
    found = _SECRET.search(page.text)
    assert found is not None
    app = pyotp.TOTP(found.group(1).replace(" ", ""))
    response = await web.post("/admin/account/totp", {"action": "confirm", "code": "12345"})
    assert response.status_code == 400
    assert web.context["errors"] == {"code": "totp_wrong"}
    response = await web.post("/admin/account/totp", {"action": "confirm", "code": app.now()})
    assert response.status_code == 303
    await web.get("/admin/account")
    assert web.context["totp"].enabled
    return app


async def test_totp_enrol_then_sign_in_needs_the_code(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    await web.login("marie")
    app = await enrol(web)
    await web.post("/admin/logout", {})

    # The password alone leads to the code page, not into the console.
    response = await web.login("marie")
    assert response.headers["location"] == "/admin/login/code"
    assert web.template == "admin/login_code.html"
    assert (await web.get("/admin/campaigns")).headers["location"] == "/admin/login"
    await web.get("/admin/login/code")
    # The code used to enrol was for this step: replaying it is refused.
    response = await web.post("/admin/login/code", {"code": app.now()})
    assert response.status_code == 400
    assert web.context["errors"] == {"code": "totp_wrong"}
    # The next step's code is inside the ±1 window and new.
    response = await web.post(
        "/admin/login/code", {"code": app.at(utc_now() + timedelta(seconds=30))}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/campaigns"
    assert (await web.get("/admin/campaigns")).status_code == 200

    entries = [
        (e.action, e.detail) for e in await web.service.audit.recent() if e.username == "marie"
    ]
    actions = [action for action, _detail in entries]
    for action in ("totp.enrol", "totp.confirm", "totp.failed", "signin"):
        assert action in actions, action
    assert ("totp.failed", "sign-in: replayed") in entries
    assert ("totp.failed", "confirm: wrong") in entries


async def test_turning_the_factor_off_needs_a_current_code(web: AdminWeb) -> None:
    admin = await make_admin(web, "marie", Role.OPERATOR)
    await web.login("marie")
    app = await enrol(web)
    response = await web.post("/admin/account/totp", {"action": "disable", "code": "abcdef"})
    assert response.status_code == 400
    assert web.context["totp"].enabled
    next_code = app.at(utc_now() + timedelta(seconds=30))
    response = await web.post("/admin/account/totp", {"action": "disable", "code": next_code})
    assert response.status_code == 303
    assert not (await web.service.totp.status(admin.id)).enabled
    actions = [e.action for e in await web.service.audit.recent()]
    assert "totp.disable" in actions


async def test_the_code_page_is_only_for_a_fresh_password(web: AdminWeb) -> None:
    await make_admin(web, "marie", Role.OPERATOR)
    response = await web.get("/admin/login/code")
    assert response.headers["location"] == "/admin/login"
    await web.get("/admin/login")
    response = await web.post("/admin/login/code", {"code": "123456"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"
    # A password of an account without the factor signs in directly.
    response = await web.login("marie")
    assert response.headers["location"] == "/admin/campaigns"


async def test_wrong_codes_lock_the_account(tmp_path: Path) -> None:
    overrides = {"admin.totp_max_failures": 2}
    async with running_admin(tmp_path, overrides=overrides, residents=False) as web:
        await make_admin(web, "marie", Role.OPERATOR)
        await web.login("marie")
        app = await enrol(web)  # one wrong code while enrolling, then the good one (reset)
        await web.post("/admin/logout", {})
        await web.login("marie")
        await web.get("/admin/login/code")
        for _ in range(2):
            await web.post(
                "/admin/login/code", {"code": "000000" if app.now() != "000000" else "111111"}
            )
        response = await web.post(
            "/admin/login/code", {"code": app.at(utc_now() + timedelta(seconds=30))}
        )
        assert response.status_code == 400
        assert web.context["errors"] == {"code": "totp_locked"}
        details = [e.detail for e in await web.service.audit.recent() if e.action == "totp.failed"]
        assert "sign-in: locked" in details


async def test_templates_admin_saves_operator_uses(web: AdminWeb) -> None:
    await make_admin(web, "chef", Role.ADMIN)
    await make_admin(web, "op", Role.OPERATOR)
    await web.login("chef")
    form = await compose_form(web, action="save_template", template_name="Ébullition")
    response = await web.post("/admin/campaigns/new", form)
    assert response.status_code == 200
    assert "template_saved" in str(
        await web.service.sessions.get(web.client.cookies["tocsin_admin"])
    )
    # Same name: replaced, not duplicated.
    await web.post("/admin/campaigns/new", {**form, "title": "Avis v2"})
    templates = await web.service.templates.all()
    assert [(t.name, t.draft.title) for t in templates] == [("Ébullition", "Avis v2")]
    response = await web.post("/admin/campaigns/new", {**form, "template_name": " "})
    assert response.status_code == 400
    assert web.context["errors"] == {"template_name": "template_name"}
    await web.post("/admin/logout", {})

    await web.login("op")
    await web.get("/admin/templates")
    assert web.template == "admin/templates.html"
    assert [t.name for t in web.context["templates"]] == ["Ébullition"]
    await web.get(f"/admin/campaigns/new?template={templates[0].id}")
    assert web.context["values"]["title"] == "Avis v2"
    assert web.context["values"]["body_en"] == form["body_en"]
    # An operator neither saves nor deletes.
    response = await web.post("/admin/campaigns/new", form)
    assert response.status_code == 403
    await web.get("/admin/templates")
    response = await web.post(f"/admin/templates/{templates[0].id}/delete", {})
    assert response.status_code == 403
    await web.post("/admin/logout", {})

    await web.login("chef")
    await web.get("/admin/templates")
    response = await web.post(f"/admin/templates/{templates[0].id}/delete", {})
    assert response.status_code == 303
    assert await web.service.templates.all() == []
    actions = [e.action for e in await web.service.audit.recent()]
    for action in ("template.save", "template.edit", "template.delete"):
        assert action in actions


async def test_schedule_edit_and_cancel_from_compose(web: AdminWeb) -> None:
    await make_admin(web, "op", Role.OPERATOR)
    await web.login("op")
    zone = web.service.settings.timezone
    later = (utc_now() + timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    form = await compose_form(web, action="preview", send_at=later)
    await web.post("/admin/campaigns/new", form)
    assert web.context["preview"].starts_at is not None
    assert web.context["starts_text"] == later.replace("T", " ")
    response = await web.post("/admin/campaigns/new", {**form, "action": "send", "confirm": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/campaigns"
    await web.get("/admin/campaigns")
    (scheduled,) = web.context["scheduled"]
    assert scheduled.state is ScheduledState.WAITING
    assert web.context["send_times"][scheduled.id] == later.replace("T", " ")
    assert web.context["rows"] == []  # nothing sent

    # Edit: the compose form comes back filled, and saving changes the stored alert.
    await web.get(f"/admin/scheduled/{scheduled.id}")
    values = web.context["values"]
    assert values["scheduled_id"] == str(scheduled.id)
    assert values["send_at"] == later
    assert values["zones"] == [int(form["zone"][0])]  # type: ignore[index]
    response = await web.post(
        "/admin/campaigns/new",
        {
            **form,
            "title": "Nouveau titre",
            "scheduled_id": str(scheduled.id),
            "action": "send",
            "confirm": "yes",
        },
    )
    assert response.status_code == 303
    edited = await web.service.scheduler.get(scheduled.id)
    assert edited is not None
    assert edited.draft.title == "Nouveau titre"
    assert len(await web.service.scheduler.recent()) == 1

    # A time in the past or garbled is refused.
    response = await web.post(
        "/admin/campaigns/new",
        {**form, "send_at": "2001-01-01T10:00", "action": "send", "confirm": "yes"},
    )
    assert response.status_code == 400
    assert web.context["errors"] == {"send_at": "send_at"}
    response = await web.post("/admin/campaigns/new", {**form, "send_at": "demain"})
    assert web.context["errors"] == {"send_at": "send_at_format"}

    await web.get("/admin/campaigns")
    response = await web.post(f"/admin/scheduled/{scheduled.id}/cancel", {})
    assert response.status_code == 303
    cancelled = await web.service.scheduler.get(scheduled.id)
    assert cancelled is not None
    assert cancelled.state is ScheduledState.CANCELLED
    assert (await web.get(f"/admin/scheduled/{scheduled.id}")).status_code == 404
    await web.get("/admin/campaigns")
    await web.post(f"/admin/scheduled/{scheduled.id}/cancel", {})
    assert "scheduled_gone" in str(
        await web.service.sessions.get(web.client.cookies["tocsin_admin"])
    )


async def test_preview_shows_quiet_hours(tmp_path: Path) -> None:
    now = utc_now()
    local = now.astimezone(ZoneInfo("America/Toronto"))
    window = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"
    async with running_admin(tmp_path, overrides={"campaigns.quiet_hours": window}) as web:
        await make_admin(web, "op", Role.OPERATOR)
        await web.login("op")
        response = await web.post("/admin/campaigns/new", await compose_form(web))
        preview = web.context["preview"]
        assert preview.quiet_hold
        assert preview.starts_at is not None
        assert preview.starts_at > now
        assert web.context["quiet_label"] in response.text
        response = await web.post(
            "/admin/campaigns/new", await compose_form(web, severity="emergency")
        )
        assert not web.context["preview"].quiet_hold
        response = await web.post(
            "/admin/campaigns/new", await compose_form(web, action="send", confirm="yes")
        )
        await web.get(response.headers["location"])
        assert web.context["held_until"] == preview.starts_at.astimezone(
            web.service.settings.timezone
        ).strftime("%Y-%m-%d %H:%M")


async def test_range_by_side_in_preview(web: AdminWeb) -> None:
    await make_admin(web, "op", Role.OPERATOR)
    await web.login("op")
    residents = await web.service.reference.streets()
    assert residents
    counts = {}
    for parity in ("all", "odd", "even"):
        form = await compose_form(
            web,
            target="range",
            range_street=str(residents[0].id),
            civic_from="1",
            civic_to="9999",
            parity=parity,
        )
        response = await web.post("/admin/campaigns/new", form)
        assert response.status_code == 200, web.context["errors"]
        counts[parity] = web.context["preview"].residents_matched
    # The seed gives even civic numbers only (100 + 2i).
    assert counts["odd"] == 0
    assert counts["even"] == counts["all"]
    response = await web.post(
        "/admin/campaigns/new", await compose_form(web, target="range", parity="both")
    )
    assert response.status_code == 400


async def test_chart_fragment(web: AdminWeb) -> None:
    await make_admin(web, "op", Role.OPERATOR)
    await web.login("op")
    response = await web.post(
        "/admin/campaigns/new", await compose_form(web, action="send", confirm="yes")
    )
    location = response.headers["location"]
    page = await web.get(location)
    assert 'data-chart="' in page.text
    fragment = await web.get(f"{location}/chart")
    assert fragment.status_code == 200
    assert web.template == "admin/_charts.html"
    assert "<html" not in fragment.text
    assert web.context["modem_rows"] == []  # no modem sent anything here
    assert (await web.get("/admin/campaigns/999/chart")).status_code == 404
