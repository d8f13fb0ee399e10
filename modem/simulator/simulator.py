"""Owns a whole simulated installation (network, modems, phones) for tests, demos and the CLI."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TextIO

from modem.simulator.fault_flags import apply_faults
from modem.simulator.identity import modem_number, phone_number
from modem.simulator.modem import SimulatedModem
from modem.simulator.network import SimNetwork
from modem.simulator.phone import SimPhone

PORT_PREFIX = "ttyTOCSIN"
HUAWEI_RSSI_PERIOD_S = 15.0


class Simulator:
    """Async context manager: starts modems on ptys under `directory`, stops them on exit."""

    def __init__(
        self,
        *,
        modems: int = 2,
        phones: int = 3,
        family: str | Sequence[str] = "sim800",
        scale: float = 1.0,
        cmgs_latency_s: float | None = None,
        seed: int = 0,
        directory: Path | None = None,
        log_path: Path | None = None,
        periodic_urcs: bool = False,
        sm_slots: int = 30,
    ) -> None:
        families = [family] if isinstance(family, str) else list(family)
        if not families:
            raise ValueError("at least one modem family is needed")
        self._directory = directory
        self._temporary: Path | None = None
        self.network = SimNetwork(seed=seed, scale=scale, log_path=log_path)
        self.modems: list[SimulatedModem] = []
        self.phones = [SimPhone(phone_number(i)) for i in range(phones)]
        self._modem_count = modems
        self._families = families
        self._seed = seed
        self._scale = scale
        self._cmgs_latency_s = cmgs_latency_s
        self._sm_slots = sm_slots
        self._periodic_urc_s = HUAWEI_RSSI_PERIOD_S if periodic_urcs else None

    @property
    def directory(self) -> Path:
        """Where the port symlinks live."""
        directory = self._directory or self._temporary
        if directory is None:
            raise RuntimeError("the simulator is not running")
        return directory

    async def __aenter__(self) -> Simulator:
        if self._directory is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="tocsin-sim-"))
        else:
            self._directory.mkdir(parents=True, exist_ok=True)
        try:
            for phone in self.phones:
                phone.network = self.network
                self.network.add_phone(phone)
            for index in range(self._modem_count):
                modem = self.make_modem(index, self.directory / f"{PORT_PREFIX}{index}")
                self.network.attach(modem)
                self.modems.append(modem)
                await modem.start()
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._shutdown()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Until every modem has booted and answers commands."""
        async with asyncio.timeout(timeout):
            for modem in self.modems:
                await modem.wait_booted(timeout)

    def make_modem(self, index: int, port: Path) -> SimulatedModem:
        """The `index`-th modem as this simulator configures it (not started)."""
        return SimulatedModem(
            port=port,
            family=self._families[index % len(self._families)],
            number=modem_number(index),
            seed=self._seed,
            scale=self._scale,
            cmgs_latency_s=self._cmgs_latency_s,
            sm_slots=self._sm_slots,
            periodic_urc_s=self._periodic_urc_s,
        )

    def describe(self) -> list[dict[str, object]]:
        """One dict per modem, then one per phone (the CLI prints them as JSON lines)."""
        return [m.describe() for m in self.modems] + [p.describe() for p in self.phones]

    async def _shutdown(self) -> None:
        for modem in self.modems:
            await modem.stop()
        await self.network.close()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None


async def run_simulator(
    *,
    modems: int,
    phones: int,
    family: str,
    latency: float | None,
    scale: float,
    out: TextIO,
    faults: Sequence[str] = (),
    seed: int = 0,
    directory: Path | None = None,
    log_path: Path | None = None,
    fixed_latency: bool = False,
) -> None:
    """For `tocsin simulate`: print describe() as JSON lines, then serve until cancelled.

    `family` may list several families separated by commas (one per modem, cycling);
    `faults` takes the flags of `fault_flags.FAULT_FLAGS`."""
    families = [name.strip() for name in family.split(",") if name.strip()]
    async with Simulator(
        modems=modems,
        phones=phones,
        family=families,
        scale=scale,
        cmgs_latency_s=latency,
        seed=seed,
        directory=directory,
        log_path=log_path,
    ) as simulator:
        apply_faults(simulator.modems, list(faults))
        if fixed_latency:
            for modem in simulator.modems:
                modem.latency.cmgs_sigma = 0.0  # every +CMGS takes exactly the mean
        for entry in simulator.describe():
            out.write(json.dumps(entry) + "\n")
        out.flush()
        await asyncio.Event().wait()
