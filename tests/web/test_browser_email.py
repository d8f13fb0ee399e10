"""A resident in headless Chromium asks for neighbour alerts by email; the app mails a link to
the profile's address through a real SMTP server (aiosmtpd); the resident opens the link from
that mail, confirms, and the neighbour page then says the address is confirmed. axe-core checks
every page, in French at 1280 px and in English at 320 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.browser import in_both_languages, open_tab
from tests.web.browser_helpers import (
    MAIL_PASSWORD,
    MAIL_RESIDENTS,
    WebServer,
    resident_sign_in,
    wait_for_link,
)

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

WORDS = {
    "fr": {
        "neighbours": "Alertes de voisins",
        "by_email": "Par courriel",
        "save": "Enregistrer",
        "pending": "Un lien de confirmation a été envoyé à cette adresse",
        "confirm": "Confirmer mon adresse",
        "verified": "Votre adresse courriel est confirmée",
        "confirmed": "Adresse confirmée.",
    },
    "en": {
        "neighbours": "Neighbour alerts",
        "by_email": "By email",
        "save": "Save",
        "pending": "A confirmation link was sent to this address",
        "confirm": "Confirm my address",
        "verified": "Your email address is confirmed",
        "confirmed": "Address confirmed.",
    },
}


@in_both_languages
def test_resident_confirms_their_email_address_from_the_mailed_link(
    web_server: WebServer, browser: Browser, tmp_path: Path, language: str, width: int
) -> None:
    words = WORDS[language]
    phone, address = MAIL_RESIDENTS[language]
    with open_tab(browser, tmp_path, f"email-{language}", width=width) as tab:
        page = tab.page
        resident_sign_in(tab, web_server.url, phone, MAIL_PASSWORD, language)
        page.wait_for_url("**/welcome")  # "add an SMS number?": not now, the menu instead
        tab.check()
        page.get_by_role("link", name=words["neighbours"]).click()
        page.wait_for_url("**/neighbours")
        tab.check()
        page.get_by_label(words["by_email"]).check()
        page.get_by_role("button", name=words["save"], exact=True).click()
        page.wait_for_url("**/neighbours")
        tab.check()
        assert page.get_by_text(words["pending"]).is_visible()

        # The mail's link shows a button (mail scanners fetch links); pressing it confirms.
        page.goto(wait_for_link(web_server, address))
        tab.check()
        page.get_by_role("button", name=words["confirm"]).click()
        tab.check()
        assert page.get_by_text(words["verified"]).is_visible()
        page.get_by_role("link", name=words["neighbours"]).last.click()
        page.wait_for_url("**/neighbours")
        tab.check()
        assert page.get_by_text(words["confirmed"]).is_visible()
