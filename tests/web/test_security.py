"""CSRF, forged and oversized posts, and pages that need a login."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.web.helpers import BASE_URL, Web


async def test_post_without_token(web: Web) -> None:
    await web.get("/login")
    response = await web.client.post(
        "/login", data={"phone": "5145550101", "password": "x" * 10}, headers={"origin": BASE_URL}
    )
    assert response.status_code == 403
    assert web.rendered.name == "error.html"
    assert web.rendered.context["reason"] == "csrf"


async def test_post_with_a_wrong_token(web: Web) -> None:
    await web.get("/login")
    web.csrf = "forged"
    response = await web.post("/login", {"phone": "5145550101", "password": "x" * 10})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/form"},
    ],
)
async def test_cross_site_post_with_a_valid_token(web: Web, headers: dict[str, str]) -> None:
    await web.get("/login")
    response = await web.post(
        "/login", {"phone": "5145550101", "password": "x" * 10}, headers=headers
    )
    assert response.status_code == 403


async def test_token_of_another_session(web: Web) -> None:
    await web.get("/login")
    token = web.csrf
    web.client.cookies.clear()
    await web.get("/login")
    web.csrf = token
    response = await web.post("/login", {"phone": "5145550101", "password": "x" * 10})
    assert response.status_code == 403


async def test_post_without_a_session(web: Web) -> None:
    response = await web.client.post(
        "/logout", data={"csrf_token": "anything"}, headers={"origin": BASE_URL}
    )
    assert response.status_code == 403


async def test_huge_body_declared(web: Web) -> None:
    await web.get("/login")
    response = await web.post("/login", {"phone": "1" * 70_000, "password": "x"})
    assert response.status_code == 413


async def test_huge_body_streamed(web: Web) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"a" * 1024

    response = await web.client.post(
        "/login",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded", "origin": BASE_URL},
    )
    assert response.status_code == 413


async def test_too_many_fields(web: Web) -> None:
    await web.get("/login")
    fields = {f"f{i}": "x" for i in range(100)}
    response = await web.post("/login", fields)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["/profile", "/welcome", "/password", "/export", "/delete", "/contacts/new"]
)
async def test_login_required(web: Web, path: str) -> None:
    response = await web.get(path)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


async def test_unknown_page(web: Web) -> None:
    response = await web.get("/nowhere")
    assert response.status_code == 404
    assert web.rendered.name == "error.html"
    assert (await web.get("/sim/phones")).status_code == 404  # not in demo mode
