"""Account deletion leaves no trace of the resident's numbers in any table, nor in the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gateway.outbox import Channel
from gateway.residents.codes import Purpose
from gateway.residents.phones import spellings
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.service import Gateway
from gateway.storage.times import to_ms, utc_now
from tests.inbound.helpers import add_resident, make_config, outbox_rows, receive, street_ids

GONE = "+15145550101"  # login number of the resident who leaves
GONE_SMS = "+15145550111"  # their second SMS number
SHARED = "+15145550150"  # a household phone they share with the one who stays
STAYS = "+15145550102"
FORMS = sorted({f for n in (GONE, GONE_SMS) for f in spellings(n)})


def _texts_naming(path: Path, forms: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every stored text that contains one of `forms`."""
    found: list[tuple[str, str, str]] = []
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for row in conn.execute(f"SELECT * FROM {table}"):
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found.extend((table, column, text) for f in forms if f in text)
    finally:
        conn.close()
    return found


async def _populate(gateway: Gateway, service: ResidentService) -> tuple[int, int]:
    streets = await street_ids(gateway)
    gone = await add_resident(
        gateway,
        GONE,
        street_id=streets["Rue des Érables"],
        sms=(GONE, GONE_SMS, SHARED),
        hide=False,
        email="gone@example.org",
        email_alerts=True,
    )
    stays = await add_resident(
        gateway, STAYS, street_id=streets["Rue du Moulin"], first_name="Béa", sms=(STAYS, SHARED)
    )
    router = gateway.router
    # Their alert by SMS, relayed to the one who stays with their number shown.
    await router.route(await receive(gateway, GONE_SMS, "Camion suspect rue des Erables"))
    # An alert by the one who stays reaches them; a text from an unknown sender too.
    await router.route(await receive(gateway, STAYS, "Chien perdu"))
    # A registration under way in another browser, a reset code, a STOP.
    session = await service.sessions.create(data={"pending": {"phone": GONE_SMS}})
    assert session.token
    await service.request_code(GONE, Purpose.RESET, Channel.SMS, client="c", language="fr")
    await router.route(await receive(gateway, GONE_SMS, "STOP"))
    assert gateway.db is not None
    async with gateway.db.write() as conn:
        now = to_ms(utc_now())
        await conn.execute(
            "INSERT INTO status_report (modem, mr, status, recipient, received_at)"
            " VALUES ('sim0', 7, 0, ?, ?)",
            (GONE.lstrip("+"), now),
        )
        await conn.execute(
            "INSERT INTO campaign (title, body_fr, body_en, channels, severity, target,"
            " created_at) VALUES ('t', 'b', 'b', 'sms', 'information', '{}', ?)",
            (now,),
        )
        await conn.executemany(
            "INSERT INTO campaign_recipient (campaign_id, channel, number, language, residents)"
            " VALUES (1, 'sms', ?, 'fr', 'x')",
            [(GONE,), (STAYS,)],
        )
    return gone, stays


async def test_deletion_erases_every_trace_of_the_numbers(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.sqlite"
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        service = await ResidentService.open(
            gateway.db, gateway.outbox, gateway.bus, ResidentSettings()
        )
        gone, stays = await _populate(gateway, service)
    assert _texts_naming(path, FORMS), "the setup must have stored the numbers"
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        service = await ResidentService.open(
            gateway.db, gateway.outbox, gateway.bus, ResidentSettings()
        )
        before = await outbox_rows(gateway)
        await service.delete_account(gone)
        after = await outbox_rows(gateway)
        assert await service.residents.get(gone) is None
        # The one who stays keeps everything, the shared household phone included.
        kept = await service.residents.get(stays)
        assert kept is not None
        assert [c.number for c in await service.residents.contacts(stays)] == [
            STAYS,
            STAYS,
            SHARED,
        ]
        # Their relay still reached the one who stays, now without their number in it.
        assert [r for r in before if r[1] in {STAYS, SHARED}] == [
            ("relay", STAYS, "Antoine (514 555-0111): Camion suspect rue des Erables")
        ]
        assert [r for r in after if r[1] in {STAYS, SHARED}] == [
            ("relay", STAYS, "Antoine: Camion suspect rue des Erables")
        ]
        assert len(before) == len(after)  # rows are erased, not deleted: counts hold
        feed = await gateway.router.alerts.recent()
        assert [(a.body, a.sender_name) for a in feed] == [
            ("Chien perdu", "Béa"),
            ("Camion suspect rue des Erables", ""),
        ]
        async with gateway.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT DISTINCT state FROM message WHERE destination = '+10'"
            )
        assert {str(r[0]) for r in rows} == {"cancelled"}
    assert _texts_naming(path, FORMS) == []
    assert _texts_naming(path, ["gone@example.org"]) == []
    raw = path.read_bytes()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    for form in [*FORMS, "gone@example.org"]:
        assert form.encode() not in raw, form
    assert json.dumps(STAYS)[1:-1].encode() in raw  # the check can see a number
