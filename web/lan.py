"""The LAN guard shared by /admin, /metrics and /api/v1: outsiders get a bare 404.

Each mount keeps its own `*.allowed_networks` setting (read from the app's state per request,
so tests can swap settings); the refusal is the same everywhere, the answer to a path that
does not exist, so nothing tells an outsider that the gateway is there.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from starlette.datastructures import State
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

_LOGGER = logging.getLogger(__name__)


def client_host(scope: Scope) -> str | None:
    """The client's address as the server saw it, None when unknown (refused then)."""
    client = scope.get("client")
    return client[0] if client else None


def refusal(allows: Callable[[str | None], bool], host: str | None, what: str) -> Response | None:
    """The bare 404 for a client outside the allowed networks, None for one inside."""
    if allows(host):
        return None
    _LOGGER.info("%s refused to %s (not an allowed network)", what, host)
    return PlainTextResponse("Not found", status_code=404)


class NetworkGuard(ABC):
    """ASGI middleware: the wrapped app for allowed clients, the bare 404 for the others.

    A mount subclasses it, naming itself (`what`, for the log) and its setting (`allows`).
    """

    what = "page"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @abstractmethod
    def allows(self, state: State) -> Callable[[str | None], bool]:
        """From the app's state, this mount's allowed-networks test."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = refusal(self.allows(scope["app"].state), client_host(scope), self.what)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.inside(scope, receive, send)

    async def inside(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An allowed client's request; a subclass may wrap it (the API's JSON errors)."""
        await self.app(scope, receive, send)
