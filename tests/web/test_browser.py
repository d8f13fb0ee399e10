"""A person in headless Chromium: registers, adds an SMS contact, edits the profile, signs out,
resets the password and signs in again, in French and in English; axe-core checks every page.

The app runs under uvicorn on 127.0.0.1 in a thread of its own, with a real Gateway on a
Simulator: codes travel through the outbox and a simulated modem to a simulated phone, and the
test reads them from /sim/phones/{e164}/messages like a demo visitor would.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, sync_playwright

from gateway import config as config_module
from gateway.config import ModemSettings
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.web.helpers import fast_settings
from web.app import create_app

pytestmark = pytest.mark.slow

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
PHONES = ["+15145550101", "+15145550102", "+15145550103", "+15145550104"]
_CODE = re.compile(r"\b(\d{6})\b")


class Server(threading.Thread):
    """Simulator, Gateway and uvicorn in one event loop on a thread of their own."""

    def __init__(self, directory: Path) -> None:
        super().__init__(name="tocsin-web-test", daemon=True)
        self.directory = directory
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.ready = threading.Event()
        self.server: uvicorn.Server | None = None
        self.error: BaseException | None = None

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
        async with Simulator(modems=1, phones=len(PHONES), scale=0.01) as sim:
            modems = (ModemSettings(port=str(sim.modems[0].port), name="sim0"),)
            async with Gateway(config, modems) as gateway:
                assert gateway.db is not None
                await load_sample_streets(gateway.db, "Ville de Démo")
                app = create_app(
                    gateway,
                    simulator=sim,
                    settings=fast_settings(
                        captcha_max_number=3000, budget_number_15min=20, budget_ip_hour=100
                    ),
                )
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
        self.join(timeout=15)


@pytest.fixture(autouse=True)
def _no_leaked_tasks() -> None:
    """Overrides the suite's async check: Playwright's sync API owns this thread's loop, and
    the server's tasks live in its own thread's loop, which must end when the thread joins."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    thread = Server(tmp_path_factory.mktemp("web"))
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


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


class Person:
    """One visitor with a browser tab; every page they land on goes through axe."""

    def __init__(self, page: Page, server: Server, axe: Axe) -> None:
        self.page = page
        self.server = server
        self.axe = axe
        self.visited: list[str] = []
        self.csp_errors: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.csp_errors.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def check(self) -> None:
        """axe-core on the current page: no violation at all, one h1, no sideways scroll."""
        page = self.page
        page.wait_for_load_state("load")
        self.visited.append(page.url)
        results = self.axe.run(page)
        assert results.violations_count == 0, results.generate_report()
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert self.csp_errors == []

    def inbox(self, number: str) -> list[dict[str, Any]]:
        url = f"{self.server.url}/sim/phones/{number}/messages"
        with urllib.request.urlopen(url, timeout=5) as response:
            messages: list[dict[str, Any]] = json.load(response)
        return messages

    def wait_for_code(self, number: str, seen: int, timeout: float = 20.0) -> str:
        """The code in the first message after the `seen` first ones of that phone's inbox."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.inbox(number)
            if len(messages) > seen:
                match = _CODE.search(messages[seen]["text"])
                assert match is not None, messages[seen]["text"]
                return match.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no new message on {number}")


def field(label: str) -> re.Pattern[str]:
    """A field's accessible name: its label, maybe followed by "(obligatoire)"."""
    return re.compile(rf"^{re.escape(label)}( \(.*\))?$")


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


