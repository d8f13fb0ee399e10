"""The real `Modem` against the simulator, once per module family, with shortened timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import modem.modem as modem_module
from modem.modem import Modem, ModemCallbacks, ModemConfig
from modem.simulator import FAMILIES, SimulatedModem, Simulator
from modem.types import DeliveryReport, ReceivedSms, Registration

WAIT = 5.0  # upper bound for anything the simulator does at scale 0; never reached when green


@pytest.fixture(autouse=True)
def fast_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's waits, scaled down to what a pty at scale 0 needs."""
    monkeypatch.setattr(modem_module, "SYNC_TIMEOUT", 0.5)
    monkeypatch.setattr(modem_module, "BOOT_TIMEOUT", 5.0)
    monkeypatch.setattr(modem_module, "INIT_BUSY_DELAYS", (0.01, 0.02, 0.04, 0.08, 0.16))


@pytest.fixture(autouse=True)
def no_leaked_ptys() -> Iterator[None]:
    """A Modem or simulator that is closed must not keep a pty open."""
    before = _open_fds()
    yield
    leaked = [
        fd for fd in _open_fds() - before if _target(fd).startswith(("/dev/pts", "/dev/ptmx"))
    ]
    assert not leaked, f"leaked pty fds: {leaked}"


@pytest.fixture(params=sorted(FAMILIES))
def family(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def sim(family: str, tmp_path: Path) -> AsyncIterator[Simulator]:
    async with Simulator(modems=1, phones=2, family=family, scale=0, directory=tmp_path) as s:
        await s.wait_ready()
        yield s


@pytest.fixture
def sim_modem(sim: Simulator) -> SimulatedModem:
    return sim.modems[0]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def modem(sim_modem: SimulatedModem, recorder: Recorder) -> AsyncIterator[Modem]:
    """An opened Modem whose start-up listing (AT+CMGL) is over: the channel is idle."""
    async with open_modem(sim_modem, recorder) as opened:
        await settle(opened, sim_modem)
        yield opened


class Recorder:
    """Collects what the Modem's callbacks hear, and lets a test wait for it."""

    def __init__(self) -> None:
        self.sms: list[ReceivedSms] = []
        self.reports: list[DeliveryReport] = []
        self.registrations: list[Registration] = []
        self.disconnects = 0
        self.sms_failures = 0  # on_sms raises this many more times before accepting
        self._changed = asyncio.Event()

    def callbacks(self) -> ModemCallbacks:
        return ModemCallbacks(
            on_sms=self._on_sms,
            on_report=self._on_report,
            on_registration=self._on_registration,
            on_disconnect=self._on_disconnect,
        )

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        """Until `predicate()` holds after some callback; TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def wait_sms(self, count: int = 1, timeout: float = WAIT) -> list[ReceivedSms]:
        await self.wait_for(lambda: len(self.sms) >= count, timeout)
        return self.sms

    async def wait_reports(self, count: int, timeout: float = WAIT) -> list[DeliveryReport]:
        await self.wait_for(lambda: len(self.reports) >= count, timeout)
        return self.reports

    async def _on_sms(self, sms: ReceivedSms) -> None:
        if self.sms_failures > 0:
            self.sms_failures -= 1
            self._changed.set()
            raise RuntimeError("the owner could not commit this message")
        self.sms.append(sms)
        self._changed.set()

    async def _on_report(self, report: DeliveryReport) -> None:
        self.reports.append(report)
        self._changed.set()

    def _on_registration(self, registration: Registration) -> None:
        self.registrations.append(registration)
        self._changed.set()

    def _on_disconnect(self) -> None:
        self.disconnects += 1
        self._changed.set()


def make_modem(sim_modem: SimulatedModem, recorder: Recorder | None = None, **config: Any) -> Modem:
    """A `Modem` for the simulated port, not opened yet."""
    callbacks = recorder.callbacks() if recorder is not None else None
    return Modem(ModemConfig(port=sim_modem.port, name=sim_modem.family, **config), callbacks)


@contextlib.asynccontextmanager
async def open_modem(
    sim_modem: SimulatedModem, recorder: Recorder | None = None, **config: Any
) -> AsyncIterator[Modem]:
    """A `Modem` opened on the simulated port, closed on exit."""
    opened = make_modem(sim_modem, recorder, **config)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def eventually(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll a condition the simulator exposes no event for (its SIM storage, its command log)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def settle(opened: Modem, sim_modem: SimulatedModem) -> None:
    """Until the inbox's start-up AT+CMGL=4 has been answered, so no command is in flight."""
    await eventually(lambda: "AT+CMGL=4" in sim_modem.command_log)
    await opened.ping()  # queued behind the listing if it is still running


async def stored_count(opened: Modem) -> int:
    """Messages on the SIM as the modem itself lists them (AT+CMGL=4)."""
    lines = await opened.at("AT+CMGL=4")
    return sum(1 for line in lines if line.startswith("+CMGL:"))


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _target(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""
