"""A real webhook receiver for tests: uvicorn + Starlette on an ephemeral loopback port.

It checks each POST's signature as the README tells receivers to, answers 500 to the first
`fail_first` posts (then 200), and keeps what it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.webhooks import signing

SECRET = "un secret partagé assez long"


@dataclass
class Received:
    """One POST as the receiver saw it."""

    event: str
    event_id: str
    body: dict[str, Any]
    signature_ok: bool
    answered: int


@dataclass
class Receiver:
    """What the server saw; `url` to configure in webhooks.urls."""

    url: str = ""
    fail_first: int = 0
    hang: bool = False
    posts: list[Received] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # ends a hang

    @property
    def good(self) -> list[Received]:
        """Accepted (2xx) posts with a valid signature."""
        return [p for p in self.posts if p.signature_ok and p.answered == 200]

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Until `count` posts were accepted."""
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: len(self.good) >= count)
        return self.good

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        ok = signing.verify(SECRET, request.headers.get(signing.SIGNATURE_HEADER, ""), raw)
        if self.hang:
            await self.release.wait()
        status = 500 if len(self.posts) < self.fail_first else 200
        if not ok:
            status = 400
        self.posts.append(
            Received(
                request.headers.get(signing.EVENT_HEADER, ""),
                request.headers.get(signing.DELIVERY_HEADER, ""),
                json.loads(raw),
                ok,
                status,
            )
        )
        async with self.arrived:
            self.arrived.notify_all()
        return Response(status_code=status)


@contextlib.asynccontextmanager
async def running_receiver(*, fail_first: int = 0, hang: bool = False) -> AsyncIterator[Receiver]:
    """Serve on 127.0.0.1:<free port> in this loop until the block ends."""
    receiver = Receiver(fail_first=fail_first, hang=hang)
    app = Starlette(routes=[Route("/hook", receiver._handle, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]), name="webhook receiver")
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield receiver
    finally:
        receiver.release.set()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
