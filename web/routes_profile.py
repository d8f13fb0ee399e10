"""The signed-in pages: profile, contact points, password, data export, account deletion."""

from __future__ import annotations

import dataclasses
import json

from starlette.responses import Response
from starlette.routing import Route

from gateway.residents.errors import InvalidField, InvalidNumber, ResidentError
from gateway.residents.models import Contact, ContactKind, Profile, Resident, clean_profile
from gateway.residents.phones import display
from web.visit import Visit, page

_CONSENTS = ("consent_sms_alerts", "consent_voice_alerts", "consent_neighbour_alerts")


@page(login=True)
async def profile(visit: Visit) -> Response:
    """Nom, prénom, langue, ville, adresse, courriel, consents, and the contacts table."""
    resident = _resident(visit)
    current = resident.profile
    if not current.city:
        current = dataclasses.replace(current, city=visit.service.settings.city)
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        submitted, street_error = await _profile_from_form(visit)
        current = submitted
        if street_error:
            errors["street"] = "street"
        else:
            try:
                cleaned = clean_profile(submitted, required=True)
            except InvalidField as exc:
                errors[exc.field] = exc.field
            else:
                await visit.service.residents.update_profile(resident.id, cleaned)
                await visit.flash("profile_saved")
                return visit.redirect("/profile")
    return await _render_profile(visit, resident, current, errors)


@page(login=True)
async def contact_new(visit: Visit) -> Response:
    """Add a voice or SMS number; a number not yet proved is confirmed by a code."""
    resident = _resident(visit)
    channel = visit.field("channel") or "sms"
    context = {
        "phone": visit.field("phone"),
        "channel": channel,
        "description": visit.field("description"),
    }
    if visit.request.method == "GET":
        context["channel"] = visit.request.query_params.get("channel", "sms")
        return visit.render("contact_new.html", context)
    if channel not in {"sms", "voice"}:
        return visit.render("contact_new.html", {**context, "errors": {"channel": "channel"}}, 400)
    try:
        contact = await visit.service.add_contact(
            resident,
            ContactKind(channel),
            visit.field("phone"),
            visit.field("description"),
            client=visit.client,
            language=visit.language,
        )
    except InvalidNumber:
        errors = {"phone": "invalid_number"}
        return visit.render("contact_new.html", {**context, "errors": errors}, 400)
    except ResidentError as exc:
        return visit.render("contact_new.html", {**context, "errors": {"phone": exc.code}}, 400)
    if contact.verified:
        await visit.flash("contact_added")
        return visit.redirect("/profile")
    await visit.flash("contact_code_sent")
    return visit.redirect(f"/contacts/{contact.id}/verify")


@page(login=True)
async def contact_verify(visit: Visit) -> Response:
    """The code sent to the new number makes it verified and active."""
    resident = _resident(visit)
    contact = await _contact(visit, resident)
    if contact is None:
        return visit.render("error.html", {"reason": "not_found"}, 404)
    context = {"contact": contact, "number_display": display(contact.number)}
    if contact.verified:
        return visit.redirect("/profile")
    if visit.request.method == "GET":
        return visit.render("contact_verify.html", context)
    if visit.field("resend") == "yes":
        await visit.service.send_contact_code(contact, client=visit.client, language=visit.language)
        await visit.flash("contact_code_sent")
        return visit.redirect(f"/contacts/{contact.id}/verify")
    if await visit.service.verify_contact(resident, contact.id, visit.field("code")):
        await visit.flash("contact_verified")
        return visit.redirect("/profile")
    return visit.render("contact_verify.html", {**context, "errors": {"code": "bad_code"}}, 400)


@page(login=True)
async def contact_edit(visit: Visit) -> Response:
    """Description and the Actif box (an unverified number cannot be active)."""
    resident = _resident(visit)
    contact = await _contact(visit, resident)
    if contact is None:
        return visit.render("error.html", {"reason": "not_found"}, 404)
    if visit.request.method == "POST":
        description = visit.field("description").strip()[:80]
        active = visit.field("active") == "yes"
        await visit.service.residents.edit_contact(resident.id, contact.id, description, active)
        await visit.flash("contact_saved")
        return visit.redirect("/profile")
    return visit.render(
        "contact_edit.html", {"contact": contact, "number_display": display(contact.number)}
    )


@page(login=True)
async def contact_delete(visit: Visit) -> Response:
    """Remove one contact point (the button in the contacts table)."""
    resident = _resident(visit)
    contact = await _contact(visit, resident)
    if contact is not None:
        await visit.service.residents.delete_contact(resident.id, contact.id)
        await visit.flash("contact_deleted")
    return visit.redirect("/profile")


