"""Sign-in, registration, reset and sign-out, driven in-process through the ASGI app."""

from __future__ import annotations

import re

from tests.web.helpers import Web

NUMBER = "+15145550101"
PASSWORD = "correct horse battery"


async def register(web: Web, phone: str = "514 555-0101", password: str = PASSWORD) -> None:
    """New user → code → password → the first-login question (left unanswered)."""
    await web.get("/register")
    response = await web.post(
        "/register", {"phone": phone, "channel": "sms", "terms": "yes", "altcha": web.captcha()}
    )
    await web.follow(response)
    code = await web.last_code(NUMBER)
    response = await web.post("/register/code", {"code": code, "password": password})
    assert response.headers["location"] == "/welcome"
    await web.follow(response)


def scrub(html: str) -> str:
    """The page without what differs on every render (tokens, challenges)."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    return re.sub(r'data-(challenge|salt|signature)="[^"]*"', "", html)


async def test_login_page(web: Web) -> None:
    response = await web.get("/login")
    assert response.status_code == 200
    assert web.rendered.name == "login.html"
    assert web.rendered.context["lang"] == "fr"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Nouvel usager" in response.text
    assert "Mot de passe oublié?" in response.text
    cookie = response.headers["set-cookie"]
    assert "tocsin_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP (loopback demo)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


async def test_secure_cookie_over_https(web: Web) -> None:
    response = await web.client.get("https://testserver/login")
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_root_redirects_to_login(web: Web) -> None:
    response = await web.get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/login")


async def test_registration_end_to_end(web: Web) -> None:
    response = await web.get("/register")
    assert web.rendered.name == "register.html"
    assert web.rendered.context["channel"] == "sms"
    response = await web.post(
        "/register",
        {"phone": "514 555-0101", "channel": "sms", "terms": "yes", "altcha": web.captcha()},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/register/code")
    response = await web.follow(response)
    assert web.rendered.name == "register_code.html"
    assert web.rendered.context["phone_display"] == "(514) 555-0101"
    assert "Si ce numéro peut recevoir un code" in response.text
    (sent,) = await web.sent_messages()
    assert sent[:3] == ("otp", "sms", NUMBER)
    code = await web.last_code(NUMBER)
    response = await web.post("/register/code", {"code": code, "password": "password"})
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"password": "common"}
    response = await web.post("/register/code", {"code": code, "password": PASSWORD})
    assert response.headers["location"] == "/welcome"
    response = await web.follow(response)
    assert web.rendered.name == "welcome.html"
    assert "Voulez-vous ajouter un numéro SMS pour ce contact?" in response.text
    response = await web.post("/welcome", {"answer": "yes"})
    assert response.headers["location"] == "/profile"
    response = await web.follow(response)
    assert web.rendered.name == "profile.html"
    assert [c.number for c in web.rendered.context["sms_contacts"]] == [NUMBER]
    assert [c.number for c in web.rendered.context["voice_contacts"]] == [NUMBER]
    assert len(await web.sent_messages()) == 1  # the SMS contact needed no second code


async def test_session_rotates_at_login(web: Web) -> None:
    await register(web)
    await web.post("/logout", {})
    before = web.client.cookies["tocsin_session"]
    await web.get("/login")
    response = await web.post("/login", {"phone": "5145550101", "password": PASSWORD})
    assert response.headers["location"] == "/welcome"  # the question was not answered yet
    assert web.client.cookies["tocsin_session"] != before


async def test_wrong_login(web: Web) -> None:
    await register(web)
    await web.post("/logout", {})
    await web.get("/login")
    response = await web.post("/login", {"phone": "5145550101", "password": "nope nope nope"})
    assert response.status_code == 400
    assert web.rendered.name == "login.html"
    assert web.rendered.context["errors"] == {"form": "login"}
    assert web.rendered.context["phone"] == "5145550101"


async def test_register_answers_the_same_for_known_numbers(web: Web) -> None:
    await register(web)
    await web.post("/logout", {})
    pages = []
    for phone in ("514 555-0101", "514 555-0102"):
        await web.get("/register")
        response = await web.post(
            "/register", {"phone": phone, "channel": "sms", "terms": "yes", "altcha": web.captcha()}
        )
        assert (response.status_code, response.headers["location"]) == (303, "/register/code")
        page = await web.follow(response)
        pages.append(scrub(page.text).replace("555-0101", "555-0102"))
    assert pages[0] == pages[1]
    classes = [(m[0], m[2]) for m in await web.sent_messages()][1:]
    assert classes == [("reply", NUMBER), ("otp", "+15145550102")]


async def test_forgot_answers_the_same_and_resets(web: Web) -> None:
    await register(web)
    await web.post("/logout", {})
    pages = []
    for phone in ("514 555-0102", "514 555-0101"):
        await web.get("/forgot")
        assert web.rendered.name == "forgot.html"
        response = await web.post(
            "/forgot", {"phone": phone, "channel": "sms", "altcha": web.captcha()}
        )
        assert (response.status_code, response.headers["location"]) == (303, "/reset")
        page = await web.follow(response)
        pages.append(scrub(page.text).replace("555-0102", "555-0101"))
    assert pages[0] == pages[1]
    assert web.rendered.name == "reset.html"
    assert web.rendered.context["phone"] == "(514) 555-0101"
    code = await web.last_code(NUMBER)
    response = await web.post(
        "/reset", {"phone": "(514) 555-0101", "code": code, "new_password": "brand new passphrase"}
    )
    assert response.headers["location"] == "/login"
    await web.follow(response)
    response = await web.post("/login", {"phone": NUMBER, "password": "brand new passphrase"})
    assert response.status_code == 303


async def test_reset_with_a_bad_code(web: Web) -> None:
    await web.get("/reset")
    response = await web.post(
        "/reset",
        {"phone": "514 555 0101", "code": "123456", "new_password": "brand new passphrase"},
    )
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"code": "bad_code"}


async def test_register_form_errors(web: Web) -> None:
    await web.get("/register")
    response = await web.post(
        "/register", {"phone": "1-900-555-1234", "channel": "fax", "altcha": "bogus"}
    )
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {
        "phone": "invalid_number",
        "channel": "channel",
        "terms": "terms",
        "captcha": "captcha",
    }
    assert await web.sent_messages() == []


async def test_captcha_is_single_use(web: Web) -> None:
    await web.get("/register")
    payload = web.captcha()
    form = {"phone": "514 555-0101", "channel": "sms", "terms": "yes", "altcha": payload}
    assert (await web.post("/register", form)).status_code == 303
    await web.get("/register")
    response = await web.post("/register", {**form, "phone": "514 555-0102"})
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"captcha": "captcha"}


async def test_register_code_without_a_pending_number(web: Web) -> None:
    response = await web.get("/register/code")
    assert response.headers["location"] == "/register"


async def test_logout_kills_the_session(web: Web) -> None:
    await register(web)
    old = web.client.cookies["tocsin_session"]
    response = await web.post("/logout", {})
    assert response.headers["location"] == "/login"
    web.client.cookies.clear()
    web.client.cookies.set("tocsin_session", old)
    response = await web.client.get("/profile")
    assert (response.status_code, response.headers["location"]) == (303, "/login")


async def test_english(web: Web) -> None:
    response = await web.get("/login?lang=en")
    assert web.rendered.context["lang"] == "en"
    assert '<html lang="en">' in response.text
    assert "New user" in response.text
    assert "Forgot your password?" in response.text
    assert "tocsin_lang=en" in response.headers["set-cookie"]
    response = await web.get("/register")
    assert web.rendered.context["lang"] == "en"
    assert "I am not a robot" in response.text
