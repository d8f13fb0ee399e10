"""Profile, contact points, password change, export and deletion, in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from gateway.residents.settings import ResidentSettings
from tests.web.helpers import Recorder, Web, fast_settings, make_config
from tests.web.test_auth_routes import NUMBER, PASSWORD, register


async def signed_in(web: Web) -> None:
    await register(web)
    await web.post("/welcome", {"answer": "no"})
    await web.get("/profile")


async def test_profile_page(web: Web) -> None:
    await signed_in(web)
    context = web.rendered.context
    assert web.rendered.name == "profile.html"
    assert context["profile"].city == "Ville de Démo"
    assert context["profile"].hide_my_number is True
    assert not context["profile"].consent_sms_alerts
    assert len(context["streets"]) == 20
    assert context["sms_contacts"] == []


async def test_profile_save_and_validation(web: Web) -> None:
    await signed_in(web)
    street = web.rendered.context["streets"][0]
    form = {
        "last_name": "Racicot",
        "first_name": "Antoine",
        "language": "fr",
        "city": "Ville de Démo",
        "civic_number": "710",
        "street": str(street.id),
        "apartment": "",
        "postal_code": "J6W1T6",
        "email": "",
        "consent_sms_alerts": "yes",
        "hide_my_number": "yes",
    }
    response = await web.post("/profile", {**form, "postal_code": "123"})
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"postal_code": "postal_code"}
    assert web.rendered.context["profile"].last_name == "Racicot"  # what was typed is kept
    response = await web.post("/profile", {**form, "street": "99999"})
    assert web.rendered.context["errors"] == {"street": "street"}
    response = await web.post("/profile", form)
    assert response.headers["location"] == "/profile"
    await web.follow(response)
    saved = web.rendered.context["profile"]
    assert (saved.postal_code, saved.street_id, saved.consent_sms_alerts) == (
        "J6W 1T6",
        street.id,
        True,
    )
    assert not saved.consent_voice_alerts


async def test_contacts(web: Web) -> None:
    await signed_in(web)
    await web.get("/contacts/new?channel=voice")
    assert web.rendered.context["channel"] == "voice"
    response = await web.post(
        "/contacts/new", {"channel": "sms", "phone": "514 555 0199", "description": "Travail"}
    )
    location = response.headers["location"]
    assert location.endswith("/verify")
    await web.follow(response)
    assert web.rendered.name == "contact_verify.html"
    contact = web.rendered.context["contact"]
    assert not contact.verified
    response = await web.post(location, {"code": "000000x"})
    assert web.rendered.context["errors"] == {"code": "bad_code"}
    code = await web.last_code("+15145550199")
    response = await web.post(location, {"code": code})
    await web.follow(response)
    (sms,) = web.rendered.context["sms_contacts"]
    assert (sms.number, sms.description, sms.active, sms.verified) == (
        "+15145550199",
        "Travail",
        True,
        True,
    )
    await web.get(f"/contacts/{sms.id}/edit")
    assert web.rendered.name == "contact_edit.html"
    response = await web.post(f"/contacts/{sms.id}/edit", {"description": "Bureau"})
    await web.follow(response)
    (sms,) = web.rendered.context["sms_contacts"]
    assert (sms.description, sms.active) == ("Bureau", False)
    response = await web.post(
        f"/contacts/{sms.id}/edit", {"description": "Bureau", "active": "yes"}
    )
    await web.follow(response)
    assert web.rendered.context["sms_contacts"][0].active
    response = await web.post(f"/contacts/{sms.id}/delete", {})
    await web.follow(response)
    assert web.rendered.context["sms_contacts"] == []


async def test_duplicate_and_invalid_contacts(web: Web) -> None:
    await signed_in(web)
    await web.get("/contacts/new")
    response = await web.post("/contacts/new", {"channel": "voice", "phone": NUMBER})
    assert web.rendered.context["errors"] == {"phone": "duplicate_contact"}
    response = await web.post("/contacts/new", {"channel": "sms", "phone": "911"})
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"phone": "invalid_number"}


async def test_another_residents_contact_is_not_found(web: Web) -> None:
    await signed_in(web)
    response = await web.get("/contacts/9999/edit")
    assert response.status_code == 404


async def test_change_password(web: Web) -> None:
    await signed_in(web)
    before = web.client.cookies["tocsin_session"]
    await web.get("/password")
    response = await web.post("/password", {"password": "wrong one!", "new_password": "x" * 12})
    assert web.rendered.context["errors"] == {"password": "wrong_password"}
    response = await web.post(
        "/password", {"password": PASSWORD, "new_password": "a different passphrase"}
    )
    assert response.headers["location"] == "/profile"
    assert web.client.cookies["tocsin_session"] != before  # rotated
    response = await web.follow(response)
    assert "Votre mot de passe a été modifié." in response.text


async def test_export(web: Web) -> None:
    await signed_in(web)
    response = await web.get("/export")
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["phone"] == NUMBER
    assert data["contacts"][0]["kind"] == "voice"


async def test_delete_account(web: Web) -> None:
    await signed_in(web)
    await web.get("/delete")
    response = await web.post("/delete", {"password": PASSWORD})
    assert web.rendered.context["errors"] == {"confirm": "confirm"}
    response = await web.post("/delete", {"password": PASSWORD, "confirm": "yes"})
    assert response.headers["location"] == "/login"
    response = await web.follow(response)
    assert "Votre compte et tous vos numéros ont été supprimés." in response.text
    assert await web.service.residents.by_phone(NUMBER) is None


class FakeMessage:
    def __init__(self, text: str) -> None:
        self.sender = "+15145559001"
        self.recipient = NUMBER
        self.text = text
        self.time = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.parts = 1


class FakePhone:
    def __init__(self) -> None:
        self.number = NUMBER
        self.inbox = [FakeMessage("premier"), FakeMessage("Votre code est 123456")]


class FakeSimulator:
    phones = (FakePhone(),)


async def test_simulated_phones(tmp_path: Path) -> None:
    import httpx

    from gateway.service import Gateway
    from web.app import create_app

    async with Gateway(make_config(tmp_path), ()) as gateway:
        app = create_app(gateway, simulator=FakeSimulator(), settings=fast_settings())
        recorder = Recorder(app)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=recorder)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get(f"/sim/phones/{NUMBER}/messages")
                assert [m["text"] for m in response.json()] == ["premier", "Votre code est 123456"]
                assert (await client.get("/sim/phones/+1999/messages")).status_code == 404
                response = await client.get("/sim/phones")
                assert recorder.last is not None
                assert recorder.last.name == "sim_phones.html"
                assert response.text.index("123456") < response.text.index("premier")


def test_settings_from_config() -> None:
    settings = ResidentSettings.from_config(
        {"town.name": "Terrebonne", "town.region": "CA, us", "residents.otp_valid_s": 300.0}
    )
    assert settings.town_name == "Terrebonne"
    assert settings.regions == ("CA", "US")
    assert settings.otp_lifetime.total_seconds() == 300
