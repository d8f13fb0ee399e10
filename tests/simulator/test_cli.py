"""`run_simulator`, what `tocsin simulate` runs: JSON lines out, then serve until cancelled."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from modem.simulator import SimulatedModem, apply_fault, run_simulator
from tests.simulator.conftest import connect


async def test_run_simulator_prints_json_lines_and_stops_cleanly(tmp_path: Path) -> None:
    out = io.StringIO()
    task = asyncio.create_task(
        run_simulator(
            modems=2,
            phones=2,
            family="sim800,e3372",
            latency=0.0,
            scale=0.0,
            out=out,
            faults=["1:no-credit=50"],
            directory=tmp_path,
        )
    )
    try:
        for _ in range(300):  # the simulator prints once its ptys exist
            if out.getvalue().count("\n") >= 4:
                break
            await asyncio.sleep(0.01)
        entries = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [e["kind"] for e in entries] == ["modem", "modem", "phone", "phone"]
        assert entries[1]["family"] == "e3372"
        assert entries[1]["port"] == str(tmp_path / "ttyTOCSIN1")
        assert entries[2] == {"kind": "phone", "number": "+15145550101"}
        assert set(entries[0]) == {"kind", "port", "number", "family", "imei"}
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not (tmp_path / "ttyTOCSIN0").exists()


async def test_fault_flags(tmp_path: Path) -> None:
    modem = SimulatedModem(port=tmp_path / "ttyA", scale=0)
    await modem.start()
    try:
        for flag in ("busy-after-boot=1:515", "rssi=9", "fail-sends=1:21"):
            apply_fault(modem, flag)
        c = await connect(modem)
        assert await c.command("AT+CIMI") == ["+CME ERROR: 515"]
        assert await c.command("AT+CSQ") == ["+CSQ: 9,99", "OK"]
        assert list(modem.faults.failing_sends) == [21]
        c.close()
        with pytest.raises(ValueError, match="unknown fault"):
            apply_fault(modem, "explode")
    finally:
        await modem.stop()
