"""The admin pages exist only on the town's LAN: any other client gets a bare 404."""

from __future__ import annotations

import logging

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.campaigns.service import CampaignService

_LOGGER = logging.getLogger(__name__)


class LanOnly:
    """ASGI middleware for the /admin mount, using `admin.allowed_networks`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service: CampaignService = scope["app"].state.campaigns
        client = scope.get("client")
        host = client[0] if client else None
        if not service.settings.allows(host):
            # The same answer as a path that does not exist: nothing tells an outsider.
            _LOGGER.info("admin page refused to %s (not an allowed network)", host)
            response = PlainTextResponse("Not found", status_code=404)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
