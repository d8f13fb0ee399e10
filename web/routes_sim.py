"""Demo mode only: the simulated phones and their inboxes, so a visitor can read the codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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


class PhoneDirectory(Protocol):
    """The simulator as the web app needs it."""

    @property
    def phones(self) -> Sequence[PhoneLike]: ...


@page()
async def phones_page(visit: Visit) -> Response:
    """Every simulated phone with its inbox, newest message first."""
    directory: PhoneDirectory = visit.request.app.state.simulator
    return visit.render("sim_phones.html", {"phones": directory.phones})


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
]
