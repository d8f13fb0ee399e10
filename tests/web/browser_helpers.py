"""The resident side's browser tests: the app on the simulator, codes read from the simulated
phones, and a real SMTP server (aiosmtpd) for the mails the app sends."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from gateway import config as config_module
from gateway.campaigns.seed import streets_by_zone
from gateway.config import ModemSettings
from gateway.residents.passwords import hash_password
from gateway.residents.repository import Residents
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.browser import AppServer, Tab, field, phone_inbox, poll
from tests.inbound.helpers import add_resident
from tests.inbound.test_end_to_end import Mailbox
from tests.web.helpers import fast_settings
from web.app import create_app

PHONES = ["+15145550101", "+15145550102", "+15145550103", "+15145550104"]
# Residents already registered, with an email address in their profile (not proved yet).
MAIL_RESIDENTS = {
    "fr": ("+15145550111", "antoine@example.org"),
    "en": ("+15145550112", "ann@example.org"),
}
MAIL_PASSWORD = "le chat dort sur la table"
_CODE = re.compile(r"\b(\d{6})\b")
_LINK = re.compile(r"(http\S+/neighbours/email/verify\?lang=\w+&token=\S+)")

SIGN_IN = {
    "fr": {"phone": "Numéro de téléphone", "password": "Mot de passe", "login": "Connexion"},
    "en": {"phone": "Phone number", "password": "Password", "login": "Sign in"},
}


class WebServer(AppServer):
    """Simulator + Gateway + the app, its mails to `smtp_port` (what arrives is in `mailbox`)."""

    def __init__(self, directory: Path, mailbox: Mailbox, smtp_port: int) -> None:
        super().__init__("tocsin-web-test", directory)
        self.mailbox = mailbox
        self.smtp_port = smtp_port

    async def build(self, stack: contextlib.AsyncExitStack) -> ASGIApp:
        config = config_module.from_mapping(
            {},
            {
                "storage.path": str(self.directory / "tocsin.sqlite"),
                "dispatch.retry_base_s": 0.05,
                "dispatch.watchdog_interval_s": 0.5,
                "email.host": "127.0.0.1",
                "email.port": self.smtp_port,
                "email.tls": "none",
                "email.from": "alertes@ville.example",
                "email.retry_base_s": 0.05,
            },
        )
        sim = await stack.enter_async_context(Simulator(modems=1, phones=len(PHONES), scale=0.01))
        modems = (ModemSettings(port=str(sim.modems[0].port), name="sim0"),)
        gateway = await stack.enter_async_context(Gateway(config, modems))
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        street_id = next(iter((await streets_by_zone(gateway.db)).values()))[0]
        password_hash = await hash_password(MAIL_PASSWORD)
        for language, (phone, email) in MAIL_RESIDENTS.items():
            resident_id = await add_resident(
                gateway, phone, street_id=street_id, email=email, language=language
            )
            await Residents(gateway.db).set_password(resident_id, password_hash)
        return create_app(
            gateway,
            simulator=sim,
            settings=fast_settings(
                captcha_max_number=3000, budget_number_15min=20, budget_ip_hour=100
            ),
        )


def wait_for_code(server: WebServer, number: str, seen: int) -> str:
    """The code in the first message after the `seen` first ones of that phone's inbox."""

    def code() -> str | None:
        messages = phone_inbox(server.url, number)
        if len(messages) <= seen:
            return None
        match = _CODE.search(messages[seen]["text"])
        assert match is not None, messages[seen]["text"]
        return match.group(1)

    return poll(code, f"a new message on {number}")


def wait_for_link(server: WebServer, address: str) -> str:
    """The verification link in the last mail the SMTP server received for `address`."""

    def link() -> str | None:
        mails = [m for m in server.mailbox.messages if m["To"] == address]
        if not mails:
            return None
        body = _text(mails[-1])
        match = _LINK.search(body)
        assert match is not None, body
        return match.group(1)

    return poll(link, f"a mail to {address}")


def _text(message: Any) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else ""


def resident_sign_in(tab: Tab, url: str, phone: str, password: str, language: str) -> None:
    """The residents' sign-in page (checked), then its form."""
    words = SIGN_IN[language]
    page = tab.page
    page.goto(f"{url}/login?lang={language}")
    tab.check()
    page.get_by_label(words["phone"]).fill(phone)
    page.get_by_label(field(words["password"])).fill(password)
    page.get_by_role("button", name=words["login"], exact=True).click()
