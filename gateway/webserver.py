"""The web pages served by uvicorn inside the gateway's own event loop (one process, one loop)."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import uvicorn

from gateway.service import Gateway
from gateway.tls import ensure_certificate, is_loopback
from web.app import create_app
from web.routes_sim import PhoneDirectory

_LOGGER = logging.getLogger(__name__)


async def serve_web(
    gateway: Gateway,
    *,
    host: str,
    port: int,
    simulator: PhoneDirectory | None = None,
    tls: str = "auto",
    tls_dir: Path | None = None,
    started: asyncio.Event | None = None,
) -> None:
    """Serve until cancelled; the gateway must be started already (its owner stops it).

    HTTPS unless told otherwise or only on loopback: passwords and codes cross the LAN.
    `started` is set once the socket listens (the service's readiness waits for it)."""
    app = create_app(gateway, simulator=simulator)
    use_tls = tls == "on" or (tls == "auto" and not is_loopback(host))
    certificate: str | None = None
    key: str | None = None
    if use_tls:
        paths = ensure_certificate(tls_dir or Path("tls"), host)
        certificate, key = str(paths.certificate), str(paths.key)
    server = _Server(
        started or asyncio.Event(),
        uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on",
            log_level="warning",
            ssl_certfile=certificate,
            ssl_keyfile=key,
        ),
    )
    # uvicorn catches SIGTERM/SIGINT while serving, shuts down gracefully, then raises the
    # signal again for the service's own handler, which stops the gateway.
    _LOGGER.info("web pages on %s://%s:%d/", "https" if use_tls else "http", host, port)
    serving = asyncio.ensure_future(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True  # a graceful stop: connections end, the socket closes
        await serving
        raise


class _Server(uvicorn.Server):
    """uvicorn's server, telling its owner when it listens (uvicorn has no hook for that)."""

    def __init__(self, started: asyncio.Event, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._started_event.set()
