"""Neighbour-alert email copies go only to an address proved by the emailed link; a real SMTP
server (aiosmtpd) receives the links and the copies."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway.inbound.email_verify import EmailState, LinkOutcome
from gateway.inbound.relay import NeighbourAlerts
from tests.inbound.helpers import add_resident
from tests.inbound.test_end_to_end import Mailbox, _free_port
from tests.web.helpers import Web, running_web
from tests.web.test_profile_routes import signed_in

BEA = "+15145550102"
ANTOINE_MAIL = "antoine@example.org"


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def email_config(port: int) -> dict[str, Any]:
    return {
        "email.host": "127.0.0.1",
        "email.port": port,
        "email.tls": "none",
        "email.from": "alertes@ville.example",
        "email.retry_base_s": 0.05,
    }


def alerts_of(web: Web) -> NeighbourAlerts:
    alerts: NeighbourAlerts = web.app.state.neighbours
    return alerts


async def _profile(web: Web, email: str) -> int:
    """Antoine, signed in, on a street of zone Centre with `email`; Béa lives on the next."""
    await web.get("/profile")
    streets = [s for s in web.rendered.context["streets"] if s.zone == "Centre"]
    form = {
        "last_name": "Racicot",
        "first_name": "Antoine",
        "language": "fr",
        "city": "Ville de Démo",
        "civic_number": "710",
        "street": str(streets[0].id),
        "postal_code": "J6W1T6",
        "email": email,
    }
    assert (await web.post("/profile", form)).status_code == 303
    return await add_resident(web.gateway, BEA, street_id=streets[1].id, first_name="Béa")


async def _copies_to(web: Web, mailbox: Mailbox, bea: int, address: str, text: str) -> int:
    """Béa posts `text`; how many copies of it reached `address`."""
    alerts = alerts_of(web)
    assert await alerts.post(bea, text) is not None
    await alerts.email.idle()
    return sum(1 for m in mailbox.messages if m["To"] == address and text in _body(m))


def _body(message: Any) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else ""


def _link(message: Any) -> str:
    match = re.search(r"(/neighbours/email/verify\?lang=\w+&token=\S+)", _body(message))
    assert match is not None, _body(message)
    return match.group(1)


async def _wait_for(mailbox: Mailbox, count: int) -> None:
    async with asyncio.timeout(10):
        while len(mailbox.messages) < count:
            await asyncio.sleep(0.02)


async def test_copies_start_after_the_link_and_stop_when_the_email_changes(
    tmp_path: Path, mail: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail
    async with running_web(tmp_path, **email_config(port)) as web:
        await signed_in(web)
        resident = web.rendered.context["resident"]
        bea = await _profile(web, ANTOINE_MAIL)
        verification = alerts_of(web).verification
        assert await verification.state(resident.id) is EmailState.UNVERIFIED
        await web.get("/neighbours")
        response = await web.post("/neighbours/settings", {"sms": "yes", "email": "yes"})
        await web.follow(response)
        assert any("lien de confirmation" in f for f in web.rendered.context["flashes"])
        assert web.rendered.context["email_state"] == "pending"
        # Asked for, not yet proved: no copy.
        assert await _copies_to(web, mailbox, bea, ANTOINE_MAIL, "Avant") == 0
        [link_mail] = [m for m in mailbox.messages if m["To"] == ANTOINE_MAIL]
        assert "confirmez" in link_mail["Subject"]
        link = _link(link_mail)
        assert link_mail["To"] == ANTOINE_MAIL

        # Another browser (a phone's mail app): GET shows a button, POST confirms.
        page = await web.get(link)
        assert page.status_code == 200
        assert web.rendered.name == "email_verify.html"
        token = web.rendered.context["token"]
        done = await web.post("/neighbours/email/verify", {"token": token})
        assert done.status_code == 200
        assert web.rendered.context["done"] is True
        assert await verification.state(resident.id) is EmailState.VERIFIED
        assert await _copies_to(web, mailbox, bea, ANTOINE_MAIL, "Apres") == 1
        # Single use.
        again = await web.post("/neighbours/email/verify", {"token": token})
        assert again.status_code == 400

        # A new address must be proved again; the old one gets nothing more either.
        await _profile_email(web, "antoine@nouveau.example")
        assert await verification.state(resident.id) is EmailState.UNVERIFIED
        assert await _copies_to(web, mailbox, bea, "antoine@nouveau.example", "Nouveau") == 0
        assert await _copies_to(web, mailbox, bea, ANTOINE_MAIL, "Ancien") == 0
        # Back to the first address: proved no more, since it was changed.
        await _profile_email(web, ANTOINE_MAIL)
        assert await verification.state(resident.id) is EmailState.UNVERIFIED


async def _profile_email(web: Web, email: str) -> None:
    await web.get("/profile")
    profile = web.rendered.context["profile"]
    form = {
        "last_name": profile.last_name,
        "first_name": profile.first_name,
        "language": profile.language,
        "city": profile.city,
        "civic_number": profile.civic_number,
        "street": str(profile.street_id),
        "postal_code": profile.postal_code,
        "email": email,
    }
    assert (await web.post("/profile", form)).status_code == 303


async def test_resend_is_bounded_and_a_dead_server_lets_one_retry(
    tmp_path: Path, mail: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail
    async with running_web(tmp_path, **email_config(port)) as web:
        await signed_in(web)
        resident = web.rendered.context["resident"]
        await _profile(web, ANTOINE_MAIL)
        verification = alerts_of(web).verification
        base = "http://tocsin.example"
        assert await verification.send_link(resident.id, base) is LinkOutcome.SENT
        assert await verification.send_link(resident.id, base) is LinkOutcome.TOO_SOON
        await _wait_for(mailbox, 1)
        assert _link(mailbox.messages[0]).startswith("/neighbours/email/verify?lang=fr&token=")
        assert f"{base}/neighbours/email/verify?lang=fr&token=" in _body(mailbox.messages[0])
        # A made-up or empty token proves nothing.
        for token in ("", "x" * 43, "y" * 500):
            assert await verification.confirm(token) is None


async def test_smtp_down_is_reported_and_retry_allowed(tmp_path: Path) -> None:
    async with running_web(tmp_path, **email_config(_free_port())) as web:
        await signed_in(web)
        resident = web.rendered.context["resident"]
        await _profile(web, ANTOINE_MAIL)
        await web.get("/neighbours")
        response = await web.post("/neighbours/email/send", {})
        await web.follow(response)
        assert any("pas pu" in f for f in web.rendered.context["flashes"])
        verification = alerts_of(web).verification
        assert await verification.state(resident.id) is EmailState.UNVERIFIED
        assert await verification.send_link(resident.id, "http://x") is LinkOutcome.FAILED


async def test_without_smtp_no_link_is_promised(tmp_path: Path) -> None:
    async with running_web(tmp_path) as web:
        await signed_in(web)
        resident = web.rendered.context["resident"]
        await _profile(web, ANTOINE_MAIL)
        verification = alerts_of(web).verification
        assert await verification.send_link(resident.id, "http://x") is LinkOutcome.DISABLED


async def test_a_link_expires_after_a_day(tmp_path: Path, mail: tuple[Mailbox, int]) -> None:
    mailbox, port = mail
    async with running_web(tmp_path, **email_config(port)) as web:
        await signed_in(web)
        resident = web.rendered.context["resident"]
        await _profile(web, ANTOINE_MAIL)
        alerts = alerts_of(web)
        now = [datetime.now(UTC)]
        from gateway.inbound.email_verify import EmailVerification

        assert web.gateway.db is not None
        verification = EmailVerification(
            web.gateway.db, alerts.settings, alerts.email.deliver, clock=lambda: now[0]
        )
        assert await verification.send_link(resident.id, "http://x") is LinkOutcome.SENT
        await _wait_for(mailbox, 1)
        token = _link(mailbox.messages[0]).split("token=", 1)[1]
        now[0] += timedelta(days=1, seconds=1)
        assert await verification.state(resident.id) is EmailState.UNVERIFIED
        assert await verification.confirm(token) is None
