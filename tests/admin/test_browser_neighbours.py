"""The town posts a neighbour alert in headless Chromium, filters the list down to it and opens
its detail page, whose recipients table lists the zone's one resident who accepted neighbour
alerts. axe-core checks every page, in French at 1280 px and in English at 320 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.admin.browser_helpers import NEIGHBOUR_NAME, NEIGHBOUR_ZONE, AdminServer, staff_tab
from tests.browser import in_both_languages

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

WORDS = {
    "fr": {"menu": "Alertes de voisins", "post": "Publier", "filter": "Filtrer"},
    "en": {"menu": "Neighbour alerts", "post": "Post", "filter": "Filter"},
}


@in_both_languages
def test_neighbour_alert_list_filters_and_detail(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, language: str, width: int
) -> None:
    words = WORDS[language]
    text = f"Avis {language}: rue fermée"
    with staff_tab(
        browser, admin_server, tmp_path, username="operatrice", language=language, width=width
    ) as tab:
        page = tab.page
        page.get_by_role("link", name=words["menu"]).first.click()
        page.wait_for_url("**/admin/neighbours")
        tab.check()
        page.locator("#zone").select_option(label=NEIGHBOUR_ZONE)
        page.locator("#body").fill(text)
        page.get_by_role("button", name=words["post"], exact=True).click()
        page.wait_for_url("**/admin/neighbours")
        tab.check()
        page.locator("#f-zone").select_option(label=NEIGHBOUR_ZONE)
        page.locator("#f-sender").fill("town")
        page.get_by_role("button", name=words["filter"], exact=True).click()
        page.wait_for_url(re.compile(r".*/admin/neighbours\?.*zone=\d+.*"))
        tab.check()
        row = page.locator("table tbody tr", has_text=text)
        assert row.count() == 1
        row.get_by_role("link").click()
        page.wait_for_url(re.compile(r".*/admin/neighbours/\d+$"))
        tab.check()
        assert text in page.locator("main").inner_text()
        recipients = page.locator("section[aria-labelledby=recipients-title] tbody tr")
        assert recipients.count() == 1
        assert NEIGHBOUR_NAME in recipients.first.inner_text()
