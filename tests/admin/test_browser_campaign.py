"""An operator in headless Chromium composes a bilingual alert to one zone, previews it, sends
it and watches the progress reach 100 %; the simulated phones in that zone got it in their
language, the others nothing. axe-core checks every page, at 1280 px in French and 320 px in
English.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from gateway.campaigns.seed import town
from tests import browser as ui
from tests.admin.browser_helpers import (
    CAMPAIGN_WORDS,
    EN,
    FR,
    ZONES,
    AdminServer,
    preview_for_zone,
    send_and_watch,
    staff_tab,
    write_alert,
)
from tests.browser import phone_inbox, poll

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures


def expected_in(zone: str, phones: list[str]) -> dict[str, str]:
    """Number → language the zone's residents should get (the seed's rules, see seed.town)."""
    fake_zones = {name: [i] for i, name in enumerate(ZONES)}
    languages: dict[str, set[str]] = {}
    for person in town(phones, fake_zones, zone_names=ZONES):
        if person.street_id != ZONES.index(zone) or not person.consent_sms:
            continue
        for number in person.sms_numbers:
            languages.setdefault(number, set()).add(person.language)
    return {n: (langs.pop() if len(langs) == 1 else "fr") for n, langs in languages.items()}


@pytest.mark.parametrize(
    "journey", [("fr", "Nord", 1280), ("en", "Est", 320)], ids=["fr", "en-320"]
)
def test_operator_sends_a_zone_alert(
    admin_server: AdminServer, browser: Browser, tmp_path: Path, journey: tuple[str, str, int]
) -> None:
    language, zone, width = journey
    words = CAMPAIGN_WORDS[language]
    url, phones = admin_server.url, admin_server.phones
    expected = expected_in(zone, phones)
    assert expected
    before = {number: len(phone_inbox(url, number)) for number in phones}
    with staff_tab(
        browser, admin_server, tmp_path, username="operatrice", language=language, width=width
    ) as tab:
        page = tab.page
        write_alert(tab, language, f"Avis {zone}")
        preview_for_zone(tab, language, zone)
        send_and_watch(tab, language, timeout_ms=30_000)
        assert page.locator('[data-field="percent"]').inner_text() == "100"

        page.get_by_role("link", name=words["report"]).click()
        tab.check()
        assert page.locator("table.report tbody tr").count() == len(expected)

    def delivered() -> dict[str, list[str]] | None:
        """Every phone's new texts, once each expected phone has one (on the phone already)."""
        got = {n: [m["text"] for m in phone_inbox(url, n)[before[n] :]] for n in phones}
        return got if all(got[n] for n in expected) else None

    got = poll(delivered, "the alert on the zone's phones", timeout=5)
    for number in phones:
        if number in expected:
            assert got[number] == [EN if expected[number] == "en" else FR], number
        else:
            assert got[number] == [], number
