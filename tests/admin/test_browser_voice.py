"""An operator sends an alert by SMS and voice call to one zone; the zone's voice recipients are
called on the simulated phones, press 1 while the message plays, and the campaign page counts
their confirmations. axe-core checks every page. Fixtures and server from test_browser.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser

from gateway.campaigns.seed import town
from tests.admin.test_browser import (
    EN,
    FR,
    PASSWORD,
    WORDS,
    ZONES,
    Server,
    browser,
    check,
)
from tests.web.test_browser import field, screenshots

pytestmark = pytest.mark.slow

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

ZONE = "Nord"


@pytest.fixture(autouse=True)
def _no_leaked_tasks() -> None:
    """Overrides the suite's async check: the server's tasks live in its own thread's loop."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    thread = Server(tmp_path_factory.mktemp("admin-voice"), voice=True)
    thread.start()
    assert thread.ready.wait(30), "server did not start"
    if thread.error is not None:
        raise thread.error
    yield thread
    thread.stop()
    assert not thread.is_alive(), "the server thread did not stop"
    assert thread.error is None, thread.error


def voice_numbers(zone: str, phones: list[str]) -> set[str]:
    """Numbers the zone's residents who consented to calls are reached on (seed.town's rules)."""
    fake_zones = {name: [i] for i, name in enumerate(ZONES)}
    return {
        person.phone
        for person in town(phones, fake_zones, zone_names=ZONES)
        if person.street_id == ZONES.index(zone) and person.consent_voice
    }


def test_operator_sends_a_voice_alert_and_sees_confirmations(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    words = WORDS["fr"]
    axe = Axe()
    expected = voice_numbers(ZONE, server.phones)
    assert expected
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        with screenshots(page, tmp_path, "admin-voice"):
            page.goto(f"{server.url}/admin/login?lang=fr")
            page.get_by_label(words["username"]).fill("operatrice")
            page.get_by_label(words["password"]).fill(PASSWORD)
            page.get_by_role("button", name=words["login"], exact=True).click()
            page.wait_for_url("**/admin/campaigns")
            page.get_by_role("link", name=words["new"]).first.click()
            page.wait_for_url("**/admin/campaigns/new")
            page.get_by_label(field(words["title"])).fill(f"Appel {ZONE}")
            page.get_by_label(field(words["fr"])).fill(FR)
            page.get_by_label(words["en"]).fill(EN)
            page.get_by_label("SMS et appel vocal").check()
            page.get_by_label(words["zones"], exact=True).check()
            page.get_by_label(re.compile(rf"^{ZONE}\b")).check()
            page.get_by_role("button", name=words["preview"], exact=True).click()
            page.wait_for_load_state("load")
            check(page, axe, csp_errors)
            page.get_by_label(re.compile(re.escape(words["confirm"]))).check()
            page.get_by_role("button", name=words["send"]).click()
            page.wait_for_url(re.compile(r".*/admin/campaigns/\d+$"))
            page.get_by_text(words["done"]).wait_for(timeout=60_000)
            check(page, axe, csp_errors)
            confirmed = page.locator('[data-count="confirmed"]').inner_text()
            assert confirmed == str(len(expected))

        sim = server.sim
        assert sim is not None
        deadline = time.monotonic() + 5
        called = {}
        while time.monotonic() < deadline:  # the phone notes the hang-up just after the modem
            called = {p.number: p.voice.calls for p in sim.phones if p.voice.calls}
            if set(called) == expected and all(
                c.ended_at is not None for calls in called.values() for c in calls
            ):
                break
            time.sleep(0.1)
        assert set(called) == expected
        for calls in called.values():
            (call,) = calls
            assert [key for _, key in call.keys_pressed] == ["1"]
            assert call.outcome == "hung_up_by_caller"
            assert call.heard_speech()
            assert call.wav_path is not None
            assert call.wav_path.exists()
    finally:
        context.close()
