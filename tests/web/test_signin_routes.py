"""The login page: signing in with the code received (the seed's flow) and the sign-in lock."""

from __future__ import annotations

from pathlib import Path

from tests.web.helpers import Web, fast_settings, running_web
from tests.web.test_auth_routes import NUMBER, PASSWORD, register

NEW_PASSWORD = "un mot de passe assez long"


async def _ask_code(web: Web, path: str) -> str:
    await web.get(path)
    form = {"phone": "514 555-0101", "channel": "sms", "altcha": web.captcha()}
    if path == "/register":
        form["terms"] = "yes"
    await web.follow(await web.post(path, form))
    return await web.last_code(NUMBER)


async def test_sign_in_with_the_registration_code_then_choose_a_password(web: Web) -> None:
    code = await _ask_code(web, "/register")
    assert "comme mot de passe" in (await web.get("/register/code")).text
    await web.get("/login")
    response = await web.post("/login", {"phone": "514 555-0101", "password": code})
    assert response.headers["location"] == "/password/new"
    page = await web.follow(response)
    assert web.rendered.name == "password_new.html"
    assert page.status_code == 200
    # The change-password page, which asks for the current one, sends back here.
    assert (await web.get("/password")).headers["location"] == "/password/new"
    response = await web.post("/password/new", {"new_password": "short"})
    assert response.status_code == 400
    assert web.rendered.context["errors"] == {"new_password": "too_short"}
    response = await web.post("/password/new", {"new_password": NEW_PASSWORD})
    assert response.headers["location"] == "/welcome"
    await web.follow(response)
    assert "password_chosen" in web.rendered.context["flashes"]
    # Done: /password/new now leads to the ordinary change-password page.
    assert (await web.get("/password/new")).headers["location"] == "/password"
    await web.post("/logout", {})
    await web.get("/login")
    response = await web.post("/login", {"phone": "514 555-0101", "password": NEW_PASSWORD})
    assert response.headers["location"] == "/welcome"


async def test_sign_in_with_a_reset_code(web: Web) -> None:
    await register(web)
    await web.post("/logout", {})
    code = await _ask_code(web, "/forgot")
    await web.get("/login")
    response = await web.post("/login", {"phone": "514 555-0101", "password": code})
    assert response.headers["location"] == "/password/new"
    # The code was single use.
    await web.post("/logout", {})
    await web.get("/login")
    response = await web.post("/login", {"phone": "514 555-0101", "password": code})
    assert response.status_code == 400


async def test_choose_password_needs_a_code_sign_in(web: Web) -> None:
    assert (await web.get("/password/new")).headers["location"].startswith("/login")
    await register(web)
    assert (await web.get("/password/new")).headers["location"] == "/password"


async def test_failed_sign_ins_lock_with_one_generic_answer(tmp_path: Path) -> None:
    async with running_web(tmp_path, fast_settings(signin_number_failures=3)) as web:
        await register(web)
        await web.post("/logout", {})
        answers = []
        for number in ("514 555-0101", "514 555-0188"):  # registered, and not
            for _ in range(3):
                await web.get("/login")
                bad = await web.post("/login", {"phone": number, "password": "nope nope"})
                assert bad.status_code == 400
                assert web.rendered.context["errors"] == {"form": "login"}
            await web.get("/login")
            locked = await web.post("/login", {"phone": number, "password": PASSWORD})
            answers.append((locked.status_code, web.rendered.context["errors"]))
            assert "Trop de tentatives" in locked.text
        assert answers == [(429, {"form": "locked"})] * 2
