"""`tocsin simulate` in its own process, so a benchmark's CPU figures are the gateway's alone."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimulatorProcess:
    process: asyncio.subprocess.Process
    modems: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()


async def start_simulator(
    *,
    modems: int,
    phones: int,
    scale: float,
    latency: float | None = None,
    family: str = "sim800",
    fixed_latency: bool = False,
) -> SimulatorProcess:
    args = ["--modems", str(modems), "--phones", str(phones), "--scale", str(scale)]
    args += ["--family", family]
    if latency is not None:
        args += ["--latency", str(latency)]
    if fixed_latency:
        args.append("--fixed-latency")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "simulate", *args, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    sim = SimulatorProcess(process)
    while len(sim.modems) < modems or len(sim.phones) < phones:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            raise RuntimeError("the simulator exited before describing its modems")
        item = json.loads(line)
        (sim.modems if item["kind"] == "modem" else sim.phones).append(item)
    return sim
