"""The demo's simulated phones page lists each call with its outcome, keys and a player."""

from __future__ import annotations

import httpx

from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.service import Gateway
from modem.simulator import Simulator
from modem.simulator.call_phone import CallBehaviour
from tests.web.helpers import Recorder, fast_settings
from web.app import create_app

from .conftest import WAIT, wait_state


async def test_phones_page_plays_the_recorded_call(gateway: Gateway, sim: Simulator) -> None:
    phone = sim.phones[0]
    phone.voice.behaviour = CallBehaviour(keys=((0.1, "1"),))
    message_id = await gateway.outbox.enqueue(
        NewMessage(MessageClass.ALERT, Channel.VOICE, phone.number, "Test.", "en")
    )
    await wait_state(gateway, message_id, MessageState.DELIVERED)
    (call,) = await phone.voice.wait_ended(1, WAIT)
    assert call.wav_path is not None

    app = create_app(gateway, simulator=sim, settings=fast_settings())
    recorder = Recorder(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=recorder)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = await client.get("/sim/phones")
            assert recorder.last is not None
            assert recorder.last.name == "sim_phones.html"
            (view,) = recorder.last.context["calls"][phone.number]
            assert (view.outcome, view.keys, view.answered) == ("hung_up_by_caller", "1", True)
            assert view.recording == f"/sim/calls/{call.wav_path.name}"
            assert f'<audio controls preload="none" src="{view.recording}"' in page.text
            assert "media-src 'self'" in page.headers["content-security-policy"]
            wav = await client.get(view.recording)
            assert wav.status_code == 200
            assert wav.headers["content-type"] == "audio/wav"
            assert wav.content == call.wav_path.read_bytes()
            assert (await client.get("/sim/calls/..%2Ftocsin.sqlite")).status_code == 404
