"""The /api/v1 mount's middleware: allowed networks only, and JSON for Starlette's own errors.

Outside `api.allowed_networks` every API path is a bare 404, as on the admin console. Inside,
a path or method the router does not know (404, 405) answers in the API's error shape rather
than with the resident pages' HTML.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from gateway.api.service import ApiService
from web.api.errors import ApiError, error_response
from web.lan import NetworkGuard


class ApiGuard(NetworkGuard):
    """ASGI middleware for the /api/v1 mount, using `api.allowed_networks`."""

    what = "API"

    def allows(self, state: State) -> Callable[[str | None], bool]:
        service: ApiService = state.api
        return service.settings.allows

    async def inside(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's own 404 and 405 in the API's JSON error shape."""
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
