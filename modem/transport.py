"""Bytes to AT lines: framing, the `> ` prompt, garbage resync, and the serial port itself.

Kept apart from the AT channel so the framer can be fed byte by byte (and fuzzed) without I/O,
the way zigpy-znp splits `uart.py` from `api.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import serial_asyncio_fast

from modem.exceptions import ModemDisconnectedError

_LOGGER = logging.getLogger(__name__)

# The longest legitimate line is a +CUSD answer or a PDU of 176 octets (~360 hex chars plus a
# header); anything past this without a line end is garbage, and keeping it would let a noisy
# port grow memory without bound.
MAX_LINE_BYTES: Final = 2048

DEFAULT_BAUDRATE: Final = 115200

_TERMINATORS: Final = b"\r\n"
_PROMPT: Final = b"> "


@dataclass(frozen=True, slots=True)
class Line:
    """One complete line from the modem, without its terminator."""

    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """The `> ` prompt of AT+CMGS: it ends without a line terminator."""


Event = Line | Prompt


class LineFramer:
    """Turns a byte stream into lines and prompts, dropping noise and capping its buffer."""

    def __init__(self, name: str = "modem") -> None:
        self._name = name
        self._buffer = bytearray()
        self._discarding = False  # inside an over-long run: drop bytes until the next line end
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> list[Event]:
        """Add bytes; return every event they complete."""
        events: list[Event] = []
        for byte in data:
            if byte in _TERMINATORS:
                if self._discarding:
                    self._discarding = False
                elif self._buffer:
                    line = self._finish_line()
                    if line is not None:
                        events.append(line)
                continue
            if self._discarding:
                self.garbage_bytes += 1
                continue
            self._buffer.append(byte)
            if len(self._buffer) > MAX_LINE_BYTES:
                _LOGGER.warning("%s: line over %d bytes dropped", self._name, MAX_LINE_BYTES)
                self.garbage_bytes += len(self._buffer)
                self._buffer.clear()
                self._discarding = True
            elif self._buffer == _PROMPT:
                self._buffer.clear()
                events.append(Prompt())
        return events

    def reset(self) -> None:
        """Forget any partial line (after a reconnect)."""
        self._buffer.clear()
        self._discarding = False

    def _finish_line(self) -> Line | None:
        raw = bytes(self._buffer)
        self._buffer.clear()
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = ""
        if not text or any(ch < " " or ch == "\x7f" for ch in text if ch != "\t"):
            # Noise on the wire (invalid UTF-8, control bytes): AT traffic is text and PDU mode
            # is hex, so such a line cannot be trusted and is dropped whole.
            if raw.strip():
                _LOGGER.warning("%s: garbage line dropped: %r", self._name, raw[:80])
            self.garbage_bytes += len(raw)
            return None
        return Line(text)


class SerialLink(asyncio.Protocol):
    """A serial port opened without blocking the loop, delivering framed events to a callback."""

    def __init__(
        self,
        name: str,
        on_event: Callable[[Event], None],
        on_lost: Callable[[Exception | None], None],
    ) -> None:
        self._name = name
        self._on_event = on_event
        self._on_lost = on_lost
        self._framer = LineFramer(name)
        self._transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self._made: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()

    @classmethod
    async def open(
        cls,
        port: str,
        *,
        name: str,
        on_event: Callable[[Event], None],
        on_lost: Callable[[Exception | None], None],
        baudrate: int = DEFAULT_BAUDRATE,
        rtscts: bool = False,
    ) -> SerialLink:
        """Open `port`; rtscts only where the wiring has RTS/CTS (bare SIM800 UARTs do not)."""
        loop = asyncio.get_running_loop()
        link = cls(name, on_event, on_lost)
        try:
            await serial_asyncio_fast.create_serial_connection(
                loop, lambda: link, port, baudrate=baudrate, rtscts=rtscts, exclusive=True
            )
        except Exception as exc:  # serial.SerialException, OSError: the port is not there
            raise ModemDisconnectedError(f"{name}: cannot open {port}: {exc}") from exc
        await link._made  # connection_made runs on the next loop iteration
        return link

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def write(self, data: bytes) -> None:
        if not self.is_open or self._transport is None:
            raise ModemDisconnectedError(f"{self._name}: port is closed")
        _LOGGER.debug("%s > %r", self._name, data)
        self._transport.write(data)

    async def close(self) -> None:
        """Close without flushing: a vanished USB device would make a flush wait forever."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()
        if self._transport is not None:
            await asyncio.shield(self._closed)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._made.done():
            self._made.set_result(None)

    def data_received(self, data: bytes) -> None:
        _LOGGER.debug("%s < %r", self._name, data)
        for event in self._framer.feed(data):
            self._on_event(event)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(None)
        self._on_lost(exc)
