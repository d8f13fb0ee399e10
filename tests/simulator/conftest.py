"""A raw AT client over the simulator's pty, and a guard against leaked tasks and fds."""

from __future__ import annotations

import asyncio
import os
import re
import termios
import tty
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modem.simulator import SimulatedModem, Simulator

FINAL = re.compile(r"^(OK|ERROR|\+CM[ES] ERROR: .*|COMMAND NOT SUPPORT)$")
TIMEOUT = 3.0


class AtClient:
    """Opens the slave path like a serial port and reads whatever the modem writes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)  # TCSAFLUSH would drop pending URCs
        self.buffer = bytearray()
        self.closed_by_peer = False
        self.reads = 0
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._on_readable)

    def _on_readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed_by_peer = True
            self._loop.remove_reader(self.fd)
        self.reads += 1
        self.buffer += data
        self._event.set()

    def close(self) -> None:
        if self.fd >= 0:
            self._loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1

    def write(self, data: bytes | str) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    async def read_until(self, marker: bytes, timeout: float = TIMEOUT) -> bytes:
        """Bytes up to and including `marker`, consumed from the buffer."""
        async with asyncio.timeout(timeout):
            while (end := self.buffer.find(marker)) < 0:
                self._event.clear()
                await self._event.wait()
        data = bytes(self.buffer[: end + len(marker)])
        del self.buffer[: end + len(marker)]
        return data

    async def line(self, timeout: float = TIMEOUT) -> str:
        """The next non-empty line."""
        while True:
            raw = await self.read_until(b"\r\n", timeout)
            text = raw.decode("latin-1").strip("\r\n")
            if text:
                return text

    async def command(self, cmd: str, timeout: float = TIMEOUT) -> list[str]:
        """Send `cmd`, return every line up to and including the final result code."""
        self.write(cmd + "\r")
        lines: list[str] = []
        while True:
            lines.append(await self.line(timeout))
            if FINAL.match(lines[-1]):
                return lines

    async def quiet(self, seconds: float = 0.05) -> bytes:
        """Whatever arrives within `seconds` (drains the buffer)."""
        await asyncio.sleep(seconds)
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


async def connect(modem: SimulatedModem, *, init: bool = True) -> AtClient:
    """A client on a booted modem; with `init`, echo off and numeric errors on."""
    await modem.wait_booted()
    client = AtClient(modem.port)
    await asyncio.sleep(0.01)
    client.buffer.clear()
    if init:
        assert (await client.command("ATE0"))[-1] == "OK"
        assert await client.command("AT+CMEE=1") == ["OK"]
    return client


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture(autouse=True)
def no_leaked_fds() -> Iterator[None]:
    before = _open_fds()
    yield
    leaked = _open_fds() - before
    # /proc listing itself may show a transient fd; anything pointing at a pty is a leak
    ptys = [fd for fd in leaked if _target(fd).startswith(("/dev/pts", "/dev/ptmx"))]
    assert not ptys, f"leaked pty fds: {ptys}"


def _target(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not leftover, f"leaked tasks: {leftover}"


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with Simulator(modems=2, phones=3, scale=0.0, directory=tmp_path, seed=1) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[AtClient]:
    c = await connect(sim.modems[0])
    yield c
    c.close()


async def cmgs(client: AtClient, pdu: str, length: int, timeout: float = TIMEOUT) -> list[str]:
    """The +CMGS flow: command, wait for the prompt, PDU + Ctrl-Z, lines up to the final."""
    client.write(f"AT+CMGS={length}\r")
    await client.read_until(b"> ", timeout)
    client.write(pdu + "\x1a")
    lines: list[str] = []
    while True:
        lines.append(await client.line(timeout))
        if FINAL.match(lines[-1]):
            return lines


async def send_text(
    client: AtClient, to: str, text: str, *, srr: bool = True, reference: int = 0
) -> list[list[str]]:
    """Send `text` (multipart if long) with the project's codec; the answers per part."""
    from modem.pdu import encode_submit

    parts = encode_submit(to, text, status_report=srr, reference=reference)
    return [await cmgs(client, part.pdu, part.tpdu_length) for part in parts]
