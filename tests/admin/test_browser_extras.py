"""An admin in headless Chromium turns on two-step verification and signs in again with a code,
saves a template and starts an alert from it, schedules that alert, edits it and cancels it.
axe-core checks every page, in French at 1280 px and in English at 320 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.admin.browser_helpers import (
    CAMPAIGN_WORDS,
    PASSWORD,
    AdminServer,
    preview_for_zone,
    staff_tab,
    write_alert,
)
from tests.browser import field, in_both_languages, staff_sign_in

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

WORDS: dict[str, dict[str, Any]] = {
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
        "schedule": "Schedule the alert",
        "edit": re.compile(r"^Edit —"),
        "cancel": re.compile(r"^Cancel —"),
        "cancelled": "The scheduled alert is cancelled.",
    },
}


@in_both_languages
def test_admin_extras(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, language: str, width: int
) -> None:
    words, extra = CAMPAIGN_WORDS[language], WORDS[language]
    username = f"chef-{language}"  # its own account: this journey turns on TOTP for it
    with staff_tab(
        browser, admin_server, tmp_path, username=username, language=language, width=width
    ) as tab:
        page = tab.page
        # Two-step verification: enrol, sign out, sign in with a code.
        page.get_by_role("link", name=extra["account"]).click()
        page.wait_for_url("**/admin/account")
        tab.check()
        page.get_by_role("button", name=extra["enable"]).click()
        page.wait_for_url("**/admin/account*")
        tab.check()
        assert page.locator("svg.qr").count() == 1
        app = pyotp.TOTP(page.locator("#secret").inner_text().replace(" ", ""))
        page.get_by_label(extra["code"]).fill(app.now())
        page.get_by_role("button", name=extra["confirm_totp"]).click()
        tab.check()
        assert page.locator("svg.qr").count() == 0

        page.get_by_role("button", name=extra["signout"]).click()
        page.wait_for_url("**/admin/login")
        staff_sign_in(tab, admin_server.url, username, PASSWORD, language)
        page.wait_for_url("**/admin/login/code")
        tab.check()
        # The next step's code: the enrolment used this one, and a code is good once.
        page.get_by_label(extra["code"]).fill(app.at(datetime.now(UTC) + timedelta(seconds=30)))
        page.get_by_role("button", name=extra["verify"]).click()
        page.wait_for_url("**/admin/campaigns")

        # A template, saved from a new alert, then used for the next one.
        title = f"Modèle {language}"
        write_alert(tab, language, title)
        page.get_by_label(extra["template_name"]).fill(f"Ébullition {language}")
        page.get_by_role("button", name=extra["save_template"]).click()
        tab.check()
        page.get_by_role("link", name=extra["templates"], exact=True).click()
        page.wait_for_url("**/admin/templates")
        tab.check()
        page.get_by_role("row", name=re.compile(f"Ébullition {language}")).get_by_role(
            "link", name=extra["use"]
        ).click()
        page.wait_for_url("**/admin/campaigns/new?template=*")
        assert page.get_by_label(field(words["title"])).input_value() == title

        # Scheduled two days ahead, edited, then cancelled.
        later = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("America/Toronto"))
        page.get_by_label(extra["send_at"]).fill(later.strftime("%Y-%m-%dT%H:%M"))
        preview_for_zone(tab, language, "Nord")
        page.get_by_label(re.compile(re.escape(words["confirm"]))).check()
        page.get_by_role("button", name=extra["schedule"]).click()
        page.wait_for_url("**/admin/campaigns")
        tab.check()
        row = page.get_by_role("row", name=re.compile(re.escape(title)))
        assert later.strftime("%Y-%m-%d %H:%M") in row.inner_text()

        row.get_by_role("link", name=extra["edit"]).click()
        page.wait_for_url("**/admin/scheduled/*")
        tab.check()
        assert page.get_by_label(extra["send_at"]).input_value() == later.strftime("%Y-%m-%dT%H:%M")
        page.go_back()
        page.wait_for_url("**/admin/campaigns")
        page.get_by_role("row", name=re.compile(re.escape(title))).get_by_role(
            "button", name=extra["cancel"]
        ).click()
        page.get_by_text(extra["cancelled"]).wait_for()
        tab.check()
