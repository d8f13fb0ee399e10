"""Demo mode only: the simulated phones and their inboxes, so a visitor can read the codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from web.visit import Visit, page


class PhoneMessageLike(Protocol):
    """What the page shows of one received SMS (modem.simulator.phone.PhoneMessage)."""

    @property
    def sender(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def parts(self) -> int: ...


class PhoneLike(Protocol):
    """A simulated handset (modem.simulator.phone.SimPhone), without importing modem/."""

    number: str

    @property
    def inbox(self) -> Sequence[PhoneMessageLike]: ...


class PhoneCallLike(Protocol):
    """One call a phone received (modem.simulator.call_phone.PhoneCall)."""

    caller: str
    answered_at: float | None
    outcome: str | None
    keys_pressed: list[tuple[float, str]]
    wav_path: Path | None

    @property
    def audio_s(self) -> float: ...


@dataclass(frozen=True)
class CallView:
    """What the page shows of one call: who called, how it ended, the keys, the recording."""

    caller: str
    outcome: str
    answered: bool
    keys: str
    seconds: float
    recording: str | None  # the player's URL


class PhoneDirectory(Protocol):
    """The simulator as the web app needs it."""

    @property
    def phones(self) -> Sequence[PhoneLike]: ...


@page()
async def phones_page(visit: Visit) -> Response:
    """Every simulated phone with its inbox, newest message first."""
    directory: PhoneDirectory = visit.request.app.state.simulator
    calls = {phone.number: _calls(phone) for phone in directory.phones}
    return visit.render("sim_phones.html", {"phones": directory.phones, "calls": calls})


async def call_recording(request: Request) -> Response:
    """GET /sim/calls/{name}: a recorded call, only ones a phone lists (no path from the URL)."""
    directory: PhoneDirectory = request.app.state.simulator
    name = request.path_params["name"]
    for phone in directory.phones:
        for call in _phone_calls(phone):
            path = call.wav_path
            if path is not None and path.name == name and path.is_file():
                return FileResponse(path, media_type="audio/wav")
    return JSONResponse({"error": "no such recording"}, status_code=404)


def _phone_calls(phone: PhoneLike) -> Sequence[PhoneCallLike]:
    """The calls of a phone that has a voice side (test doubles may have none)."""
    voice = getattr(phone, "voice", None)
    calls: Sequence[PhoneCallLike] = getattr(voice, "calls", ())
    return calls


def _calls(phone: PhoneLike) -> list[CallView]:
    """Newest first, as the inbox."""
    return [
        CallView(
            caller=call.caller,
            outcome=call.outcome or "ringing",
            answered=call.answered_at is not None,
            keys=" ".join(key for _, key in call.keys_pressed),
            seconds=round(call.audio_s, 1),
            recording=f"/sim/calls/{call.wav_path.name}" if call.wav_path is not None else None,
        )
        for call in reversed(_phone_calls(phone))
    ]


async def phone_messages(request: Request) -> Response:
    """GET /sim/phones/{e164}/messages: the inbox as JSON, newest last."""
    directory: PhoneDirectory = request.app.state.simulator
    number = request.path_params["e164"]
    for phone in directory.phones:
        if phone.number == number:
            return JSONResponse(
                [
                    {
                        "sender": m.sender,
                        "recipient": m.recipient,
                        "text": m.text,
                        "time": m.time.isoformat(),
                        "parts": m.parts,
                    }
                    for m in phone.inbox
                ],
                headers={"cache-control": "no-store"},
            )
    return JSONResponse({"error": "no such simulated phone"}, status_code=404)


ROUTES = [
    Route("/sim/phones", phones_page, methods=["GET"]),
    Route("/sim/phones/{e164}/messages", phone_messages, methods=["GET"]),
    Route("/sim/calls/{name}", call_recording, methods=["GET"]),
]
