"""`tocsin run`: the gateway and its web pages, told to systemd (ready, watchdog, stopping)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Final

from gateway.config import Config
from gateway.dispatcher import ModemPool
from gateway.modem_worker import Health
from gateway.sdnotify import Notifier
from gateway.service import Gateway
from gateway.webserver import serve_web

_LOGGER = logging.getLogger(__name__)

# A modem's first open takes a few seconds (sync, SIM unlock, registration); a missing or dead
# one must not hold READY=1 back until systemd's start timeout kills a gateway that can serve.
MODEM_SETTLE_S: Final = 60.0
# How often start-up looks at the modems' first attempts (a few checks, only while starting).
_SETTLE_CHECK_S: Final = 0.1


async def run_service(config: Config, notifier: Notifier | None = None) -> None:
    """Run until cancelled (SIGTERM): READY=1 once storage, modems and web are up."""
    notify = notifier or Notifier()
    watchdog = asyncio.create_task(notify.watchdog(), name="systemd watchdog")
    started = time.monotonic()
    try:
        notify.status("opening the database")
        async with Gateway(config) as gateway:
            notify.status(f"starting {len(gateway.pool.workers)} modem(s) and the web pages")
            listening = asyncio.Event()
            host, port = config.get_str("web.host"), config.get_int("web.port")
            web = asyncio.create_task(
                serve_web(
                    gateway,
                    host=host,
                    port=port,
                    tls=config.get_str("web.tls"),
                    tls_dir=Path(config.get_str("web.tls_dir")),
                    started=listening,
                ),
                name="web pages",
            )
            try:
                await _until_listening(listening, web)
                await modems_settled(gateway.pool, MODEM_SETTLE_S)
                summary = _summary(gateway.pool)
                _LOGGER.info("ready in %.1f s: %s", time.monotonic() - started, summary)
                notify.ready(f"serving on port {port}; {summary}")
                statuses = asyncio.create_task(_follow_modems(gateway, notify, port))
                try:
                    await web  # returns after uvicorn's own graceful stop on SIGTERM
                    await asyncio.Event().wait()  # then the re-raised signal cancels us
                finally:
                    statuses.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await statuses
            finally:
                # The stop begins here: web pages first, then the pool and the database.
                notify.stopping("stopping: finishing sends in flight")
                web.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await web
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
        notify.close()


async def modems_settled(pool: ModemPool, timeout: float) -> None:
    """Wait until every modem has answered or failed its first open, at most `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(
            w.status.health is not Health.DOWN or w.status.last_error is not None
            for w in pool.workers
        ):
            return
        await asyncio.sleep(_SETTLE_CHECK_S)
    _LOGGER.warning("some modems are still starting after %.0f s; ready anyway", timeout)


async def _until_listening(listening: asyncio.Event, web: asyncio.Task[None]) -> None:
    """The web socket listens, or the server's own error (port in use, bad certificate)."""
    waiter = asyncio.create_task(listening.wait())
    try:
        await asyncio.wait({waiter, web}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not listening.is_set():
        web.result()  # raises what stopped it
        raise RuntimeError("the web server stopped before listening")


async def _follow_modems(gateway: Gateway, notify: Notifier, port: int) -> None:
    """Keep `systemctl status` current: one STATUS= line per modem health change."""
    subscription = gateway.bus.subscribe({"modem"})
    last = ""
    try:
        async for _event in subscription:
            # A modem goes busy and ready at every send: only a changed summary is news.
            status = f"serving on port {port}; {_summary(gateway.pool)}"
            if status != last:
                notify.status(status)
                last = status
    finally:
        subscription.close()


def _summary(pool: ModemPool) -> str:
    usable = sum(w.status.health in (Health.READY, Health.BUSY) for w in pool.workers)
    return f"{usable}/{len(pool.workers)} modem(s) ready"
