"""`tocsin modem scan`: which serial ports answer AT, and what is behind each (model, SIM, …)."""

from __future__ import annotations

import asyncio
import glob
import os
from dataclasses import dataclass
from typing import Final

from modem.exceptions import ModemError
from modem.modem import ModemConfig
from modem.survey import Survey, survey

# USB modems show up here; by-id names survive a replug, ttyUSBn/ttyACMn numbers do not.
PORT_PATTERNS: Final = ("/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*")
# A modem answers AT within milliseconds; a port that says nothing (a GPS or diagnostic port of
# the same module, an empty UART) or only noise is skipped after this long.
SCAN_TIMEOUT_S: Final = 4.0


@dataclass(frozen=True)
class ScanResult:
    """One port: what answered, or why nothing useful did."""

    port: str
    device: str  # the /dev/tty… it resolves to
    survey: Survey | None
    error: str | None


def candidate_ports(extra: list[str], patterns: tuple[str, ...] = PORT_PATTERNS) -> list[str]:
    """Every port to try once: a by-id link wins over the tty it points to."""
    ports: list[str] = []
    devices: set[str] = set()
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            device = os.path.realpath(path)
            if device not in devices:
                devices.add(device)
                ports.append(path)
    for path in extra:
        device = os.path.realpath(path)
        if device not in devices:
            devices.add(device)
            ports.append(path)
    return ports


async def scan(
    ports: list[str], *, baudrate: int = 115200, timeout: float = SCAN_TIMEOUT_S
) -> list[ScanResult]:
    """Probe all ports at once, each bounded by `timeout`, in the order given."""
    return list(await asyncio.gather(*(_one(port, baudrate, timeout) for port in ports)))


def _device(port: str) -> str:
    """The tty a by-id link points to (a path lookup, no I/O on the port)."""
    return os.path.realpath(port)


async def _one(port: str, baudrate: int, timeout: float) -> ScanResult:
    device = _device(port)
    try:
        async with asyncio.timeout(timeout):
            found = await survey(ModemConfig(port=port, baudrate=baudrate))
    except TimeoutError:
        return ScanResult(port, device, None, f"no answer to AT within {timeout:g} s")
    except (ModemError, OSError) as exc:
        return ScanResult(port, device, None, str(exc) or type(exc).__name__)
    return ScanResult(port, device, found, None)


def describe(result: ScanResult) -> str:
    """One line per port an installer can read; the port first, to copy into the config."""
    found = result.survey
    if found is None:
        return f"{result.port}: skipped ({result.error})"
    sim = "ready" if found.sim == "READY" else found.sim
    signal = f"{found.signal_dbm} dBm, {found.signal_bars}/4" if found.signal_dbm else "none"
    return (
        f"{result.port}: {found.manufacturer} {found.model} ({found.family}), "
        f"IMEI {found.imei}, SIM {sim}, ICCID {found.iccid or '-'}, "
        f"operator {found.operator or '-'}, {found.registration}, signal {signal}"
    )
