"""The health page in headless Chromium, from the menu: one row per modem, and "check the
balance" raises the low-credit banner on every staff page. axe-core checks every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.admin.browser_helpers import AdminServer, staff_tab
from tests.browser import in_both_languages

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

WORDS = {
    "fr": {"nav": "État du système", "check": "Vérifier le solde — sim0", "banner": "Crédit bas"},
    "en": {"nav": "System health", "check": "Check the balance — sim0", "banner": "Low credit"},
}


@in_both_languages
def test_health_page(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, language: str, width: int
) -> None:
    words = WORDS[language]
    with staff_tab(
        browser, admin_server, tmp_path, username="operatrice", language=language, width=width
    ) as tab:
        page = tab.page
        page.get_by_role("link", name=words["nav"]).first.click()
        page.wait_for_url("**/admin/health")
        tab.check()
        assert page.locator("table.health tbody tr").count() == 2
        page.get_by_role("button", name=words["check"]).click()
        page.wait_for_url("**/admin/health")
        page.locator(".banner").get_by_text(words["banner"]).wait_for()
        tab.check()
        assert "12" in page.locator("table.health tbody tr").first.inner_text()
        page.goto(f"{admin_server.url}/admin/campaigns")
        assert page.locator(".banner").get_by_text(words["banner"]).count() == 1
        tab.check()
