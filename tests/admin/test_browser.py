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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
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
from modem.simulator.call_phone import CallBehaviour
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

    def __init__(self, directory: Path, *, voice: bool = False) -> None:
        super().__init__(name="tocsin-admin-test", daemon=True)
        self.directory = directory
        self.voice = voice  # modems serve calls too, and every phone presses 1 during them
        self.sim: Simulator | None = None
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
                # Above the simulated SIMs' 12.50: a balance check raises the credit alarm.
                "health.low_credit": 100.0,
                "health.balance_check_s": 0.0,
            },
        )
        async with Simulator(
            modems=2,
            phones=PHONE_COUNT,
            scale=0.02,
            family=["ec25", "sim7600"] if self.voice else "sim800",
        ) as sim:
            self.sim = sim
            modems = tuple(
                ModemSettings(
                    port=str(m.port),
                    name=f"sim{i}",
                    channels=("sms", "voice") if self.voice else ("sms",),
                    audio_port=str(m.voice.audio_path or "") if self.voice else "",
                    balance_ussd="*100#",
                )
                for i, m in enumerate(sim.modems)
            )
            for phone in sim.phones:
                phone.voice.record_dir = self.directory
                phone.voice.behaviour = CallBehaviour(keys=((0.5, "1"),))
            async with Gateway(config, modems) as gateway:
                assert gateway.db is not None
                await load_sample_streets(gateway.db, "Ville de Démo")
                self.phones = [p.number for p in sim.phones]
                zones = await streets_by_zone(gateway.db)
                await seed_residents(gateway.db, town(self.phones, zones, zone_names=ZONES))
                await AdminAccounts(gateway.db).create("operatrice", PASSWORD, Role.OPERATOR)
                await AdminAccounts(gateway.db).create("gestionnaire", PASSWORD, Role.ADMIN)
                for language in ("fr", "en"):  # test_admin_extras: one account per journey
                    await AdminAccounts(gateway.db).create(f"chef-{language}", PASSWORD, Role.ADMIN)
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


HEALTH_WORDS = {
    "fr": {"nav": "État du système", "check": "Vérifier le solde — sim0", "banner": "Crédit bas"},
    "en": {"nav": "System health", "check": "Check the balance — sim0", "banner": "Low credit"},
}


@pytest.mark.parametrize("view", [("fr", 1280), ("en", 320)], ids=["fr", "en-320"])
def test_health_page(
    server: Server, browser: Browser, tmp_path: Path, view: tuple[str, int]
) -> None:
    """The health page from the menu; "check the balance" raises the credit alarm's banner."""
    language, width = view
    words = {**WORDS[language], **HEALTH_WORDS[language]}
    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        with screenshots(page, tmp_path, f"health-{language}"):
            page.goto(f"{server.url}/admin/login?lang={language}")
            page.get_by_label(words["username"]).fill("operatrice")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")
            page.get_by_role("link", name=words["nav"]).first.click()
            page.wait_for_url("**/admin/health")
            check(page, axe, csp_errors)
            assert page.locator("table.health tbody tr").count() == 2
            page.get_by_role("button", name=words["check"]).click()
            page.wait_for_url("**/admin/health")
            page.locator(".banner").get_by_text(words["banner"]).wait_for()
            check(page, axe, csp_errors)
            assert "12" in page.locator("table.health tbody tr").first.inner_text()
            page.goto(f"{server.url}/admin/campaigns")
            assert page.locator(".banner").get_by_text(words["banner"]).count() == 1
            check(page, axe, csp_errors)
    finally:
        context.close()


NEIGHBOUR_WORDS = {
    "fr": {"menu": "Alertes de voisins", "post": "Publier", "filter": "Filtrer"},
    "en": {"menu": "Neighbour alerts", "post": "Post", "filter": "Filter"},
}


