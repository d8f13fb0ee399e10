"""An admin in headless Chromium moves a street to another zone, imports residents from a
CSV file, reads the report of the rows not added, and finds the imported resident. axe-core
checks every page, in French at 1280 px and in English at 320 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests import browser as ui
from tests.admin.browser_helpers import AdminServer, staff_tab

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

WORDS = {
    "fr": {
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
# Nobody seeded lives on these Centre streets, so no campaign test's zone changes.
MOVED_STREET = "RUE SAINT-ANDRÉ"
# Row 2 is good (a resident of its own per journey, so it is added in either order), row 3
# names a street the town lacks, row 4 a number that is no phone number.
CSV = (
    "Nom;Prénom;Langue;No civique;Rue;Téléphone;Type;Vérifié;Consentement SMS\r\n"
    "Pelletier;{first_name};fr;12;RUE SAINTE-MARIE;{phone};both;oui;oui\r\n"
    "Nobody;Zed;en;3;RUE DE NULLE PART;819 555-0198;sms;oui;oui\r\n"
    "Lavoie;Marc;fr;4;RUE SAINTE-MARIE;123;voice;non;non\r\n"
)
IMPORTED = {"fr": ("Anne", "819 555-0199"), "en": ("Jane", "819 555-0197")}


@pytest.mark.parametrize(
    "journey", [("fr", "Nord", 1280), ("en", "Centre", 320)], ids=["fr", "en-320"]
)
def test_admin_moves_a_street_and_imports_residents(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, journey: tuple[str, str, int]
) -> None:
    language, zone, width = journey
    words = WORDS[language]
    first_name, phone = IMPORTED[language]
    csv_file = tmp_path / "residents.csv"
    csv_file.write_bytes(CSV.format(first_name=first_name, phone=phone).encode("cp1252"))
    with staff_tab(
        browser, admin_server, tmp_path, username="gestionnaire", language=language, width=width
    ) as tab:
        page = tab.page
        page.get_by_role("link", name=words["reference"]).first.click()
        page.wait_for_url("**/admin/reference")
        tab.check()
        page.get_by_label(MOVED_STREET, exact=True).check()
        page.get_by_label(words["move_to"]).select_option(label=zone)
        page.get_by_role("button", name=words["move"], exact=True).click()
        page.wait_for_url("**/admin/reference")
        tab.check()
        row = page.locator("tr", has=page.get_by_label(MOVED_STREET, exact=True))
        assert row.locator("td").nth(3).inner_text() == zone

        page.get_by_role("link", name=words["residents"], exact=True).first.click()
        page.wait_for_url("**/admin/residents")
        tab.check()
        page.get_by_role("link", name=words["import"]).click()
        page.wait_for_url("**/admin/residents/import")
        tab.check()
        page.get_by_label(words["file"]).set_input_files(str(csv_file))
        page.get_by_role("button", name=words["start"], exact=True).click()
        page.wait_for_url(re.compile(r".*/admin/residents/import/\d+"))
        # The page refreshes itself (HTTP Refresh) until the report is there.
        page.get_by_role("heading", name=words["report"]).wait_for(timeout=30_000)
        tab.check()
        report = page.locator("table.report tbody tr")
        lines = {
            report.nth(i).locator("td").first.inner_text(): report.nth(i).inner_text()
            for i in range(report.count())
        }
        assert words["street_unknown"] in lines["3"]
        assert words["phone"] in lines["4"]
        assert "2" not in lines

        page.get_by_role("link", name=words["see"]).click()
        page.get_by_label(words["search"]).fill("Pelletier")
        page.get_by_role("button", name=words["find"], exact=True).click()
        page.get_by_role("link", name=f"Pelletier, {first_name}").click()
        page.wait_for_url(re.compile(r".*/admin/residents/\d+$"))
        tab.check()
        digits = phone.replace(" ", "-")
        assert f"({phone[:3]}) {phone[4:]}" in page.content() or digits in page.content()
