"""Sign-in, registration with a one-time code, the first-login question, reset, sign-out."""

from __future__ import annotations

import contextlib

from starlette.responses import Response
from starlette.routing import Route

from gateway.outbox import Channel
from gateway.residents.codes import Purpose
from gateway.residents.errors import InvalidNumber, ResidentError
from gateway.residents.models import ContactKind
from gateway.residents.phones import display
from gateway.residents.service import DuplicateContact, SignInLocked
from web.captcha import Captcha
from web.visit import Visit, page

_PENDING = "pending"
# Set in the session after a sign-in with a one-time code, until a password is chosen.
CHOOSE_PASSWORD = "choose_password"


@page()
async def home(visit: Visit) -> Response:
    """The site's root: the profile when signed in, the sign-in page otherwise."""
    return visit.redirect("/profile" if visit.resident is not None else "/login")


@page()
async def login(visit: Visit) -> Response:
    """Phone number and password (the seed's home page)."""
    if visit.resident is not None and visit.request.method == "GET":
        return visit.redirect("/profile")
    phone = visit.field("phone")
    if visit.request.method == "POST":
        try:
            signed = await visit.service.sign_in(
                phone, visit.field("password"), client=visit.client, language=visit.language
            )
        except SignInLocked:
            return visit.render("login.html", {"phone": phone, "errors": {"form": "locked"}}, 429)
        if signed is not None:
            await visit.sign_in(signed.resident)
            if signed.choose_password:
                visit.session.data[CHOOSE_PASSWORD] = True
                visit.session.data.pop(_PENDING, None)
                await visit.service.sessions.save_data(visit.session)
                return visit.redirect("/password/new")
            resident = signed.resident
            return visit.redirect("/welcome" if not resident.sms_prompt_done else "/profile")
        return visit.render("login.html", {"phone": phone, "errors": {"form": "login"}}, 400)
    return visit.render("login.html", {"phone": phone})


@page(login=True)
async def choose_password(visit: Visit) -> Response:
    """After signing in with the code received: the resident chooses their password."""
    resident = visit.resident
    assert resident is not None
    if not visit.session.data.get(CHOOSE_PASSWORD):
        return visit.redirect("/password")
    if visit.request.method == "GET":
        return visit.render("password_new.html")
    try:
        await visit.service.choose_password(
            resident, visit.field("new_password"), keep=visit.session
        )
    except ResidentError as exc:
        return visit.render("password_new.html", {"errors": {"new_password": exc.code}}, 400)
    visit.session.data.pop(CHOOSE_PASSWORD, None)
    await visit.flash("password_chosen")
    return visit.redirect("/welcome" if not resident.sms_prompt_done else "/profile")


@page()
async def register(visit: Visit) -> Response:
    """Nouvel usager: number, confirmation mode, captcha, terms → a code is sent."""
    return await _request_code(visit, Purpose.REGISTER, "register.html", "/register/code")


@page()
async def forgot(visit: Visit) -> Response:
    """Mot de passe oublié: number, mode, captcha → a code is sent."""
    return await _request_code(visit, Purpose.RESET, "forgot.html", "/reset")


@page()
async def register_code(visit: Visit) -> Response:
    """The code received and a password of the resident's choosing: the account exists."""
    pending = visit.session.data.get(_PENDING) or {}
    if pending.get("purpose") != Purpose.REGISTER.value:
        await visit.flash("session_needed")
        return visit.redirect("/register")
    phone = str(pending["phone"])
    context = {"phone_display": display(phone)}
    if visit.request.method == "GET":
        return visit.render("register_code.html", context)
    try:
        resident = await visit.service.complete_registration(
            phone, visit.field("code"), visit.field("password"), visit.language
        )
    except ResidentError as exc:
        field = "password" if exc.code in {"too_short", "too_long", "common"} else "code"
        return visit.render("register_code.html", {**context, "errors": {field: exc.code}}, 400)
    visit.session.data.pop(_PENDING, None)
    await visit.sign_in(resident)
    await visit.flash("registered")
    return visit.redirect("/welcome")


@page(login=True)
async def welcome(visit: Visit) -> Response:
    """Asked once after the first login: add the login number as an SMS contact too?"""
    resident = visit.resident
    assert resident is not None
    if resident.sms_prompt_done:
        return visit.redirect("/profile")
    if visit.request.method == "GET":
        return visit.render("welcome.html", {"phone_display": display(resident.phone)})
    if visit.field("answer") == "yes":
        with contextlib.suppress(DuplicateContact):
            await visit.service.add_contact(
                resident,
                ContactKind.SMS,
                resident.phone,
                "",
                client=visit.client,
                language=visit.language,
            )
        await visit.flash("contact_added")
    await visit.service.residents.mark_sms_prompt_done(resident.id)
    return visit.redirect("/profile")


@page()
async def reset(visit: Visit) -> Response:
    """The code received by SMS or voice, and the new password (the old one works until then)."""
    pending = visit.session.data.get(_PENDING) or {}
    known = str(pending.get("phone", "")) if pending.get("purpose") == Purpose.RESET else ""
    phone_input = visit.field("phone") or (display(known) if known else "")
    context = {"phone": phone_input}
    if visit.request.method == "GET":
        return visit.render("reset.html", context)
    try:
        phone = visit.service.normalize(phone_input)
        await visit.service.complete_reset(phone, visit.field("code"), visit.field("new_password"))
    except InvalidNumber:
        return visit.render("reset.html", {**context, "errors": {"phone": "invalid_number"}}, 400)
    except ResidentError as exc:
        field = "new_password" if exc.code in {"too_short", "too_long", "common"} else "code"
        return visit.render("reset.html", {**context, "errors": {field: exc.code}}, 400)
    visit.session.data.pop(_PENDING, None)
    await visit.flash("password_reset")
    return visit.redirect("/login")


@page()
async def logout(visit: Visit) -> Response:
    """Déconnexion: the session token dies server-side."""
    if visit.request.method == "POST":
        await visit.sign_out()
        await visit.flash("logged_out")
    return visit.redirect("/login")


async def _request_code(visit: Visit, purpose: Purpose, template: str, then: str) -> Response:
    captcha: Captcha = visit.request.app.state.captcha
    phone = visit.field("phone")
    channel = visit.field("channel") or "sms"
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        if channel not in {"sms", "voice"}:
            errors["channel"] = "channel"
        if purpose is Purpose.REGISTER and visit.field("terms") != "yes":
            errors["terms"] = "terms"
        if not await captcha.verify(visit.field("altcha")):
            errors["captcha"] = "captcha"
        try:
            visit.service.normalize(phone)
        except InvalidNumber:
            errors["phone"] = "invalid_number"
        if not errors:
            normalized = await visit.service.request_code(
                phone,
                purpose,
                Channel(channel),
                client=visit.client,
                language=visit.language,
            )
            visit.session.data[_PENDING] = {"phone": normalized, "purpose": purpose.value}
            await visit.flash("code_sent")
            return visit.redirect(then)
    context = {
        "phone": phone,
        "channel": channel,
        "challenge": captcha.challenge(),
        "errors": errors,
    }
    return visit.render(template, context, 400 if errors else 200)


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/register/code", register_code, methods=["GET", "POST"]),
    Route("/password/new", choose_password, methods=["GET", "POST"]),
    Route("/welcome", welcome, methods=["GET", "POST"]),
    Route("/forgot", forgot, methods=["GET", "POST"]),
    Route("/reset", reset, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["GET", "POST"]),
]
