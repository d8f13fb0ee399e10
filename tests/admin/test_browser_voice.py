"""An operator sends an alert by SMS and voice call to one zone; the zone's voice recipients are
called on the simulated phones, press 1 while the message plays, and the campaign page counts
their confirmations. axe-core checks every page. A server of its own: its modems serve calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    serve_admin,
    staff_tab,
)
from tests.browser import field, poll

pytestmark = pytest.mark.slow
browser = ui.browser
_no_leaked_tasks = ui.no_leaked_tasks

ZONE = "Nord"


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminServer]:
    yield from serve_admin(tmp_path_factory.mktemp("admin-voice"), voice=True)


def voice_numbers(zone: str, phones: list[str]) -> set[str]:
    """Numbers the zone's residents who consented to calls are reached on (seed.town's rules)."""
    fake_zones = {name: [i] for i, name in enumerate(ZONES)}
    return {
        person.phone
        for person in town(phones, fake_zones, zone_names=ZONES)
        if person.street_id == ZONES.index(zone) and person.consent_voice
    }


def test_operator_sends_a_voice_alert_and_sees_confirmations(
    voice_server: AdminServer, browser: Browser, tmp_path: Path
) -> None:
    words = CAMPAIGN_WORDS["fr"]
    expected = voice_numbers(ZONE, voice_server.phones)
    assert expected
    with staff_tab(
        browser,
        voice_server,
        tmp_path,
        "admin-voice",
        username="operatrice",
        language="fr",
        width=1280,
    ) as tab:
        page = tab.page
        page.get_by_role("link", name=words["new"]).first.click()
        page.wait_for_url("**/admin/campaigns/new")
        page.get_by_label(field(words["title"])).fill(f"Appel {ZONE}")
        page.get_by_label(field(words["fr"])).fill(FR)
        page.get_by_label(words["en"]).fill(EN)
        page.get_by_label("SMS et appel vocal").check()
        page.get_by_label(words["zones"], exact=True).check()
        page.get_by_label(re.compile(rf"^{ZONE}\b")).check()
        page.get_by_role("button", name=words["preview"], exact=True).click()
        tab.check()
        page.get_by_label(re.compile(re.escape(words["confirm"]))).check()
        page.get_by_role("button", name=words["send"]).click()
        page.wait_for_url(re.compile(r".*/admin/campaigns/\d+$"))
        page.get_by_text(words["done"]).wait_for(timeout=60_000)
        tab.check()
        confirmed = page.locator('[data-count="confirmed"]').inner_text()
        assert confirmed == str(len(expected))

    sim = voice_server.sim
    assert sim is not None

    def all_hung_up() -> dict[str, list[Any]] | None:
        """The calls per phone, once every expected phone noted its hang-up (just after the
        modem did)."""
        called = {p.number: p.voice.calls for p in sim.phones if p.voice.calls}
        finished = all(c.ended_at is not None for calls in called.values() for c in calls)
        return called if set(called) == expected and finished else None

    called = poll(all_hung_up, "the zone's calls to end", timeout=5)
    for calls in called.values():
        (call,) = calls
        assert [key for _, key in call.keys_pressed] == ["1"]
        assert call.outcome == "hung_up_by_caller"
        assert call.heard_speech()
        assert call.wav_path is not None
        assert call.wav_path.exists()
