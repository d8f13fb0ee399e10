"""Passwords, sessions, contacts, export and deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.outbox import Channel
from gateway.residents import passwords
from gateway.residents.codes import Purpose
from gateway.residents.errors import InvalidField, WeakPassword
from gateway.residents.models import ContactKind, Profile, clean_postal_code, clean_profile
from gateway.residents.service import CodeRejected, ResidentService, WrongPassword
from gateway.residents.streets import load_sample_streets
from gateway.storage.database import Database
from tests.residents.conftest import Clock, code_in, outbox_rows

NUMBER = "+15145550101"
PASSWORD = "a long enough passphrase"


async def registered(service: ResidentService, number: str = NUMBER):
    await service.request_code(number, Purpose.REGISTER, Channel.SMS, client="c", language="fr")
    rows = await outbox_rows(service.residents._db)
    return await service.complete_registration(number, code_in(rows[-1][3]), PASSWORD, "fr")


# Passwords


async def test_argon2id_hash() -> None:
    stored = await passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password(stored, PASSWORD)
    assert not await passwords.verify_password(stored, PASSWORD + "x")
    assert not await passwords.verify_password(None, PASSWORD)
    assert not await passwords.verify_password("garbage", PASSWORD)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "too_short"),
        ("x" * 129, "too_long"),
        ("password", "common"),
        ("Password1", "common"),
        ("azertyuiop", "common"),
        ("motdepasse", "common"),
        ("qwertyuiop", "common"),
    ],
)
def test_policy_rejects(password: str, code: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        passwords.check_policy(password, min_length=8, max_length=128)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "password", ["abcdefgh-not-common", "x" * 128, "é" * 8, "sans chiffres ni majuscules"]
)
def test_policy_accepts_without_composition_rules(password: str) -> None:
    passwords.check_policy(password, min_length=8, max_length=128)


def test_common_list_is_shipped() -> None:
    common = passwords.common_passwords()
    assert 1000 <= len(common) < 1100
    assert all(len(p) >= 8 for p in common)


async def test_weak_password_does_not_burn_the_code(service: ResidentService, db: Database) -> None:
    await service.request_code(NUMBER, Purpose.REGISTER, Channel.SMS, client="c", language="fr")
    code = code_in((await outbox_rows(db))[-1][3])
    with pytest.raises(WeakPassword):
        await service.complete_registration(NUMBER, code, "password", "fr")
    resident = await service.complete_registration(NUMBER, code, PASSWORD, "fr")
    assert resident.phone == NUMBER
    contacts = await service.residents.contacts(resident.id)
    assert [(c.kind, c.number, c.verified, c.active) for c in contacts] == [
        (ContactKind.VOICE, NUMBER, True, True)
    ]


async def test_register_with_a_wrong_code(service: ResidentService) -> None:
    await service.request_code(NUMBER, Purpose.REGISTER, Channel.SMS, client="c", language="fr")
    with pytest.raises(CodeRejected):
        await service.complete_registration(NUMBER, "12345", PASSWORD, "fr")
    assert await service.residents.by_phone(NUMBER) is None


async def test_reset_keeps_old_password_until_done(service: ResidentService, db: Database) -> None:
    resident = await registered(service)
    session = await service.sessions.create(resident.id)
    await service.request_code(NUMBER, Purpose.RESET, Channel.SMS, client="c", language="fr")
    assert await service.authenticate(NUMBER, PASSWORD) is not None
    code = code_in((await outbox_rows(db))[-1][3])
    await service.complete_reset(NUMBER, code, "another fine passphrase")
    assert await service.authenticate(NUMBER, PASSWORD) is None
    assert await service.authenticate(NUMBER, "another fine passphrase") is not None
    assert await service.sessions.get(session.token) is None  # other sessions end
    with pytest.raises(CodeRejected):  # single use
        await service.complete_reset(NUMBER, code, "yet another passphrase")


async def test_change_password_needs_the_current_one(service: ResidentService) -> None:
    resident = await registered(service)
    with pytest.raises(WrongPassword):
        await service.change_password(resident, "not it at all", "new fine passphrase")
    await service.change_password(resident, PASSWORD, "new fine passphrase")
    assert await service.authenticate(NUMBER, "new fine passphrase") is not None


# Sessions


async def test_session_token_hashed_at_rest(service: ResidentService, db: Database) -> None:
    session = await service.sessions.create()
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT token_hash FROM web_session"))
    assert [str(r[0]) for r in rows] != [session.token]
    assert session.token not in str(rows[0][0])
    assert (await service.sessions.get(session.token)) is not None


async def test_rotation_kills_the_old_token(service: ResidentService) -> None:
    resident = await registered(service)
    anonymous = await service.sessions.create(data={"language": "en"})
    signed_in = await service.sessions.rotate(anonymous, resident.id)
    assert signed_in.token != anonymous.token
    assert signed_in.csrf_token != anonymous.csrf_token
    assert await service.sessions.get(anonymous.token) is None
    found = await service.sessions.get(signed_in.token)
    assert found is not None
    assert (found.resident_id, found.data) == (resident.id, {"language": "en"})


async def test_idle_timeout(service: ResidentService, clock: Clock) -> None:
    session = await service.sessions.create()
    clock.advance(minutes=29)
    assert await service.sessions.get(session.token) is not None  # touched
    clock.advance(minutes=29)
    assert await service.sessions.get(session.token) is not None
    clock.advance(minutes=30)
    assert await service.sessions.get(session.token) is None


async def test_absolute_timeout(service: ResidentService, clock: Clock) -> None:
    session = await service.sessions.create()
    for _ in range(12 * 4):
        clock.advance(minutes=15)
        if await service.sessions.get(session.token) is None:
            break
    assert clock.now - session.created_at == timedelta(hours=12)


async def test_logout_invalidates(service: ResidentService) -> None:
    session = await service.sessions.create()
    await service.sessions.end(session)
    assert await service.sessions.get(session.token) is None
    assert await service.sessions.get("") is None
    assert await service.sessions.get("x" * 500) is None


# Profile, contacts, export, deletion


def test_postal_codes() -> None:
    assert clean_postal_code("j6w1t6") == "J6W 1T6"
    assert clean_postal_code(" J6W 1T6 ") == "J6W 1T6"
    for bad in ("J6W1T", "D6W 1T6", "123456", "J6W-1T6", "W6W 1T6"):
        with pytest.raises(InvalidField):
            clean_postal_code(bad)


def test_profile_required_fields() -> None:
    with pytest.raises(InvalidField) as caught:
        clean_profile(Profile(first_name="Antoine", civic_number="710"), required=True)
    assert caught.value.field == "last_name"
    cleaned = clean_profile(
        Profile(
            last_name=" Racicot ",
            first_name="Antoine",
            civic_number="710",
            postal_code="j6w1t6",
        ),
        required=True,
    )
    assert (cleaned.last_name, cleaned.postal_code) == ("Racicot", "J6W 1T6")
    assert cleaned.hide_my_number
    assert not cleaned.consent_sms_alerts


async def test_new_contact_needs_a_code(service: ResidentService, db: Database) -> None:
    resident = await registered(service)
    same = await service.add_contact(
        resident, ContactKind.SMS, NUMBER, "", client="c", language="fr"
    )
    assert same.verified
    assert same.active
    other = await service.add_contact(
        resident, ContactKind.SMS, "514 555 0199", "travail", client="c", language="fr"
    )
    assert not other.verified
    assert not other.active
    row = (await outbox_rows(db))[-1]
    assert row[:3] == ("otp", "sms", "+15145550199")
    assert not await service.verify_contact(resident, other.id, "99999x")
    assert await service.verify_contact(resident, other.id, code_in(row[3]))
    verified = await service.residents.contact(resident.id, other.id)
    assert verified is not None
    assert verified.verified
    assert verified.active


async def test_export_and_delete_leave_no_trace(service: ResidentService, db: Database) -> None:
    await load_sample_streets(db, "Ville de Démo")
    resident = await registered(service)
    await service.add_contact(
        resident, ContactKind.VOICE, "514 555 0177", "chalet", client="c", language="fr"
    )
    street = (await service.streets.all())[0]
    await service.residents.update_profile(
        resident.id,
        Profile(
            last_name="Racicot", first_name="Antoine", street_id=street.id, postal_code="J6W 1T6"
        ),
    )
    data = await service.export(resident.id)
    assert data["profile"]["street"] == street.name
    assert {c["number"] for c in data["contacts"]} == {NUMBER, "+15145550177"}
    assert "password" not in str(data)
    await service.delete_account(resident.id)
    async with db.read() as conn:
        for table in ("resident", "contact", "otp_code", "send_event", "web_session"):
            rows = list(await conn.execute_fetchall(f"SELECT count(*) FROM {table}"))
            assert rows[0][0] == 0, table
