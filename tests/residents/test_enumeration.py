"""No enumeration: register and reset do the same work and answer the same either way."""

from __future__ import annotations

import pytest

from gateway.outbox import Channel
from gateway.residents.codes import Purpose
from gateway.residents.errors import InvalidNumber
from gateway.residents.service import ResidentService
from gateway.storage.database import Database
from tests.residents.conftest import code_in, outbox_rows

NEW = "+15145550101"
KNOWN = "+15145550102"


async def register(service: ResidentService, number: str) -> None:
    await service.request_code(
        number, Purpose.REGISTER, Channel.SMS, client="10.0.0.1", language="fr"
    )
    rows = await outbox_rows(service.residents._db)
    code = code_in(rows[-1][3])
    await service.complete_registration(number, code, "a long enough passphrase", "fr")


async def test_register_existing_number_gets_a_notice_not_a_code(
    service: ResidentService, db: Database
) -> None:
    await register(service, KNOWN)
    before = len(await outbox_rows(db))
    new = await service.request_code(
        NEW, Purpose.REGISTER, Channel.SMS, client="10.0.0.2", language="fr"
    )
    known = await service.request_code(
        KNOWN, Purpose.REGISTER, Channel.SMS, client="10.0.0.2", language="fr"
    )
    assert (new, known) == (NEW, KNOWN)
    rows = (await outbox_rows(db))[before:]
    assert [(r[0], r[2]) for r in rows] == [("otp", NEW), ("reply", KNOWN)]
    assert "déjà un compte" in rows[1][3]
    assert not any(ch.isdigit() for ch in rows[1][3].split(":", 1)[1])


async def test_reset_unknown_number_gets_a_notice(service: ResidentService, db: Database) -> None:
    await register(service, KNOWN)
    before = len(await outbox_rows(db))
    for number in (KNOWN, NEW):
        await service.request_code(
            number, Purpose.RESET, Channel.SMS, client="10.0.0.3", language="en"
        )
    rows = (await outbox_rows(db))[before:]
    assert [(r[0], r[2]) for r in rows] == [("otp", KNOWN), ("reply", NEW)]
    assert "no account" in rows[1][3]


async def test_voice_codes_go_on_the_voice_channel(service: ResidentService, db: Database) -> None:
    await service.request_code(NEW, Purpose.REGISTER, Channel.VOICE, client="c", language="fr")
    (row,) = await outbox_rows(db)
    assert row[:3] == ("otp", "voice", NEW)
    assert "Je répète" in row[3]


@pytest.mark.parametrize(
    "raw", ["911", "1-800-555-1234", "1 900 555 1234", "+33 6 12 34 56 78", "hello", "", "5" * 50]
)
async def test_refused_numbers(service: ResidentService, db: Database, raw: str) -> None:
    with pytest.raises(InvalidNumber):
        await service.request_code(raw, Purpose.REGISTER, Channel.SMS, client="c", language="fr")
    assert await outbox_rows(db) == []


async def test_login_fails_the_same_for_unknown_numbers(service: ResidentService) -> None:
    await register(service, KNOWN)
    assert await service.authenticate(KNOWN, "a long enough passphrase") is not None
    assert await service.authenticate(KNOWN, "wrong passphrase!") is None
    assert await service.authenticate(NEW, "a long enough passphrase") is None
    assert await service.authenticate("not a number", "a long enough passphrase") is None
