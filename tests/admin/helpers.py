"""An in-process admin client: a LAN address, the staff cookie and the last CSRF token."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from gateway import config as config_module
from gateway.campaigns.models import Admin, Role
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.campaigns.service import CampaignService
from gateway.config import ModemSettings
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from tests.web.helpers import SAME_ORIGIN, Recorder, fast_settings
from web.app import create_app

PASSWORD = "une phrase de passe assez longue"
LAN_CLIENT = ("192.168.1.20", 50000)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONES = [f"+1514555{1101 + i:04d}" for i in range(24)]


class AdminWeb:
    """Cookies kept by httpx; the CSRF token read from the last page."""

    def __init__(self, client: httpx.AsyncClient, recorder: Recorder, gateway: Gateway) -> None:
        self.client = client
        self.recorder = recorder
        self.gateway = gateway
        self.csrf = ""

    @property
    def service(self) -> CampaignService:
        service: CampaignService = self.recorder.app.state.campaigns
        return service

    @property
    def context(self) -> dict[str, Any]:
        assert self.recorder.last is not None, "no template rendered"
        return self.recorder.last.context

    @property
    def template(self) -> str:
        assert self.recorder.last is not None, "no template rendered"
        return self.recorder.last.name

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        self._remember(response)
        return response

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """A form post as the page makes it (same origin, the page's CSRF token)."""
        body = {"csrf_token": self.csrf, **data}
        response = await self.client.post(path, data=body, headers=SAME_ORIGIN, **kwargs)
        self._remember(response)
        return response

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        """Sign in, then load the page it leads to (the session and its CSRF token rotate)."""
        await self.get("/admin/login")
        response = await self.post("/admin/login", {"username": username, "password": password})
        if response.status_code == 303:
            await self.get(response.headers["location"])
        return response

    def _remember(self, response: httpx.Response) -> None:
        found = (
            _CSRF.search(response.text)
            if "text/html" in response.headers.get("content-type", "")
            else None
        )
        if found:
            self.csrf = found.group(1)


async def make_admin(web: AdminWeb, username: str, role: Role) -> Admin:
    return await web.service.accounts.create(username, PASSWORD, role)


@contextlib.asynccontextmanager
async def running_admin(
    tmp_path: Path,
    *,
    modems: tuple[ModemSettings, ...] = (),
    client: tuple[str, int] = LAN_CLIENT,
    overrides: dict[str, Any] | None = None,
    residents: bool = True,
) -> AsyncIterator[AdminWeb]:
    """A Gateway (no modem unless given), the app with its lifespan, seeded residents."""
    values: dict[str, Any] = {
        "storage.path": str(tmp_path / "tocsin.sqlite"),
        "dispatch.retry_base_s": 0.05,
        "dispatch.watchdog_interval_s": 0.2,
    }
    values.update(overrides or {})
    config = config_module.from_mapping({}, values)
    async with Gateway(config, modems) as gateway:
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        if residents:
            zones = await streets_by_zone(gateway.db)
            await seed_residents(
                gateway.db, town(PHONES, zones, zone_names=["Nord", "Est", "Ouest"])
            )
        app = create_app(gateway, settings=fast_settings())
        recorder = Recorder(app)
        async with app.router.lifespan_context(app):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=recorder, client=client),
                base_url="http://testserver",
            )
            async with http:
                yield AdminWeb(http, recorder, gateway)
