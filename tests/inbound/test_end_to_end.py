"""On the simulator: a resident's phone texts the box; the community's phones and inboxes get it."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway.service import Gateway
from modem.simulator import Simulator
from tests.gateway.conftest import modem_settings
from tests.inbound.helpers import add_resident, make_config, street_ids


class Mailbox:
    """An aiosmtpd handler that keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


async def test_sms_alert_reaches_the_zone_by_sms_and_email(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    config = make_config(
        tmp_path,
        **{
            "email.host": "127.0.0.1",
            "email.port": port,
            "email.tls": "none",
            "email.from": "alertes@terrebonne.example",
        },
    )
    async with Simulator(modems=1, phones=5, scale=0.01) as sim:
        antoine, bea, chloe, david, eve = sim.phones
        async with Gateway(config, modem_settings(sim)) as gateway:
            streets = await street_ids(gateway)
            zone_a, zone_a2, zone_b = (
                streets[name] for name in ("Rue des Érables", "Rue du Moulin", "Rue du Port")
            )
            await add_resident(
                gateway,
                antoine.number,
                street_id=zone_a,
                first_name="Antoine",
                email="antoine@example.org",
                email_alerts=True,
            )
            await add_resident(
                gateway,
                bea.number,
                street_id=zone_a2,
                first_name="Béa",
                email="bea@example.org",
                email_alerts=True,
            )
            await add_resident(
                gateway,
                chloe.number,
                street_id=zone_a,
                first_name="Chloé",
                email="chloe@example.org",
            )  # email, but no copies asked
            await add_resident(
                gateway,
                david.number,
                street_id=zone_b,
                first_name="David",
                email="david@example.org",
                email_alerts=True,
            )
            await add_resident(
                gateway, eve.number, street_id=zone_a, first_name="Eve", neighbours=False
            )  # SMS off

            await antoine.send_sms(sim.modems[0].number, "Deux hommes essaient les portieres")
            for phone in (bea, chloe):
                [received] = await phone.wait_for_inbox(1, timeout=15)
                assert received.text == "Antoine: Deux hommes essaient les portieres"
                assert received.sender == sim.modems[0].number
            async with asyncio.timeout(10):
                while not mailbox.messages:
                    await asyncio.sleep(0.02)
            await gateway.router.alerts.email.idle()
            await asyncio.sleep(0.3)  # anything wrongly sent would have arrived by now
            assert david.inbox == []
            assert eve.inbox == []
            assert antoine.inbox == []
            [copy] = mailbox.messages
            assert copy["To"] == "bea@example.org"
            assert "Antoine" in copy["Subject"]
            body = copy.get_payload(decode=True)
            assert isinstance(body, bytes)
            assert "Antoine: Deux hommes essaient les portieres" in body.decode()


async def test_email_failure_never_blocks_the_sms(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        **{
            "email.host": "127.0.0.1",
            "email.port": _free_port(),
            "email.tls": "none",
            "email.from": "alertes@terrebonne.example",
            "email.max_attempts": 2,
        },
    )
    async with Simulator(modems=1, phones=2, scale=0.01) as sim:
        antoine, bea = sim.phones
        async with Gateway(config, modem_settings(sim)) as gateway:
            zone = (await street_ids(gateway))["Rue des Érables"]
            await add_resident(gateway, antoine.number, street_id=zone)
            await add_resident(
                gateway,
                bea.number,
                street_id=zone,
                first_name="Béa",
                email="bea@example.org",
                email_alerts=True,
            )
            await antoine.send_sms(sim.modems[0].number, "Panne de courant")
            [received] = await bea.wait_for_inbox(1, timeout=15)
            assert received.text == "Antoine: Panne de courant"
            await gateway.router.alerts.email.idle()
            assert gateway.db is not None
            async with gateway.db.read() as conn:
                rows = list(
                    await conn.execute_fetchall(
                        "SELECT state, attempts FROM neighbour_recipient WHERE channel = 'email'"
                    )
                )
            assert [(r[0], r[1]) for r in rows] == [("failed", 2)]