@pytest.mark.parametrize("journey", [("fr", 1280), ("en", 320)], ids=["fr", "en-320"])
def test_neighbour_alert_list_filters_and_detail(
    server: Server, browser: Browser, tmp_path: Path, journey: tuple[str, int]
) -> None:
    language, width = journey
    words = {**WORDS[language], **NEIGHBOUR_WORDS[language]}
    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        with screenshots(page, tmp_path, f"neighbours-{language}"):
            page.goto(f"{server.url}/admin/login?lang={language}")
            page.get_by_label(words["username"]).fill("operatrice")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")
            page.goto(f"{server.url}/admin/neighbours")
            check(page, axe, csp_errors)
            # The town posts to one zone (the seeded residents did not opt in to neighbour
            # alerts, so no phone receives it and the campaign test's inboxes stay as they are).
            page.locator("#zone").select_option(label="Ouest")
            page.locator("#body").fill(f"Avis {language}: rue fermée")
            page.get_by_role("button", name=words["post"], exact=True).click()
            page.wait_for_url("**/admin/neighbours")
            check(page, axe, csp_errors)
            page.locator("#f-zone").select_option(label="Ouest")
            page.locator("#f-sender").fill("town")
            page.get_by_role("button", name=words["filter"], exact=True).click()
            page.wait_for_url(re.compile(r".*/admin/neighbours\?.*zone=\d+.*"))
            check(page, axe, csp_errors)
            row = page.locator("table tbody tr", has_text=f"Avis {language}: rue fermée")
            assert row.count() == 1
            row.get_by_role("link").click()
            page.wait_for_url(re.compile(r".*/admin/neighbours/\d+$"))
            check(page, axe, csp_errors)
            assert f"Avis {language}: rue fermée" in page.locator("main").inner_text()
    finally:
        context.close()


REFERENCE_WORDS = {
    "fr": {
        "username": "Nom d'utilisateur",
        "password": "Mot de passe",
        "login": "Connexion",
        "reference": "Secteurs et rues",
        "move_to": "Déplacer les rues cochées vers le secteur",
        "move": "Déplacer",
        "residents": "Résidents",
        "import": "Importer des résidents (CSV)",
        "file": "Fichier CSV de résidents",
        "start": "Importer",
        "report": "Rapport des lignes non ajoutées",
        "search": "Nom, numéro ou rue",
        "find": "Chercher",
        "street_unknown": "rue absente de la liste",
        "phone": "numéro de téléphone invalide",
        "see": "Voir les résidents",
    },
    "en": {
        "username": "Username",
        "password": "Password",
        "login": "Sign in",
        "reference": "Zones and streets",
        "move_to": "Move the ticked streets to zone",
        "move": "Move",
        "residents": "Residents",
        "import": "Import residents (CSV)",
        "file": "CSV file of residents",
        "start": "Import",
        "report": "Report of the rows not added",
        "search": "Name, number or street",
        "find": "Search",
        "street_unknown": "street not in the town",
        "phone": "phone number invalid",
        "see": "See the residents",
    },
}
# Nobody seeded lives on these Centre streets, so the zone alert test above is unaffected.
MOVED_STREET = "RUE SAINT-ANDRÉ"
SMALL_CSV = (
    "Nom;Prénom;Langue;No civique;Rue;Téléphone;Type;Vérifié;Consentement SMS\r\n"
    "Pelletier;Anne;fr;12;RUE SAINTE-MARIE;819 555-0199;both;oui;oui\r\n"
    "Nobody;Zed;en;3;RUE DE NULLE PART;819 555-0198;sms;oui;oui\r\n"
    "Lavoie;Marc;fr;4;RUE SAINTE-MARIE;123;voice;non;non\r\n"
)