WORDS = {
    "fr": {
        "new_user": "Nouvel usager",
        "phone": "Numéro de téléphone",
        "sms": "SMS (texto)",
        "robot": "Je ne suis pas un robot",
        "accept": "J'accepte",
        "ok": "OK",
        "access_code": "Code d'accès à 6 chiffres",
        "new_password": "Nouveau mot de passe",
        "confirm": "Confirmer",
        "yes": "Oui",
        "last_name": "Nom",
        "first_name": "Prénom",
        "civic": "No civique",
        "street": "Rue",
        "postal": "Code postal",
        "saved": "Votre profil a été enregistré.",
        "add_sms": "Ajouter un numéro SMS",
        "description": "Description (facultatif)",
        "add": "Ajouter",
        "code": "Code à 6 chiffres",
        "verified": "Le numéro est confirmé et actif.",
        "logout": "Déconnexion",
        "forgot": "Mot de passe oublié?",
        "send": "Envoyer",
        "save": "Enregistrer",
        "password": "Mot de passe",
        "login": "Connexion",
        "profile": "Mon profil",
        "neighbours": "Alertes de voisins",
        "reset_done": "Votre mot de passe a été modifié. Connectez-vous avec le nouveau.",
        "to_login": "Aller à la connexion",
        "chosen": "Votre mot de passe est enregistré. Utilisez-le à la prochaine connexion.",
    },
    "en": {
        "new_user": "New user",
        "phone": "Phone number",
        "sms": "SMS (text message)",
        "robot": "I am not a robot",
        "accept": "I accept",
        "ok": "OK",
        "access_code": "6-digit access code",
        "new_password": "New password",
        "confirm": "Confirm",
        "yes": "Yes",
        "last_name": "Last name",
        "first_name": "First name",
        "civic": "Civic number",
        "street": "Street",
        "postal": "Postal code",
        "saved": "Your profile has been saved.",
        "add_sms": "Add an SMS number",
        "description": "Description (optional)",
        "add": "Add",
        "code": "6-digit code",
        "verified": "The number is confirmed and active.",
        "logout": "Sign out",
        "forgot": "Forgot your password?",
        "send": "Send",
        "save": "Save",
        "password": "Password",
        "login": "Sign in",
        "profile": "My profile",
        "neighbours": "Neighbour alerts",
        "reset_done": "Your password has been changed. Sign in with the new one.",
        "to_login": "Go to sign-in",
        "chosen": "Your password is saved. Use it the next time you sign in.",
    },
}


@dataclass(frozen=True)
class Journey:
    """One run of the story: its language, its phones, and the window width."""

    language: str
    login_phone: str
    sms_phone: str
    width: int