@page(login=True)
async def password(visit: Visit) -> Response:
    """Modifier mot de passe: the current one, then the new one."""
    resident = _resident(visit)
    if visit.session.data.get("choose_password"):
        return visit.redirect("/password/new")  # signed in with a code: no current password
    if visit.request.method == "GET":
        return visit.render("password.html")
    try:
        await visit.service.change_password(
            resident, visit.field("password"), visit.field("new_password")
        )
    except ResidentError as exc:
        field = "password" if exc.code == "wrong_password" else "new_password"
        return visit.render("password.html", {"errors": {field: exc.code}}, 400)
    await visit.sign_in(resident)
    await visit.flash("password_changed")
    return visit.redirect("/profile")


@page(login=True)
async def export(visit: Visit) -> Response:
    """Everything stored about the resident, as a JSON download."""
    resident = _resident(visit)
    data = await visit.service.export(resident.id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return visit.finish(
        Response(
            body,
            media_type="application/json; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="tocsin-my-data.json"'},
        )
    )


@page(login=True)
async def delete_account(visit: Visit) -> Response:
    """Delete the account and every trace of its numbers, after the password and a tick."""
    resident = _resident(visit)
    if visit.request.method == "GET":
        return visit.render("delete.html")
    errors: dict[str, str] = {}
    if visit.field("confirm") != "yes":
        errors["confirm"] = "confirm"
    if await visit.service.authenticate(resident.phone, visit.field("password")) is None:
        errors["password"] = "wrong_password"
    if errors:
        return visit.render("delete.html", {"errors": errors}, 400)
    await visit.service.delete_account(resident.id)
    await visit.sign_out()
    await visit.flash("account_deleted")
    return visit.redirect("/login")


def _resident(visit: Visit) -> Resident:
    assert visit.resident is not None, "page(login=True) guarantees a resident"
    return visit.resident


async def _contact(visit: Visit, resident: Resident) -> Contact | None:
    raw = visit.request.path_params.get("contact_id")
    if not isinstance(raw, int):
        return None
    return await visit.service.residents.contact(resident.id, raw)


async def _profile_from_form(visit: Visit) -> tuple[Profile, bool]:
    street_raw = visit.field("street")
    street_id = int(street_raw) if street_raw.isdigit() else None
    street_error = bool(street_raw) and (
        street_id is None or await visit.service.streets.get(street_id) is None
    )
    profile = Profile(
        last_name=visit.field("last_name"),
        first_name=visit.field("first_name"),
        language=visit.field("language"),
        city=visit.field("city"),
        civic_number=visit.field("civic_number"),
        street_id=None if street_error else street_id,
        apartment=visit.field("apartment"),
        postal_code=visit.field("postal_code"),
        email=visit.field("email"),
        consent_sms_alerts=visit.field("consent_sms_alerts") == "yes",
        consent_voice_alerts=visit.field("consent_voice_alerts") == "yes",
        consent_neighbour_alerts=visit.field("consent_neighbour_alerts") == "yes",
        hide_my_number=visit.field("hide_my_number") == "yes",
    )
    return profile, street_error


async def _render_profile(
    visit: Visit, resident: Resident, current: Profile, errors: dict[str, str]
) -> Response:
    contacts = await visit.service.residents.contacts(resident.id)
    return visit.render(
        "profile.html",
        {
            "profile": current,
            "streets": await visit.service.streets.all(),
            "voice_contacts": [c for c in contacts if c.kind is ContactKind.VOICE],
            "sms_contacts": [c for c in contacts if c.kind is ContactKind.SMS],
            "display": display,
            "consents": _CONSENTS,
            "errors": errors,
        },
        400 if errors else 200,
    )


ROUTES = [
    Route("/profile", profile, methods=["GET", "POST"]),
    Route("/contacts/new", contact_new, methods=["GET", "POST"]),
    Route("/contacts/{contact_id:int}/verify", contact_verify, methods=["GET", "POST"]),
    Route("/contacts/{contact_id:int}/edit", contact_edit, methods=["GET", "POST"]),
    Route("/contacts/{contact_id:int}/delete", contact_delete, methods=["POST"]),
    Route("/password", password, methods=["GET", "POST"]),
    Route("/export", export, methods=["GET"]),
    Route("/delete", delete_account, methods=["GET", "POST"]),
]