@pytest.mark.parametrize(
    "journey", [("fr", "Nord", 1280), ("en", "Centre", 320)], ids=["fr", "en-320"]
)
def test_admin_moves_a_street_and_imports_residents(
    server: Server, browser: Browser, tmp_path: Path, journey: tuple[str, str, int]
) -> None:
    language, zone, width = journey
    words = REFERENCE_WORDS[language]
    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    csv_file = tmp_path / "residents.csv"
    csv_file.write_bytes(SMALL_CSV.encode("cp1252"))
    try:
        with screenshots(page, tmp_path, f"admin-reference-{language}"):
            page.goto(f"{server.url}/admin/login?lang={language}")
            page.get_by_label(words["username"]).fill("gestionnaire")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")

            page.get_by_role("link", name=words["reference"]).first.click()
            page.wait_for_url("**/admin/reference")
            check(page, axe, csp_errors)
            page.get_by_label(MOVED_STREET, exact=True).check()
            page.get_by_label(words["move_to"]).select_option(label=zone)
            page.get_by_role("button", name=words["move"], exact=True).click()
            page.wait_for_url("**/admin/reference")
            check(page, axe, csp_errors)
            row = page.locator("tr", has=page.get_by_label(MOVED_STREET, exact=True))
            assert row.locator("td").nth(3).inner_text() == zone

            page.get_by_role("link", name=words["residents"], exact=True).first.click()
            page.wait_for_url("**/admin/residents")
            check(page, axe, csp_errors)
            page.get_by_role("link", name=words["import"]).click()
            page.wait_for_url("**/admin/residents/import")
            check(page, axe, csp_errors)
            page.get_by_label(words["file"]).set_input_files(str(csv_file))
            page.get_by_role("button", name=words["start"], exact=True).click()
            page.wait_for_url(re.compile(r".*/admin/residents/import/\d+"))
            # The page refreshes itself (HTTP Refresh) until the report is there.
            page.get_by_role("heading", name=words["report"]).wait_for(timeout=30_000)
            check(page, axe, csp_errors)
            report = page.locator("table.report tbody tr")
            lines = {
                report.nth(i).locator("td").first.inner_text(): report.nth(i).inner_text()
                for i in range(report.count())
            }
            assert words["street_unknown"] in lines["3"]
            assert words["phone"] in lines["4"]
            assert "2" not in lines or language == "en"  # the good row: added, or a duplicate

            page.get_by_role("link", name=words["see"]).click()
            page.get_by_label(words["search"]).fill("Pelletier")
            page.get_by_role("button", name=words["find"], exact=True).click()
            page.get_by_role("link", name="Pelletier, Anne").click()
            page.wait_for_url(re.compile(r".*/admin/residents/\d+$"))
            check(page, axe, csp_errors)
            assert "(819) 555-0199" in page.content() or "819-555-0199" in page.content()
    finally:
        context.close()


EXTRA_WORDS: dict[str, dict[str, Any]] = {
    "fr": {
        "account": "Mon compte",
        "enable": "Activer la double vérification",
        "code": re.compile(r"^Code à 6 chiffres"),
        "confirm_totp": "Confirmer et activer",
        "signout": re.compile(r"^Déconnexion"),
        "verify": "Vérifier",
        "template_name": "Nom du modèle",
        "save_template": "Enregistrer comme modèle",
        "templates": "Modèles",
        "use": re.compile(r"^Utiliser —"),
        "send_at": "Envoyer plus tard (facultatif)",
        "confirm_schedule": "J'ai vérifié l'aperçu",
        "schedule": "Programmer l'alerte",
        "edit": re.compile(r"^Modifier —"),
        "cancel": re.compile(r"^Annuler —"),
        "cancelled": "L'alerte programmée est annulée.",
    },
    "en": {
        "account": "My account",
        "enable": "Turn on two-step verification",
        "code": re.compile(r"^6-digit code"),
        "confirm_totp": "Confirm and turn on",
        "signout": re.compile(r"^Sign out"),
        "verify": "Verify",
        "template_name": "Template name",
        "save_template": "Save as a template",
        "templates": "Templates",
        "use": re.compile(r"^Use —"),
        "send_at": "Send later (optional)",
        "confirm_schedule": "I checked the preview",
        "schedule": "Schedule the alert",
        "edit": re.compile(r"^Edit —"),
        "cancel": re.compile(r"^Cancel —"),
        "cancelled": "The scheduled alert is cancelled.",
    },
}


