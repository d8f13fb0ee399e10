"""The web pages served by uvicorn inside the gateway's own event loop (one process, one loop)."""

from __future__ import annotations

import logging

import uvicorn

from gateway.service import Gateway
from web.app import create_app
from web.routes_sim import PhoneDirectory

_LOGGER = logging.getLogger(__name__)


async def serve_web(
    gateway: Gateway, *, host: str, port: int, simulator: PhoneDirectory | None = None
) -> None:
    """Serve until cancelled; the gateway must be started already (its owner stops it)."""
    app = create_app(gateway, simulator=simulator)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, lifespan="on", log_level="warning")
    )
    # uvicorn catches SIGTERM/SIGINT while serving, shuts down gracefully, then raises the
    # signal again for the service's own handler, which stops the gateway.
    _LOGGER.info("web pages on http://%s:%d/", host, port)
    await server.serve()
