"""What every browser test shares: a uvicorn server on a thread of its own, headless Chromium,
a tab whose every page goes through axe-core, sign-in steps, and a real SMTP server.

The app runs under uvicorn on 127.0.0.1 in a thread with its own event loop (Simulator, Gateway
and app built by a subclass of AppServer), so Playwright's sync API can own the test's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.types import ASGIApp

from tests.inbound.test_end_to_end import Mailbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# The house rule: every journey in French on a desktop, and in English on a 320 px phone.
in_both_languages = pytest.mark.parametrize(
    ("language", "width"), [("fr", 1280), ("en", 320)], ids=["fr", "en-320"]
)

ServerT = TypeVar("ServerT", bound="AppServer")
T = TypeVar("T")


class AppServer(threading.Thread):
    """uvicorn serving the app that `build` makes, in one event loop on a thread of its own."""

    def __init__(self, name: str, directory: Path) -> None:
        super().__init__(name=name, daemon=True)
        self.directory = directory
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.ready = threading.Event()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None

    async def build(self, stack: contextlib.AsyncExitStack) -> ASGIApp:
        """The app to serve; what it needs is entered on `stack` and left when serving ends."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _serve(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            app = await self.build(stack)
            self.server = uvicorn.Server(
                uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
            )
            serving = asyncio.create_task(self.server.serve(sockets=[self.sock]))
            while not self.server.started and not serving.done():
                await asyncio.sleep(0.02)
            self.ready.set()
            await serving

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self.join(timeout=30)


@contextlib.contextmanager
def running(thread: ServerT) -> Iterator[ServerT]:
    """The server started and ready; stopped afterwards, and it must have stopped cleanly."""
    thread.start()
    assert thread.ready.wait(30), "server did not start"
    if thread.error is not None:
        raise thread.error
    try:
        yield thread
    finally:
        thread.stop()
    assert not thread.is_alive(), "the server thread did not stop"
    assert thread.error is None, thread.error


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one per test module (Playwright's sync API allows one at a time)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def no_leaked_tasks() -> None:
    """Replaces the suite's async check (assign it to `_no_leaked_tasks` in a browser test
    module): Playwright's sync API owns the test's thread, and the server's tasks live in its
    own thread's loop, which must end when the thread joins."""


class Tab:
    """One browser tab; `check` runs axe-core and the page rules on the page it shows."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.csp_errors: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)

    def check(self) -> None:
        """axe-core: no violation at all; one h1; no sideways scroll; no CSP error."""
        page = self.page
        page.wait_for_load_state("load")
        results = self.axe.run(page)
        assert results.violations_count == 0, results.generate_report()
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert self.csp_errors == []


@contextlib.contextmanager
def open_tab(
    browser: Browser, directory: Path, name: str, *, width: int, height: int = 900
) -> Iterator[Tab]:
    """A fresh context (no cookies) at `width` px; a screenshot in `directory` on failure."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        with screenshots(page, directory, name):
            yield Tab(page)
    finally:
        context.close()


@contextlib.contextmanager
def screenshots(page: Page, directory: Path, name: str) -> Iterator[None]:
    """On failure, keep what the person saw."""
    try:
        yield
    except BaseException:
        shot = directory / f"{name}-failure.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
        raise


def field(label: str) -> re.Pattern[str]:
    """A field's accessible name: its label, maybe followed by "(obligatoire)"."""
    return re.compile(rf"^{re.escape(label)}( \(.*\))?$")


STAFF_SIGN_IN = {
    "fr": {"username": "Nom d'utilisateur", "password": "Mot de passe", "login": "Connexion"},
    "en": {"username": "Username", "password": "Password", "login": "Sign in"},
}


def staff_sign_in(tab: Tab, url: str, username: str, password: str, language: str) -> None:
    """The staff sign-in page (checked), then its form; lands on the next step's page."""
    words = STAFF_SIGN_IN[language]
    page = tab.page
    page.goto(f"{url}/admin/login?lang={language}")
    tab.check()
    page.get_by_label(words["username"]).fill(username)
    page.get_by_label(words["password"]).fill(password)
    page.get_by_role("button", name=words["login"], exact=True).click()


def phone_inbox(url: str, number: str) -> list[dict[str, Any]]:
    """What the simulated phone received, as a demo visitor reads it."""
    with urllib.request.urlopen(f"{url}/sim/phones/{number}/messages", timeout=5) as response:
        messages: list[dict[str, Any]] = json.load(response)
    return messages


def poll(read: Callable[[], T | None], what: str, *, timeout: float = 20.0) -> T:
    """The first value `read` gives that is not None; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still waiting for {what}")


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives; its port."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's start-up check needs the port beforehand
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