@pytest.mark.parametrize("journey", [("fr", 1280), ("en", 320)], ids=["fr", "en-320"])
def test_admin_extras(
    server: Server, browser: Browser, tmp_path: Path, journey: tuple[str, int]
) -> None:
    """Enrol TOTP, sign out, sign in with a code; save and use a template; schedule, edit and
    cancel an alert. axe checks each page."""
    language, width = journey
    words, extra = WORDS[language], EXTRA_WORDS[language]
    username = f"chef-{language}"
    axe = Axe()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )

    def sign_in() -> None:
        page.goto(f"{server.url}/admin/login?lang={language}")
        page.get_by_label(words["username"]).fill(username)
        page.get_by_label(words["password"]).fill(PASSWORD)
        page.get_by_role("button", name=words["login"], exact=True).click()

    try:
        with screenshots(page, tmp_path, f"admin-extras-{language}"):
            sign_in()
            page.wait_for_url("**/admin/campaigns")
            page.get_by_role("link", name=extra["account"]).click()
            page.wait_for_url("**/admin/account")
            check(page, axe, csp_errors)
            page.get_by_role("button", name=extra["enable"]).click()
            page.wait_for_url("**/admin/account*")
            check(page, axe, csp_errors)
            assert page.locator("svg.qr").count() == 1
            app = pyotp.TOTP(page.locator("#secret").inner_text().replace(" ", ""))
            page.get_by_label(extra["code"]).fill(app.now())
            page.get_by_role("button", name=extra["confirm_totp"]).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)
            assert page.locator("svg.qr").count() == 0

            page.get_by_role("button", name=extra["signout"]).click()
            page.wait_for_url("**/admin/login")
            sign_in()
            page.wait_for_url("**/admin/login/code")
            check(page, axe, csp_errors)
            # The next step's code: the enrolment used this one, and a code is good once.
            page.get_by_label(extra["code"]).fill(app.at(datetime.now(UTC) + timedelta(seconds=30)))
            page.get_by_role("button", name=extra["verify"]).click()
            page.wait_for_url("**/admin/campaigns")

            page.get_by_role("link", name=words["new"]).first.click()
            page.wait_for_url("**/admin/campaigns/new")
            title = f"Modèle {language}"
            page.get_by_label(field(words["title"])).fill(title)
            page.get_by_label(field(words["fr"])).fill(FR)
            page.get_by_label(words["en"]).fill(EN)
            page.get_by_label(extra["template_name"]).fill(f"Ébullition {language}")
            page.get_by_role("button", name=extra["save_template"]).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)

            page.get_by_role("link", name=extra["templates"], exact=True).click()
            page.wait_for_url("**/admin/templates")
            check(page, axe, csp_errors)
            page.get_by_role("row", name=re.compile(f"Ébullition {language}")).get_by_role(
                "link", name=extra["use"]
            ).click()
            page.wait_for_url("**/admin/campaigns/new?template=*")
            assert page.get_by_label(field(words["title"])).input_value() == title

            later = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("America/Toronto"))
            page.get_by_label(extra["send_at"]).fill(later.strftime("%Y-%m-%dT%H:%M"))
            page.get_by_label(words["zones"], exact=True).check()
            page.get_by_label(re.compile(r"^Nord\b")).check()
            page.get_by_role("button", name=words["preview"], exact=True).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)
            page.get_by_label(re.compile(re.escape(extra["confirm_schedule"]))).check()
            page.get_by_role("button", name=extra["schedule"]).click()
            page.wait_for_url("**/admin/campaigns")
            check(page, axe, csp_errors)
            row = page.get_by_role("row", name=re.compile(re.escape(title)))
            assert later.strftime("%Y-%m-%d %H:%M") in row.inner_text()

            row.get_by_role("link", name=extra["edit"]).click()
            page.wait_for_url("**/admin/scheduled/*")
            check(page, axe, csp_errors)
            assert page.get_by_label(extra["send_at"]).input_value() == later.strftime(
                "%Y-%m-%dT%H:%M"
            )
            page.go_back()
            page.wait_for_url("**/admin/campaigns")
            page.get_by_role("row", name=re.compile(re.escape(title))).get_by_role(
                "button", name=extra["cancel"]
            ).click()
            page.get_by_text(extra["cancelled"]).wait_for()
            check(page, axe, csp_errors)
    finally:
        context.close()