@pytest.mark.parametrize(
    "journey",
    [Journey("fr", PHONES[0], PHONES[2], 1280), Journey("en", PHONES[1], PHONES[3], 320)],
    ids=["fr-desktop", "en-320px"],
)
def test_resident_journey(
    server: Server, browser: Browser, axe: Axe, tmp_path: Path, journey: Journey
) -> None:
    language, login_phone, sms_phone = journey.language, journey.login_phone, journey.sms_phone
    width = journey.width
    words = WORDS[language]
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    person = Person(page, server, axe)
    local = login_phone[2:5] + " " + login_phone[5:8] + "-" + login_phone[8:]
    try:
        with screenshots(page, tmp_path, language):
            # Sign-in page, then Nouvel usager.
            page.goto(f"{server.url}/login?lang={language}")
            person.check()
            assert page.locator("html").get_attribute("lang") == language
            page.get_by_role("link", name=words["new_user"]).click()
            person.check()
            seen = len(person.inbox(login_phone))
            page.get_by_label(words["phone"]).fill(local)
            page.get_by_label(words["sms"]).check()
            page.get_by_label(words["robot"]).check()
            page.get_by_label(words["accept"]).check()
            page.get_by_role("button", name=words["ok"], exact=True).click()
            page.wait_for_url("**/register/code")
            person.check()

            # The code arrives on the simulated phone; choose a password.
            code = person.wait_for_code(login_phone, seen)
            page.get_by_label(words["access_code"]).fill(code)
            page.get_by_label(words["new_password"]).fill("le chat dort sur la table")
            page.get_by_role("button", name=words["confirm"]).click()
            page.wait_for_url("**/welcome")
            person.check()
            page.get_by_role("button", name=words["yes"], exact=True).click()
            page.wait_for_url("**/profile")
            person.check()

            # The profile.
            page.get_by_label(field(words["last_name"])).fill("Racicot")
            page.get_by_label(words["first_name"]).fill("Antoine")
            page.get_by_label(words["civic"]).fill("710")
            page.get_by_label(field(words["street"])).select_option(label="BOULEVARD DES SEIGNEURS")
            page.get_by_label(words["postal"]).fill("j6w1t6")
            page.get_by_role("button", name=words["confirm"]).click()
            page.wait_for_url("**/profile")
            person.check()
            assert page.get_by_text(words["saved"]).is_visible()
            assert page.get_by_label(words["postal"]).input_value() == "J6W 1T6"

            # Another SMS number, confirmed by the code it receives.
            page.get_by_role("link", name=words["add_sms"]).click()
            person.check()
            seen = len(person.inbox(sms_phone))
            page.get_by_label(words["phone"]).fill(sms_phone)
            page.get_by_label(words["description"]).fill("Travail")
            page.get_by_role("button", name=words["add"], exact=True).click()
            page.wait_for_url("**/verify")
            person.check()
            page.get_by_label(words["code"]).fill(person.wait_for_code(sms_phone, seen))
            page.get_by_role("button", name=words["confirm"]).click()
            page.wait_for_url("**/profile")
            person.check()
            assert page.get_by_text(words["verified"]).is_visible()
            assert page.get_by_role("cell", name="Travail").is_visible()

            # Sign out, forget the password, reset it, sign in again.
            page.get_by_role("button", name=words["logout"]).click()
            page.wait_for_url("**/login")
            person.check()
            page.get_by_role("link", name=words["forgot"]).click()
            person.check()
            seen = len(person.inbox(login_phone))
            page.get_by_label(words["phone"]).fill(local)
            page.get_by_label(words["robot"]).check()
            page.get_by_role("button", name=words["send"]).click()
            page.wait_for_url("**/reset")
            person.check()
            page.get_by_label(words["code"]).fill(person.wait_for_code(login_phone, seen))
            page.get_by_label(words["new_password"]).fill("une autre phrase secrète")
            page.get_by_role("button", name=words["save"]).click()
            page.wait_for_url("**/login")
            person.check()
            assert page.get_by_text(words["reset_done"]).is_visible()
            page.get_by_label(words["phone"]).fill(login_phone)
            page.get_by_label(field(words["password"])).fill("une autre phrase secrète")
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/profile")
            person.check()
            assert page.get_by_role("heading", level=1).inner_text() == words["profile"]
            assert page.get_by_label(field(words["last_name"])).input_value() == "Racicot"
            # The community's neighbour alerts, from the menu.
            page.get_by_role("link", name=words["neighbours"]).click()
            page.wait_for_url("**/neighbours")
            person.check()
            assert page.get_by_role("heading", level=1).inner_text() == words["neighbours"]

            # The seed's way: "Mot de passe oublié?", then the code itself as the password,
            # then a password of one's own.
            page.get_by_role("button", name=words["logout"]).click()
            page.wait_for_url("**/login")
            page.get_by_role("link", name=words["forgot"]).click()
            seen = len(person.inbox(login_phone))
            page.get_by_label(words["phone"]).fill(local)
            page.get_by_label(words["robot"]).check()
            page.get_by_role("button", name=words["send"]).click()
            page.wait_for_url("**/reset")
            code = person.wait_for_code(login_phone, seen)
            page.get_by_role("link", name=words["to_login"]).click()
            page.wait_for_url("**/login")
            page.get_by_label(words["phone"]).fill(local)
            page.get_by_label(field(words["password"])).fill(code)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/password/new")
            person.check()
            page.get_by_label(words["new_password"]).fill("une troisième phrase secrète")
            page.get_by_role("button", name=words["save"]).click()
            page.wait_for_url("**/profile")
            person.check()
            assert page.get_by_text(words["chosen"]).is_visible()
    finally:
        context.close()
