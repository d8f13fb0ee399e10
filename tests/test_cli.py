"""The four CLI commands, run as real processes against `tocsin simulate` in another process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

FAMILIES = ["sim800", "sim7600", "ec25", "e3372"]


def tocsin(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class SimulatorProcess:
    def __init__(self, family: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "simulate",
                "--modems",
                "2",
                "--phones",
                "2",
                "--family",
                family,
                "--scale",
                "0.01",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.modems: list[dict[str, Any]] = []
        self.phones: list[dict[str, Any]] = []
        while len(self.modems) < 2 or len(self.phones) < 2:
            line = self.process.stdout.readline()
            assert line, "simulator exited early"
            item = json.loads(line)
            (self.modems if item["kind"] == "modem" else self.phones).append(item)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(params=FAMILIES)
def simulator(request: pytest.FixtureRequest) -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess(request.param)
    yield sim
    sim.stop()


def test_simulate_describes_modems_and_phones(simulator: SimulatorProcess) -> None:
    for modem in simulator.modems:
        assert set(modem) >= {"port", "number", "family"}
        assert modem["number"].startswith("+")
    assert all(phone["number"].startswith("+") for phone in simulator.phones)


def test_probe(simulator: SimulatorProcess) -> None:
    result = tocsin("modem", "probe", "--port", simulator.modems[0]["port"])
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["family"] == simulator.modems[0]["family"]
    assert len(probe["imei"]) == 15
    assert probe["imsi"]
    assert probe["operator"]
    assert probe["registration"] in ("home", "roaming")
    assert -113 <= probe["signal"]["dbm"] <= -51
    assert 0 <= probe["signal"]["bars"] <= 4


def test_send_then_listen_on_the_other_modem(simulator: SimulatorProcess) -> None:
    sender, receiver = simulator.modems
    text = "Fête au parc: la rue Principale sera fermée samedi. " * 3
    sent = tocsin("modem", "send", "--port", sender["port"], "--to", receiver["number"], text)
    assert sent.returncode == 0, sent.stderr
    summary = json.loads(sent.stdout)
    assert summary["encoding"] == "ucs2"
    assert summary["parts"] == 3
    assert len(summary["references"]) == 3
    heard = tocsin("modem", "listen", "--port", receiver["port"], "--seconds", "2")
    assert heard.returncode == 0, heard.stderr
    messages = [json.loads(line) for line in heard.stdout.splitlines()]
    sms = [m for m in messages if m["type"] == "sms"]
    assert len(sms) == 1
    assert sms[0]["text"] == text
    assert sms[0]["sender"] == sender["number"]
    assert sms[0]["complete"] is True
    assert sms[0]["parts"] == 3
    # Deleted after printing: a second listen hears nothing.
    again = tocsin("modem", "listen", "--port", receiver["port"], "--seconds", "0.5")
    assert [json.loads(line)["type"] for line in again.stdout.splitlines()] == []


def test_send_to_a_bad_port_fails_clearly() -> None:
    result = tocsin("modem", "send", "--port", "/dev/does-not-exist", "--to", "+15145550101", "x")
    assert result.returncode == 1
    assert "cannot open" in result.stderr
    assert "Traceback" not in result.stderr
