"""The /api/v1 mount's middleware: allowed networks only, and JSON for Starlette's own errors.

Outside `api.allowed_networks` every API path is a bare 404, as on the admin console. Inside,
a path or method the router does not know (404, 405) answers in the API's error shape rather
than with the resident pages' HTML.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.service import ApiService
from web.api.errors import ApiError, error_response

_LOGGER = logging.getLogger(__name__)


class ApiGuard:
    """ASGI middleware for the /api/v1 mount, using `api.allowed_networks`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service: ApiService = scope["app"].state.api
        client = scope.get("client")
        host = client[0] if client else None
        if not service.settings.allows(host):
            _LOGGER.info("API refused to %s (not an allowed network)", host)
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except HTTPException as exc:
            if started:
                raise
            headers = dict(exc.headers or {})
            response = error_response(ApiError(exc.status_code, headers=headers))
            await response(scope, receive, send)
