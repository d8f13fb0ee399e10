"""An admin in headless Chromium makes an API token, sees it once, uses it over real HTTP,
then revokes it; axe-core checks each page (French at 1280 px, English at 320 px)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser

from tests.admin import test_browser as admin_browser
from tests.admin.test_browser import PASSWORD, Server, check
from tests.web.test_browser import screenshots

# The admin browser test's fixtures: a Simulator + Gateway + uvicorn thread, and Chromium.
server = admin_browser.server
browser = admin_browser.browser
_no_leaked_tasks = admin_browser._no_leaked_tasks

pytestmark = pytest.mark.slow

WORDS = {
    "fr": {
        "username": "Nom d'utilisateur",
        "password": "Mot de passe",
        "login": "Connexion",
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
        "username": "Username",
        "password": "Password",
        "login": "Sign in",
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


def api_status(server: Server, token: str) -> int:
    request = urllib.request.Request(
        f"{server.url}/api/v1/zones", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("journey", [("fr", 1280), ("en", 320)], ids=["fr", "en-320"])
def test_admin_makes_uses_and_revokes_a_token(
    server: Server, browser: Browser, tmp_path: Path, journey: tuple[str, int]
) -> None:
    language, width = journey
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
    try:
        with screenshots(page, tmp_path, f"tokens-{language}"):
            page.goto(f"{server.url}/admin/login?lang={language}")
            page.get_by_label(words["username"]).fill("chef")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")
            page.get_by_role("link", name=words["menu"]).click()
            page.wait_for_url("**/admin/api-tokens")
            check(page, axe, csp_errors)

            name = f"Travaux publics {language}"
            page.get_by_label(re.compile(rf"^{words['name']}")).fill(name)
            page.get_by_label(words["role"]).select_option(label=words["operator"])
            page.get_by_role("button", name=words["create"]).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)
            secret = page.get_by_label(re.compile(words["secret"])).input_value()
            assert secret.startswith("tocsin_")
            assert api_status(server, secret) == 200

            # Shown once: the list shows only its first characters from now on.
            page.reload()
            assert secret not in page.content()
            assert secret[:15] in page.content()

            row = page.locator("tr", has_text=name)
            row.get_by_role("button", name=words["revoke"]).click()
            page.wait_for_url("**/admin/api-tokens")
            page.get_by_text(words["revoked"]).wait_for()
            check(page, axe, csp_errors)
            assert api_status(server, secret) == 401
    finally:
        context.close()
