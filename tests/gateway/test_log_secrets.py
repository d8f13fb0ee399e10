"""No one-time code and no password ever reaches the logs, even at DEBUG with raw serial traffic:
registration, sign-in, password reset and a code sent by SMS through simulated modems."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.outbox import MessageState
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from modem.simulator import Simulator
from tests.gateway.conftest import make_config, modem_settings
from tests.web.helpers import Recorder, Web, fast_settings
from web.app import create_app

FIRST_PASSWORD = "correct horse battery"
NEW_PASSWORD = "brand new passphrase"
# The simulator is test equipment (the network and the phones): its phones may log what
# they receive, like a real handset's screen. Everything else is the gateway.
EQUIPMENT = "modem.simulator"


async def sent_through_modems(web: Web) -> None:
    """Wait until every queued code went out through a modem (the AT traffic is logged)."""
    async with asyncio.timeout(10):
        while True:
            counts = await web.gateway.outbox.counts_by_state()
            if counts[MessageState.QUEUED] == 0 and counts[MessageState.SENDING] == 0:
                return
            await asyncio.sleep(0.05)


async def test_no_code_or_password_in_any_log_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    codes: list[str] = []
    async with Simulator(modems=1, phones=2, scale=0.01) as sim:
        async with Gateway(make_config(tmp_path), modem_settings(sim)) as gateway:
            assert gateway.db is not None
            await load_sample_streets(gateway.db, "Ville de Démo")
            app = create_app(gateway, settings=fast_settings())
            async with app.router.lifespan_context(app):
                web = Web(app, Recorder(app), gateway)
                async with web.client:
                    number = sim.phones[0].number
                    await web.get("/register")
                    response = await web.post(
                        "/register",
                        {
                            "phone": number,
                            "channel": "sms",
                            "terms": "yes",
                            "altcha": web.captcha(),
                        },
                    )
                    await web.follow(response)
                    codes.append(await web.last_code(number))
                    response = await web.post(
                        "/register/code", {"code": codes[-1], "password": FIRST_PASSWORD}
                    )
                    assert response.headers["location"] == "/welcome"
                    await web.post("/logout", {})
                    response = await web.post(
                        "/login", {"phone": number, "password": "a wrong password!"}
                    )
                    assert response.status_code == 400
                    await web.get("/forgot")
                    response = await web.post(
                        "/forgot", {"phone": number, "channel": "sms", "altcha": web.captcha()}
                    )
                    await web.follow(response)
                    codes.append(await web.last_code(number))
                    response = await web.post(
                        "/reset",
                        {"phone": number, "code": codes[-1], "new_password": NEW_PASSWORD},
                    )
                    assert response.headers["location"] == "/login"
                    await web.get("/login")
                    response = await web.post("/login", {"phone": number, "password": NEW_PASSWORD})
                    assert response.status_code == 303
                    await sent_through_modems(web)
        # The codes really went through the modem to the phone.
        assert [c for c in codes if any(c in m.text for m in sim.phones[0].inbox)] == codes
    secrets = [*codes, FIRST_PASSWORD, NEW_PASSWORD, "a wrong password!"]
    gateway_records = [r for r in caplog.records if not r.name.startswith(EQUIPMENT)]
    # Raw serial traffic was logged (the SMS PDUs themselves), so the check covers it.
    assert any("AT+CMGS" in r.getMessage() for r in gateway_records)
    leaks = [
        (record.name, record.getMessage())
        for record in gateway_records
        for secret in secrets
        if secret in record.getMessage() or secret in (record.exc_text or "")
    ]
    assert leaks == []


def test_one_line_per_event() -> None:
    """A message or a traceback with line breaks stays one line on the service's output."""
    from gateway.logs import FORMAT, OneLineFormatter

    formatter = OneLineFormatter(FORMAT)
    record = logging.LogRecord(
        "modem.modem", logging.WARNING, __file__, 1, "%s: %s", ("sim0", "Solde\n2. Forfaits"), None
    )
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert "\n" not in line
    assert "sim0: Solde\\n2. Forfaits" in line
    assert "ValueError: bad\\nthing" in line
