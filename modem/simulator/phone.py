"""A simulated handset: the resident's phone that receives alerts and texts the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modem.pdu import segment_info
from modem.simulator.call_phone import PhoneVoice

if TYPE_CHECKING:
    from modem.simulator.network import SimNetwork


@dataclass(frozen=True)
class PhoneMessage:
    """One whole SMS as the person sees it (parts already joined)."""

    sender: str
    recipient: str
    text: str
    time: datetime
    parts: int


@dataclass
class SimPhone:
    """A number on the network with an inbox and an outbox; can be switched off."""

    number: str
    network: SimNetwork | None = None
    inbox: list[PhoneMessage] = field(default_factory=list)
    outbox: list[PhoneMessage] = field(default_factory=list)
    powered_on: bool = True
    voice: PhoneVoice = field(default_factory=PhoneVoice)  # when called: behaviour, recordings
    _held: list[tuple[str, str, int, Callable[[], None] | None]] = field(
        default_factory=list, init=False, repr=False
    )
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _next_reference: int = field(default=0, init=False, repr=False)

    async def send_sms(self, to: str, text: str, *, out_of_order: bool = False) -> bool:
        """Text `to`; a modem gets SMS-DELIVER PDUs (parts reversed if `out_of_order`).

        Returns once the network has the message; False when `to` is not on the network."""
        if self.network is None:
            raise RuntimeError(f"phone {self.number} is not on a network")
        reference = self._next_reference
        self._next_reference = (reference + 1) % 256
        parts = segment_info(text).parts
        self.outbox.append(PhoneMessage(self.number, to, text, datetime.now(UTC), parts))
        return await self.network.deliver_from_phone(
            self, to, text, reference=reference, out_of_order=out_of_order
        )

    def receive(
        self, sender: str, text: str, *, parts: int, on_delivered: Callable[[], None] | None = None
    ) -> None:
        """The network hands over a whole message (held while the phone is off)."""
        if not self.powered_on:
            self._held.append((sender, text, parts, on_delivered))
            return
        self.inbox.append(PhoneMessage(sender, self.number, text, datetime.now(UTC), parts))
        self._changed.set()
        if on_delivered is not None:
            on_delivered()

    def power_off(self) -> None:
        """Messages wait in the network until `power_on()`."""
        self.powered_on = False

    def power_on(self) -> None:
        """Receive everything held while off."""
        self.powered_on = True
        held, self._held = self._held, []
        for sender, text, parts, on_delivered in held:
            self.receive(sender, text, parts=parts, on_delivered=on_delivered)

    async def wait_for_inbox(self, count: int = 1, timeout: float = 10.0) -> list[PhoneMessage]:
        """Until the inbox holds at least `count` messages; TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while len(self.inbox) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.inbox

    def describe(self) -> dict[str, object]:
        """What a client needs to know about this phone."""
        return {"kind": "phone", "number": self.number}
