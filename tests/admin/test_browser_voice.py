"""An operator sends an alert by SMS and voice call to one zone; the zone's voice recipients are
called on the simulated phones, press 1 while the message plays, and the campaign page counts
their confirmations. axe-core checks every page. A server of its own: its modems serve calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from gateway.campaigns.seed import town
from tests import browser as ui
from tests.admin.browser_helpers import (
    ZONES,
    AdminServer,
    preview_for_zone,
    send_and_watch,
    serve_admin,
    staff_tab,
    write_alert,
)
from tests.browser import poll

pytestmark = pytest.mark.slow
browser, _no_leaked_tasks = ui.browser, ui.no_leaked_tasks  # the shared fixtures

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
    expected = voice_numbers(ZONE, voice_server.phones)
    assert expected
    with staff_tab(
        browser, voice_server, tmp_path, username="operatrice", language="fr", width=1280
    ) as tab:
        page = tab.page
        write_alert(tab, "fr", f"Appel {ZONE}")
        page.get_by_label("SMS et appel vocal").check()
        preview_for_zone(tab, "fr", ZONE)
        send_and_watch(tab, "fr", timeout_ms=60_000)
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
