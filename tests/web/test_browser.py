"""A person in headless Chromium: registers, adds an SMS contact, edits the profile, signs out,
resets the password and signs in again, in French and in English; axe-core checks every page.

The server (tests/web/conftest.py) is a real Gateway on a Simulator: codes travel through the
outbox and a simulated modem to a simulated phone, and the test reads them from
/sim/phones/{e164}/messages like a demo visitor would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.browser import field, open_tab, phone_inbox
from tests.web.browser_helpers import PHONES, WebServer, wait_for_code

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures


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
    web_server: WebServer, browser: Browser, tmp_path: Path, journey: Journey
) -> None:
    language, login_phone, sms_phone = journey.language, journey.login_phone, journey.sms_phone
    words = WORDS[language]
    url = web_server.url
    local = login_phone[2:5] + " " + login_phone[5:8] + "-" + login_phone[8:]
    with open_tab(browser, tmp_path, language, width=journey.width, height=800) as person:
        page = person.page
        # Sign-in page, then Nouvel usager.
        page.goto(f"{url}/login?lang={language}")
        person.check()
        assert page.locator("html").get_attribute("lang") == language
        page.get_by_role("link", name=words["new_user"]).click()
        person.check()
        seen = len(phone_inbox(url, login_phone))
        page.get_by_label(words["phone"]).fill(local)
        page.get_by_label(words["sms"]).check()
        page.get_by_label(words["robot"]).check()
        page.get_by_label(words["accept"]).check()
        page.get_by_role("button", name=words["ok"], exact=True).click()
        page.wait_for_url("**/register/code")
        person.check()

        # The code arrives on the simulated phone; choose a password.
        code = wait_for_code(web_server, login_phone, seen)
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
        seen = len(phone_inbox(url, sms_phone))
        page.get_by_label(words["phone"]).fill(sms_phone)
        page.get_by_label(words["description"]).fill("Travail")
        page.get_by_role("button", name=words["add"], exact=True).click()
        page.wait_for_url("**/verify")
        person.check()
        page.get_by_label(words["code"]).fill(wait_for_code(web_server, sms_phone, seen))
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
        seen = len(phone_inbox(url, login_phone))
        page.get_by_label(words["phone"]).fill(local)
        page.get_by_label(words["robot"]).check()
        page.get_by_role("button", name=words["send"]).click()
        page.wait_for_url("**/reset")
        person.check()
        page.get_by_label(words["code"]).fill(wait_for_code(web_server, login_phone, seen))
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
        seen = len(phone_inbox(url, login_phone))
        page.get_by_label(words["phone"]).fill(local)
        page.get_by_label(words["robot"]).check()
        page.get_by_role("button", name=words["send"]).click()
        page.wait_for_url("**/reset")
        code = wait_for_code(web_server, login_phone, seen)
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
