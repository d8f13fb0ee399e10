"""An operator in headless Chromium composes a bilingual alert to one zone, previews it, sends
it and watches the progress reach 100 %; the simulated phones in that zone got it in their
language, the others nothing. axe-core checks every page, at 1280 px in French and 320 px in
English. Server: Simulator + Gateway + uvicorn in a thread, as tests/web/test_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, sync_playwright

from gateway import config as config_module
from gateway.campaigns.admins import AdminAccounts
from gateway.campaigns.models import Role
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.config import ModemSettings
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.web.helpers import fast_settings
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, field, screenshots
from web.app import create_app

pytestmark = pytest.mark.slow

PASSWORD = "une phrase de passe assez longue"
ZONES = ["Nord", "Est", "Ouest"]
PHONE_COUNT = 18
FR = "Avis d'ébullition : faites bouillir l'eau du robinet."
EN = "Boil-water advisory: boil tap water before drinking."


class Server(threading.Thread):
    """Simulator, Gateway and uvicorn in one event loop on a thread of their own."""

    def __init__(self, directory: Path) -> None:
        super().__init__(name="tocsin-admin-test", daemon=True)
        self.directory = directory
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.ready = threading.Event()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None
        self.phones: list[str] = []

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _serve(self) -> None:
        config = config_module.from_mapping(
            {},
            {
                "storage.path": str(self.directory / "tocsin.sqlite"),
                "dispatch.retry_base_s": 0.05,
                "dispatch.watchdog_interval_s": 0.5,
            },
        )
        async with Simulator(modems=2, phones=PHONE_COUNT, scale=0.02) as sim:
            modems = tuple(
                ModemSettings(port=str(m.port), name=f"sim{i}") for i, m in enumerate(sim.modems)
            )
            async with Gateway(config, modems) as gateway:
                assert gateway.db is not None
                await load_sample_streets(gateway.db, "Ville de Démo")
                self.phones = [p.number for p in sim.phones]
                zones = await streets_by_zone(gateway.db)
                await seed_residents(gateway.db, town(self.phones, zones, zone_names=ZONES))
                await AdminAccounts(gateway.db).create("operatrice", PASSWORD, Role.OPERATOR)
                await AdminAccounts(gateway.db).create("chef", PASSWORD, Role.ADMIN)
                app = create_app(gateway, simulator=sim, settings=fast_settings())
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


@pytest.fixture(autouse=True)
def _no_leaked_tasks() -> None:
    """Overrides the suite's async check: the server's tasks live in its own thread's loop."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    thread = Server(tmp_path_factory.mktemp("admin"))
    thread.start()
    assert thread.ready.wait(30), "server did not start"
    if thread.error is not None:
        raise thread.error
    yield thread
    thread.stop()
    assert not thread.is_alive(), "the server thread did not stop"
    assert thread.error is None, thread.error


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def check(page: Page, axe: Axe, csp_errors: list[str]) -> None:
    """axe-core: no violation; one h1; no sideways scroll; no CSP error."""
    page.wait_for_load_state("load")
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page.locator("h1").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert csp_errors == []


def inbox(server: Server, number: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/sim/phones/{number}/messages", timeout=5) as r:
        messages: list[dict[str, Any]] = json.load(r)
    return messages


def expected_in(zone: str, phones: list[str]) -> dict[str, str]:
    """Number → language the zone's residents should get (the seed's rules, see seed.town)."""
    fake_zones = {name: [i] for i, name in enumerate(ZONES)}
    languages: dict[str, set[str]] = {}
    for person in town(phones, fake_zones, zone_names=ZONES):
        if person.street_id != ZONES.index(zone) or not person.consent_sms:
            continue
        for number in person.sms_numbers:
            languages.setdefault(number, set()).add(person.language)
    return {n: (langs.pop() if len(langs) == 1 else "fr") for n, langs in languages.items()}


WORDS = {
    "fr": {
        "username": "Nom d'utilisateur",
        "password": "Mot de passe",
        "login": "Connexion",
        "new": "Nouvelle alerte",
        "title": "Titre",
        "fr": "Texte en français",
        "en": "Texte en anglais",
        "zones": "Des secteurs",
        "preview": "Aperçu",
        "confirm": "J'ai vérifié l'aperçu",
        "send": "Envoyer l'alerte",
        "done": "Tous les messages sont terminés.",
        "report": "Rapport par destinataire",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "login": "Sign in",
        "new": "New alert",
        "title": "Title",
        "fr": "French text",
        "en": "English text",
        "zones": "Zones",
        "preview": "Preview",
        "confirm": "I checked the preview",
        "send": "Send the alert",
        "done": "Every message is finished.",
        "report": "Per-recipient report",
    },
}


@pytest.mark.parametrize(
    "journey", [("fr", "Nord", 1280), ("en", "Est", 320)], ids=["fr", "en-320"]
)
def test_operator_sends_a_zone_alert(
    server: Server, browser: Browser, tmp_path: Path, journey: tuple[str, str, int]
) -> None:
    language, zone, width = journey
    words = WORDS[language]
    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    expected = expected_in(zone, server.phones)
    assert expected
    before = {number: len(inbox(server, number)) for number in server.phones}
    try:
        with screenshots(page, tmp_path, f"admin-{language}"):
            page.goto(f"{server.url}/admin/login?lang={language}")
            check(page, axe, csp_errors)
            page.get_by_label(words["username"]).fill("operatrice")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")
            check(page, axe, csp_errors)

            page.get_by_role("link", name=words["new"]).first.click()
            page.wait_for_url("**/admin/campaigns/new")
            check(page, axe, csp_errors)
            page.get_by_label(field(words["title"])).fill(f"Avis {zone}")
            page.get_by_label(field(words["fr"])).fill(FR)
            page.get_by_label(words["en"]).fill(EN)
            page.get_by_label(words["zones"], exact=True).check()
            page.get_by_label(re.compile(rf"^{zone}\b")).check()
            page.get_by_role("button", name=words["preview"], exact=True).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)
            page.get_by_label(re.compile(re.escape(words["confirm"]))).check()
            page.get_by_role("button", name=words["send"]).click()
            page.wait_for_url(re.compile(r".*/admin/campaigns/\d+$"))
            # admin-progress.js follows the event stream and reloads the page when done (the
            # "done" line is server-rendered, so once it shows, the reload has happened).
            page.get_by_text(words["done"]).wait_for(timeout=30_000)
            check(page, axe, csp_errors)
            assert page.locator('[data-field="percent"]').inner_text() == "100"

            page.get_by_role("link", name=words["report"]).click()
            check(page, axe, csp_errors)
            assert page.locator("table.report tbody tr").count() == len(expected)

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # delivered means on the phone already
            got = {n: inbox(server, n)[before[n] :] for n in server.phones}
            if all(got[n] for n in expected):
                break
            time.sleep(0.1)
        for number in server.phones:
            texts = [m["text"] for m in got[number]]
            if number in expected:
                assert texts == [EN if expected[number] == "en" else FR], number
            else:
                assert texts == [], number
    finally:
        context.close()
