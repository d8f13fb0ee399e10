"""OTP voice fallback: a code sent by SMS is also queued as a later call, cancelled once it goes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.events import EventBus
from gateway.outbox import Channel, MessageClass, MessageState, Outbox
from gateway.residents.codes import Purpose
from gateway.residents.service import CodeRejected, ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.service import Gateway
from gateway.storage.database import Database
from gateway.storage.times import from_ms, utc_now
from modem.simulator import Simulator
from modem.simulator.call_phone import CallBehaviour
from tests.calls.conftest import (  # noqa: F401 (fixtures)
    WAIT,
    call_config,
    fast_calls,
    speech_cache,
    voice_modems,
    wait_state,
)
from tests.residents.conftest import Clock, code_in

NUMBER = "+15145550101"
CLIENT = "198.51.100.7"
PASSWORD = "correct horse battery"
FALLBACK = timedelta(minutes=2)


async def make_service(
    db: Database, bus: EventBus, clock: Clock, fallback: timedelta = FALLBACK
) -> tuple[ResidentService, Outbox]:
    outbox = Outbox(db, clock=clock)
    settings = ResidentSettings(voice_fallback=fallback)
    return await ResidentService.open(db, outbox, bus, settings, clock=clock), outbox


async def rows(db: Database) -> list[dict[str, object]]:
    async with db.read() as conn:
        found = await conn.execute_fetchall(
            "SELECT id, class, channel, destination, body, state, next_attempt_at, valid_until"
            " FROM message ORDER BY id"
        )
    return [dict(row) for row in found]


async def fallback_ids(db: Database) -> list[int | None]:
    async with db.read() as conn:
        found = await conn.execute_fetchall("SELECT fallback_id FROM otp_code")
    return [None if row[0] is None else int(row[0]) for row in found]


async def test_fallback_queued_with_the_same_code(
    db: Database, bus: EventBus, clock: Clock
) -> None:
    service, _ = await make_service(db, bus, clock)
    await service.request_code(NUMBER, Purpose.REGISTER, Channel.SMS, client=CLIENT, language="fr")
    sms, call = await rows(db)
    assert (sms["channel"], call["channel"]) == ("sms", "voice")
    assert call["class"] == MessageClass.OTP.value
    assert call["destination"] == NUMBER
    assert call["state"] == "queued"
    assert from_ms(int(str(call["next_attempt_at"]))) == clock.now + FALLBACK
    assert from_ms(int(str(call["valid_until"]))) == clock.now + service.settings.otp_lifetime
    assert call["valid_until"] == sms["valid_until"]
    # The spoken wording, digit by digit, with the very code of the SMS.
    code = code_in(str(sms["body"]))
    assert " ".join(code) in str(call["body"])
    assert code_in(str(call["body"])) == code
    assert str(call["body"]).startswith("Bonjour, ici")
    assert await fallback_ids(db) == [call["id"]]


async def test_fallback_cancelled_when_the_code_is_used(
    db: Database, bus: EventBus, clock: Clock
) -> None:
    service, outbox = await make_service(db, bus, clock)
    number = await service.request_code(
        NUMBER, Purpose.REGISTER, Channel.SMS, client=CLIENT, language="fr"
    )
    sms, call = await rows(db)
    clock.advance(seconds=30)
    await service.complete_registration(number, code_in(str(sms["body"])), PASSWORD, "fr")
    message = await outbox.get(int(str(call["id"])))
    assert message is not None
    assert message.state is MessageState.CANCELLED


async def test_wrong_try_keeps_the_fallback_until_the_code_dies(
    db: Database, bus: EventBus, clock: Clock
) -> None:
    service, outbox = await make_service(db, bus, clock)
    number = await service.request_code(
        NUMBER, Purpose.REGISTER, Channel.SMS, client=CLIENT, language="en"
    )
    sms, call = await rows(db)
    wrong = "000000" if code_in(str(sms["body"])) != "000000" else "111111"
    call_id = int(str(call["id"]))
    for _ in range(service.settings.otp_max_tries - 1):
        with pytest.raises(CodeRejected):
            await service.complete_registration(number, wrong, PASSWORD, "en")
        state = await outbox.get(call_id)
        assert state is not None
        assert state.state is MessageState.QUEUED
    with pytest.raises(CodeRejected):  # the last try kills the code, and its call
        await service.complete_registration(number, wrong, PASSWORD, "en")
    state = await outbox.get(call_id)
    assert state is not None
    assert state.state is MessageState.CANCELLED


async def test_fallback_cancelled_when_a_new_code_replaces_it(
    db: Database, bus: EventBus, clock: Clock
) -> None:
    service, outbox = await make_service(db, bus, clock)
    await service.request_code(NUMBER, Purpose.RESET, Channel.SMS, client=CLIENT, language="fr")
    clock.advance(seconds=20)
    # RESET needs an account: a registered number gets the code.
    assert len(await rows(db)) == 1  # no account yet: a notice, and no call
    await service.residents.create(NUMBER, "x", "fr")
    await service.request_code(NUMBER, Purpose.RESET, Channel.SMS, client=CLIENT, language="fr")
    await service.request_code(NUMBER, Purpose.RESET, Channel.SMS, client=CLIENT, language="fr")
    _, _, first_call, second_sms, second_call = await rows(db)
    assert (first_call["channel"], second_call["channel"]) == ("voice", "voice")
    first = await outbox.get(int(str(first_call["id"])))
    second = await outbox.get(int(str(second_call["id"])))
    assert first is not None
    assert first.state is MessageState.CANCELLED
    assert second is not None
    assert second.state is MessageState.QUEUED
    assert code_in(str(second_call["body"])) == code_in(str(second_sms["body"]))
    assert await fallback_ids(db) == [second.id]


async def test_no_fallback_when_off(db: Database, bus: EventBus, clock: Clock) -> None:
    service, _ = await make_service(db, bus, clock, fallback=timedelta(0))
    await service.request_code(NUMBER, Purpose.REGISTER, Channel.SMS, client=CLIENT, language="fr")
    assert [row["channel"] for row in await rows(db)] == ["sms"]
    assert await fallback_ids(db) == [None]


async def test_no_fallback_for_a_code_sent_by_voice(
    db: Database, bus: EventBus, clock: Clock
) -> None:
    service, _ = await make_service(db, bus, clock)
    await service.request_code(
        NUMBER, Purpose.REGISTER, Channel.VOICE, client=CLIENT, language="fr"
    )
    assert [row["channel"] for row in await rows(db)] == ["voice"]
    assert await fallback_ids(db) == [None]


def test_setting_read_from_config() -> None:
    settings = ResidentSettings.from_config({"residents.voice_fallback_s": 90.0})
    assert settings.voice_fallback == timedelta(seconds=90)
    assert ResidentSettings().voice_fallback == timedelta(0)


@pytest.mark.usefixtures("fast_calls")
async def test_unused_sms_code_is_then_spoken_in_a_call(
    tmp_path: Path,
    speech_cache: Path,  # noqa: F811
) -> None:
    async with Simulator(modems=1, phones=1, family=["ec25"], scale=0.01) as sim:
        phone = sim.phones[0]
        phone.voice.record_dir = tmp_path
        phone.voice.behaviour = CallBehaviour(keys=((0.3, "1"),))
        await sim.wait_ready()
        config = call_config(tmp_path, speech_cache)
        async with Gateway(config, voice_modems(sim)) as gateway:
            assert gateway.db is not None
            settings = ResidentSettings(town_name="Tocsin", voice_fallback=timedelta(seconds=1))
            residents = await ResidentService.open(
                gateway.db, gateway.outbox, gateway.bus, settings
            )
            asked_at = utc_now()
            await residents.request_code(
                phone.number, Purpose.REGISTER, Channel.SMS, client=CLIENT, language="fr"
            )
            (sms,) = await phone.wait_for_inbox(1, WAIT)
            (heard,) = await phone.voice.wait_ended(1, WAIT)
            assert heard.heard_speech()
            assert heard.wav_path is not None
            assert heard.wav_path.exists()
            call = await gateway.outbox.get(2)
            assert call is not None
            assert call.channel is Channel.VOICE
            await wait_state(gateway, call.id, MessageState.DELIVERED)
            (record,) = await gateway.calls.store.for_message(call.id)
            assert record.answered
            assert record.started_at >= asked_at + settings.voice_fallback  # not before
            spoken = re.findall(r"(?:\d ){5}\d", call.body)
            assert spoken
            assert spoken[0].replace(" ", "") == code_in(sms.text)
