"""The staff side's browser tests: a town on the simulator (seeded residents, staff accounts)
served by uvicorn, and a tab signed in as one of the staff."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser
from starlette.types import ASGIApp

from gateway import config as config_module
from gateway.campaigns.admins import AdminAccounts
from gateway.campaigns.models import Role
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.config import ModemSettings
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from modem.simulator.call_phone import CallBehaviour
from tests.browser import AppServer, Tab, field, open_tab, running, staff_sign_in
from tests.inbound.helpers import add_resident
from tests.web.helpers import fast_settings
from web.app import create_app

PASSWORD = "une phrase de passe assez longue"
ZONES = ["Nord", "Est", "Ouest"]
PHONE_COUNT = 18
FR = "Avis d'ébullition : faites bouillir l'eau du robinet."
EN = "Boil-water advisory: boil tap water before drinking."
# The one resident who accepted neighbour alerts: in Ouest, which no campaign test targets,
# on a phone of her own outside `AdminServer.phones`, whose inboxes the campaign test reads.
NEIGHBOUR_ZONE = "Ouest"
NEIGHBOUR_NAME = "Voisine"
# One staff account per journey, so that no test depends on what another did to an account.
STAFF = {
    "operatrice": Role.OPERATOR,
    "gestionnaire": Role.ADMIN,
    "chef": Role.ADMIN,
    "chef-fr": Role.ADMIN,
    "chef-en": Role.ADMIN,
}

CAMPAIGN_WORDS = {
    "fr": {
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


class AdminServer(AppServer):
    """Simulator + Gateway + the app: the sample streets, a seeded town, the staff accounts."""

    def __init__(self, directory: Path, *, voice: bool = False) -> None:
        super().__init__("tocsin-admin-test", directory)
        self.voice = voice  # modems serve calls too, and every phone presses 1 during them
        self.sim: Simulator | None = None
        self.phones: list[str] = []  # the seeded town's
        self.neighbour_phone = ""

    async def build(self, stack: contextlib.AsyncExitStack) -> ASGIApp:
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
        sim = await stack.enter_async_context(
            Simulator(
                modems=2,
                phones=PHONE_COUNT + 1,
                scale=0.02,
                family=["ec25", "sim7600"] if self.voice else "sim800",
            )
        )
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
        gateway = await stack.enter_async_context(Gateway(config, modems))
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        self.phones = [p.number for p in sim.phones[:PHONE_COUNT]]
        self.neighbour_phone = sim.phones[PHONE_COUNT].number
        zones = await streets_by_zone(gateway.db)
        await seed_residents(gateway.db, town(self.phones, zones, zone_names=ZONES))
        await add_resident(
            gateway,
            self.neighbour_phone,
            street_id=zones[NEIGHBOUR_ZONE][0],
            first_name=NEIGHBOUR_NAME,
            neighbours=True,
        )
        accounts = AdminAccounts(gateway.db)
        for username, role in STAFF.items():
            await accounts.create(username, PASSWORD, role)
        return create_app(gateway, simulator=sim, settings=fast_settings())


def serve_admin(directory: Path, *, voice: bool = False) -> Iterator[AdminServer]:
    """For a fixture: the staff side's server, running until the fixture ends."""
    with running(AdminServer(directory, voice=voice)) as server:
        yield server


@contextlib.contextmanager
def staff_tab(
    browser: Browser,
    server: AdminServer,
    directory: Path,
    *,
    username: str,
    language: str,
    width: int,
) -> Iterator[Tab]:
    """A tab at `width` px signed in as `username`, on the campaign list (checked)."""
    with open_tab(browser, directory, f"{username}-{language}", width=width) as tab:
        staff_sign_in(tab, server.url, username, PASSWORD, language)
        tab.page.wait_for_url("**/admin/campaigns")
        tab.check()
        yield tab


def write_alert(tab: Tab, language: str, title: str) -> None:
    """From the campaign list, a new alert (page checked) with `title` and both texts."""
    words, page = CAMPAIGN_WORDS[language], tab.page
    page.get_by_role("link", name=words["new"]).first.click()
    page.wait_for_url("**/admin/campaigns/new")
    tab.check()
    page.get_by_label(field(words["title"])).fill(title)
    page.get_by_label(field(words["fr"])).fill(FR)
    page.get_by_label(words["en"]).fill(EN)


def preview_for_zone(tab: Tab, language: str, zone: str) -> None:
    """The alert being written goes to `zone` alone; its preview (checked)."""
    words, page = CAMPAIGN_WORDS[language], tab.page
    page.get_by_label(words["zones"], exact=True).check()
    page.get_by_label(re.compile(rf"^{zone}\b")).check()
    page.get_by_role("button", name=words["preview"], exact=True).click()
    tab.check()


def send_and_watch(tab: Tab, language: str, *, timeout_ms: float) -> None:
    """From the preview: confirm, send, and watch the campaign page until every message is
    finished (checked)."""
    words, page = CAMPAIGN_WORDS[language], tab.page
    page.get_by_label(re.compile(re.escape(words["confirm"]))).check()
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url(re.compile(r".*/admin/campaigns/\d+$"))
    # admin-progress.js follows the event stream and reloads the page when done (the "done"
    # line is server-rendered, so once it shows, the reload has happened).
    page.get_by_text(words["done"]).wait_for(timeout=timeout_ms)
    tab.check()
