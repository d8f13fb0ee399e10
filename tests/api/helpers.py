"""An in-process API client: a Gateway on a real SQLite file, the app, tokens by role."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.api.service import ApiService
from gateway.campaigns.models import Role
from gateway.config import ModemSettings
from gateway.service import Gateway
from tests.admin.helpers import LAN_CLIENT, AdminWeb, running_admin


@dataclass
class ApiClient:
    """The admin client's app and gateway, plus one bearer token per role."""

    web: AdminWeb
    operator: str
    viewer: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.web.client

    @property
    def gateway(self) -> Gateway:
        return self.web.gateway

    @property
    def service(self) -> ApiService:
        service: ApiService = self.web.recorder.app.state.api
        return service

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"authorization": f"Bearer {token or self.operator}"}

    async def post(
        self, path: str, body: Any, *, token: str | None = None, key: str | None = None
    ) -> httpx.Response:
        headers = self.auth(token)
        if key is not None:
            headers["idempotency-key"] = key
        return await self.client.post(f"/api/v1{path}", json=body, headers=headers)

    async def get(self, path: str, *, token: str | None = None) -> httpx.Response:
        return await self.client.get(f"/api/v1{path}", headers=self.auth(token))

    async def zone_id(self, name: str) -> int:
        zones = await self.web.service.reference.zones()
        return next(z.id for z in zones if z.name == name)


@contextlib.asynccontextmanager
async def running_api(
    tmp_path: Path,
    *,
    modems: tuple[ModemSettings, ...] = (),
    client: tuple[str, int] = LAN_CLIENT,
    overrides: dict[str, Any] | None = None,
    residents: bool = True,
) -> AsyncIterator[ApiClient]:
    """running_admin's gateway and app, with an operator and a viewer token."""
    async with running_admin(
        tmp_path, modems=modems, client=client, overrides=overrides, residents=residents
    ) as web:
        service: ApiService = web.recorder.app.state.api
        operator = await service.tokens.create("Travaux publics", Role.OPERATOR, created_by="t")
        viewer = await service.tokens.create("Tableau de bord", Role.VIEWER, created_by="t")
        yield ApiClient(web, operator.secret, viewer.secret)
