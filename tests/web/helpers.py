"""An in-process client for the web app that also sees which template rendered, and with what."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from altcha import v1 as altcha_v1
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from gateway import config as config_module
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from web.app import create_app
from web.captcha import Challenge

BASE_URL = "http://testserver"
SAME_ORIGIN = {"origin": BASE_URL}


def fast_settings(**overrides: Any) -> ResidentSettings:
    """Fast captchas; everything else as shipped."""
    values: dict[str, Any] = {"captcha_max_number": 50, "city": "Ville de Démo"}
    values.update(overrides)
    return ResidentSettings(**values)


def make_config(tmp_path: Path, **overrides: Any) -> config_module.Config:
    values: dict[str, Any] = {"storage.path": str(tmp_path / "tocsin.sqlite"), **overrides}
    return config_module.from_mapping({}, values)


@dataclass
class Rendered:
    """What Starlette reported through the http.response.debug extension."""

    name: str
    context: dict[str, Any]


@dataclass
class Recorder:
    """ASGI wrapper: asks Starlette for template debug info and keeps the last one."""

    app: Starlette
    last: Rendered | None = None
    history: list[Rendered] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {
                **scope,
                "extensions": {**scope.get("extensions", {}), "http.response.debug": {}},
            }
            self.last = None

        async def filtered(message: Message) -> None:
            if message["type"] == "http.response.debug":
                info = message["info"]
                self.last = Rendered(info["template"].name, info["context"])
                self.history.append(self.last)
                return
            await send(message)

        await self.app(scope, receive, filtered)


def solve(challenge: Challenge) -> str:
    """The payload the browser's solver would post."""
    solution = altcha_v1.solve_challenge(
        challenge.challenge, challenge.salt, "SHA-256", challenge.max_number
    )
    assert solution is not None
    return altcha_v1.Payload(
        "SHA-256", challenge.challenge, solution.number, challenge.salt, challenge.signature
    ).to_base64()


class Web:
    """A browser-like client: keeps cookies and the last CSRF token and challenge it saw."""

    def __init__(self, app: Starlette, recorder: Recorder, gateway: Gateway) -> None:
        self.app = app
        self.recorder = recorder
        self.gateway = gateway
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=recorder, client=("203.0.113.7", 40000)),
            base_url=BASE_URL,
        )
        self.csrf = ""
        self.challenge: Challenge | None = None

    @property
    def service(self) -> ResidentService:
        service: ResidentService = self.app.state.residents
        return service

    @property
    def rendered(self) -> Rendered:
        assert self.recorder.last is not None, "no template rendered"
        return self.recorder.last

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        self._remember()
        return response

    async def post(
        self, path: str, data: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Post a form as the page would (same origin, current CSRF token)."""
        body = {"csrf_token": self.csrf, **data}
        response = await self.client.post(path, data=body, headers=headers or SAME_ORIGIN)
        self._remember()
        return response

    async def follow(self, response: httpx.Response) -> httpx.Response:
        """GET the 303's target."""
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return await self.get(response.headers["location"])

    def captcha(self) -> str:
        assert self.challenge is not None
        return solve(self.challenge)

    def _remember(self) -> None:
        last = self.recorder.last
        if last is not None:
            self.csrf = last.context.get("csrf_token", self.csrf)
            self.challenge = last.context.get("challenge", self.challenge)

    async def sent_messages(self) -> list[tuple[str, str, str, str]]:
        """(class, channel, destination, body) of every outbox row, oldest first."""
        assert self.gateway.db is not None
        async with self.gateway.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT class, channel, destination, body FROM message ORDER BY id"
            )
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]

    async def last_code(self, destination: str) -> str:
        """The 6 digits of the last code sent to `destination`."""
        for _cls, _channel, dest, body in reversed(await self.sent_messages()):
            if dest == destination:
                digits = [word.strip(".,") for word in body.split() if word.strip(".,").isdigit()]
                codes = [d for d in digits if len(d) == 6]
                if codes:
                    return codes[0]
        raise AssertionError(f"no code sent to {destination}")


@contextlib.asynccontextmanager
async def running_web(
    tmp_path: Path, settings: ResidentSettings | None = None, **overrides: Any
) -> AsyncIterator[Web]:
    """A Gateway with no modem (messages stay queued) and the app around it, lifespan run;
    `overrides` are gateway config values (dotted keys)."""
    async with Gateway(make_config(tmp_path, **overrides), ()) as gateway:
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        app = create_app(gateway, settings=settings or fast_settings(), simulator=None)
        recorder = Recorder(app)
        async with app.router.lifespan_context(app):
            web = Web(app, recorder, gateway)
            async with web.client:
                yield web
