"""sd_notify over a real unix datagram socket: the module alone, then `tocsin run` itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.sdnotify import Notifier, watchdog_interval
from tests.test_cli import SimulatorProcess

RECEIVE_TIMEOUT_S = 60.0


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    name = f"tocsin-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(RECEIVE_TIMEOUT_S)
    yield "@" + name, sock
    sock.close()


def test_notifier_sends_to_an_abstract_socket(abstract_socket: tuple[str, socket.socket]) -> None:
    address, sock = abstract_socket
    notifier = Notifier(address)
    assert notifier.enabled
    notifier.ready("serving")
    notifier.stopping()
    notifier.close()
    assert sock.recv(4096).decode().splitlines() == ["READY=1", "STATUS=serving"]
    assert sock.recv(4096).decode().splitlines() == ["STOPPING=1", "STATUS=stopping"]


def test_notifier_sends_to_a_socket_path(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        notifier = Notifier(str(path))
        notifier.status("hello")
        notifier.close()
        assert sock.recv(4096) == b"STATUS=hello"


def test_without_notify_socket_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready("ignored")  # no socket, no error
    notifier.close()


def test_a_gone_manager_is_not_fatal(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens"))
    notifier.ready("lost")  # ENOENT is logged, not raised
    notifier.close()


def test_a_manager_that_stops_reading_never_blocks_the_service(
    abstract_socket: tuple[str, socket.socket],
) -> None:
    """A full receive queue drops datagrams; a blocking send froze the whole event loop."""
    address, sock = abstract_socket
    notifier = Notifier(address)
    done = threading.Event()

    def flood() -> None:
        for n in range(5000):  # far more than a datagram queue holds (~hundreds)
            notifier.status(f"line {n}")
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(RECEIVE_TIMEOUT_S)
    assert sock.recv(4096) == b"STATUS=line 0"
    notifier.close()


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert watchdog_interval() is None  # meant for another process
    monkeypatch.setenv("WATCHDOG_USEC", "")
    monkeypatch.delenv("WATCHDOG_PID")
    assert watchdog_interval() is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _receive_until(sock: socket.socket, wanted: str, seen: list[list[str]]) -> list[str]:
    while True:
        fields = sock.recv(4096).decode().splitlines()
        seen.append(fields)
        if wanted in fields:
            return fields


@pytest.mark.slow
def test_tocsin_run_tells_systemd_ready_watchdog_and_stopping(
    tmp_path: Path, abstract_socket: tuple[str, socket.socket]
) -> None:
    address, sock = abstract_socket
    sim = SimulatorProcess("sim800")
    try:
        config = tmp_path / "tocsin.toml"
        modems = "".join(
            f'[[modems]]\nport = "{m["port"]}"\nname = "m{i}"\n\n' for i, m in enumerate(sim.modems)
        )
        # A modem that is not plugged in must not hold READY=1 back.
        modems += f'[[modems]]\nport = "{tmp_path / "unplugged"}"\nname = "gone"\n'
        config.write_text(
            f'[storage]\npath = "{tmp_path / "tocsin.sqlite"}"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {_free_port()}\n'
            f'tls_dir = "{tmp_path / "tls"}"\n\n'
            f"[backup]\ninterval_s = 0\n\n{modems}",
            encoding="utf-8",
        )
        env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"}
        env.pop("WATCHDOG_PID", None)
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: list[list[str]] = []
        try:
            ready = _receive_until(sock, "READY=1", seen)
            assert "STATUS=serving on port" in " ".join(ready)
            assert any(f.startswith("STATUS=") and "2/3 modem(s) ready" in f for f in ready)
            _receive_until(sock, "WATCHDOG=1", seen)
            _receive_until(sock, "WATCHDOG=1", seen)  # periodic, not once
            gateway.send_signal(signal.SIGTERM)
            _receive_until(sock, "STOPPING=1", seen)
            _out, err = gateway.communicate(timeout=60)
            assert gateway.returncode == 0, err
        finally:
            if gateway.poll() is None:
                gateway.kill()
                gateway.communicate()
        statuses = [f for fields in seen for f in fields if f.startswith("STATUS=")]
        assert statuses[0] == "STATUS=opening the database"
    finally:
        sim.stop()
