"""An admin in headless Chromium makes an API token, sees it once, uses it over real HTTP,
then revokes it; axe-core checks each page (French at 1280 px, English at 320 px)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.admin.browser_helpers import AdminServer, serve_admin, staff_tab
from tests.browser import in_both_languages

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminServer]:
    """The staff side's server (a town on the simulator), for this file alone."""
    yield from serve_admin(tmp_path_factory.mktemp("api-admin"))


WORDS = {
    "fr": {
        "menu": "Accès API",
        "name": "Nom du jeton",
        "role": "Rôle",
        "operator": "opérateur (envoie des SMS et des alertes)",
        "create": "Créer le jeton",
        "secret": "Copiez ce jeton maintenant",
        "revoke": "Révoquer",
        "revoked": "Le jeton est révoqué",
    },
    "en": {
        "menu": "API access",
        "name": "Token name",
        "role": "Role",
        "operator": "operator (sends SMS and alerts)",
        "create": "Create the token",
        "secret": "Copy this token now",
        "revoke": "Revoke",
        "revoked": "The token is revoked",
    },
}


def api_status(server: AdminServer, token: str) -> int:
    request = urllib.request.Request(
        f"{server.url}/api/v1/zones", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@in_both_languages
def test_admin_makes_uses_and_revokes_a_token(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, language: str, width: int
) -> None:
    words = WORDS[language]
    with staff_tab(
        browser, admin_server, tmp_path, username="chef", language=language, width=width
    ) as tab:
        page = tab.page
        page.get_by_role("link", name=words["menu"]).click()
        page.wait_for_url("**/admin/api-tokens")
        tab.check()

        name = f"Travaux publics {language}"
        page.get_by_label(re.compile(rf"^{words['name']}")).fill(name)
        page.get_by_label(words["role"]).select_option(label=words["operator"])
        page.get_by_role("button", name=words["create"]).click()
        tab.check()
        secret = page.get_by_label(re.compile(words["secret"])).input_value()
        assert secret.startswith("tocsin_")
        assert api_status(admin_server, secret) == 200

        # Shown once: the list shows only its first characters from now on.
        page.reload()
        assert secret not in page.content()
        assert secret[:15] in page.content()

        row = page.locator("tr", has_text=name)
        row.get_by_role("button", name=words["revoke"]).click()
        page.wait_for_url("**/admin/api-tokens")
        page.get_by_text(words["revoked"]).wait_for()
        tab.check()
        assert api_status(admin_server, secret) == 401
