"""Modems that cannot speak a job's language hand it over; SIM800 speaks English itself."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import gateway.calls.worker as worker_module
from gateway.calls.outcomes import CallOutcome
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.service import Gateway
from modem.simulator import Simulator
from modem.simulator.call_phone import CallBehaviour

from .conftest import wait_state


@pytest.fixture
def families() -> Sequence[str]:
    return ("sim800", "sim7600")


@pytest.fixture(autouse=True)
def short_handover(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "VOICE_HANDOVER_S", 0.5)


async def test_sim800_hands_french_to_a_pcm_modem(gateway: Gateway, sim: Simulator) -> None:
    sim.phones[0].voice.behaviour = CallBehaviour(keys=((0.1, "1"),))
    sim.phones[1].voice.behaviour = CallBehaviour(keys=((0.1, "1"),))
    french = await gateway.outbox.enqueue(
        NewMessage(MessageClass.ALERT, Channel.VOICE, sim.phones[0].number, "Test.", "fr")
    )
    english = await gateway.outbox.enqueue(
        NewMessage(MessageClass.ALERT, Channel.VOICE, sim.phones[1].number, "Test.", "en")
    )
    await wait_state(gateway, french, MessageState.DELIVERED)
    await wait_state(gateway, english, MessageState.DELIVERED)
    (record,) = await gateway.calls.store.for_message(french)
    assert record.modem.startswith("sim7600")
    assert sim.phones[0].voice.calls[0].heard_speech()
    assert all(not text.startswith("Bonjour") for text in sim.modems[0].voice.tts_played)
    (record,) = await gateway.calls.store.for_message(english)
    assert record.outcome is CallOutcome.CONFIRMED


@pytest.mark.parametrize("families", [("sim800",)])
async def test_french_fails_where_no_modem_speaks_it(gateway: Gateway, sim: Simulator) -> None:
    message_id = await gateway.outbox.enqueue(
        NewMessage(MessageClass.ALERT, Channel.VOICE, sim.phones[0].number, "Test.", "fr")
    )
    await wait_state(gateway, message_id, MessageState.FAILED)
    message = await gateway.outbox.get(message_id)
    assert message is not None
    assert "no voice modem can speak 'fr'" in (message.last_error or "")
    assert sim.phones[0].voice.calls == []
