"""Operator commands as real processes: modem scan, doctor, admin reset-password, streets import.

The simulator runs in the test's loop on real ptys; the CLI runs as a child process against it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import threading
import tty
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.campaigns.admins import AdminAccounts
from gateway.config import from_mapping
from gateway.ops.doctor import Level, check_certificate, check_clock, check_database
from gateway.storage.database import Database
from gateway.tls import CERT_FILE, ensure_certificate
from modem.simulator import Simulator
from modem.simulator.fault_flags import apply_fault


async def tocsin(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def garbage_pty() -> Iterator[str]:
    """A port that answers every write with noise and never with OK."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def babble() -> None:
        while not stop.is_set():
            try:
                data = os.read(master, 256)
            except OSError:
                return
            if data:
                os.write(master, b"\x8f\x91~~\xfe" * 4 + b"\r\n\xba\xbe\r\n")

    thread = threading.Thread(target=babble, daemon=True)
    thread.start()
    yield os.ttyname(slave)
    stop.set()
    os.close(master)  # the reader thread gets EIO and ends
    thread.join(timeout=5)
    os.close(slave)


async def test_modem_scan_finds_the_modems_and_skips_noise(garbage_pty: str) -> None:
    async with Simulator(modems=2, phones=1, family=["sim800", "ec25"], scale=0.01) as sim:
        ports = [str(m.port) for m in sim.modems]
        code, out, err = await tocsin(
            "modem", "scan", "--json", "--timeout", "3", *ports, garbage_pty
        )
        assert code == 0, err
        results = {item["port"]: item for item in map(json.loads, out.splitlines())}
        for modem, family in zip(sim.modems, ("sim800", "ec25"), strict=True):
            found = results[str(modem.port)]
            assert found["error"] is None
            assert found["family"] == family
            assert found["imei"] == modem.imei
            assert found["sim"] == "READY"
            assert found["iccid"] == modem.iccid
            assert found["registered"] is True
        assert results[garbage_pty]["error"].startswith("no answer")
        assert "imei" not in results[garbage_pty]
        code, text, _ = await tocsin("modem", "scan", "--timeout", "3", ports[0], garbage_pty)
        assert code == 0
        assert f"{ports[0]}: " in text
        assert "IMEI" in text
        assert f"{garbage_pty}: skipped (no answer" in text


async def test_modem_scan_with_nothing_answering_fails(garbage_pty: str) -> None:
    code, out, _ = await tocsin("modem", "scan", "--timeout", "2", garbage_pty)
    assert code == 1
    assert "skipped" in out


def _config(tmp_path: Path, ports: list[str], pin: str = "") -> Path:
    modems = "".join(
        f'[[modems]]\nport = "{port}"\nname = "m{i}"\n' + (f'pin = "{pin}"\n' if pin else "") + "\n"
        for i, port in enumerate(ports)
    )
    path = tmp_path / "tocsin.toml"
    path.write_text(
        f'[storage]\npath = "{tmp_path / "data" / "tocsin.sqlite"}"\n\n'
        f'[web]\nhost = "0.0.0.0"\ntls_dir = "{tmp_path / "tls"}"\n\n{modems}',
        encoding="utf-8",
    )
    return path


def _lines(out: str) -> dict[str, str]:
    """check name → level, from the doctor's output."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        level, _, rest = line.partition(" ")
        found[rest.strip().split(":", 1)[0]] = level
    return found


async def test_doctor_on_a_healthy_simulator_then_with_faults(tmp_path: Path) -> None:
    async with Simulator(modems=2, phones=1, scale=0.01) as sim:
        ports = [str(m.port) for m in sim.modems]
        config = _config(tmp_path, ports)
        code, out, err = await tocsin("doctor", "--config", str(config))
        checks = _lines(out)
        assert checks["config"] == "OK"
        assert checks["modem m0"] == checks["modem m1"] == "OK"
        assert checks["modem m0 SIM"] == checks["modem m1 SIM"] == "OK"
        assert checks["modem m0 network"] == "OK"
        assert checks["database"] == "WARN"  # not made yet
        assert checks["certificate"] == "WARN"  # made on first run
        assert "FAIL" not in checks.values(), out
        assert code == 0, out + err

        apply_fault(sim.modems[1], "deregistered")
        code, out, _ = await tocsin("doctor", "--config", str(config))
        checks = _lines(out)
        assert checks["modem m0 network"] == "OK"
        assert checks["modem m1 network"] == "FAIL"
        assert "not registered" in out
        assert code == 1

    async with Simulator(modems=1, phones=1, scale=0.01) as sim:
        apply_fault(sim.modems[0], "pin=1234")
        code, out, _ = await tocsin(
            "doctor", "--config", str(_config(tmp_path, [str(sim.modems[0].port)]))
        )
        checks = _lines(out)
        assert checks["modem m0 SIM"] == "FAIL", out
        assert "modems[0].pin" in out
        assert code == 1
        with_pin = _config(tmp_path, [str(sim.modems[0].port)], pin="1234")
        code, out, _ = await tocsin("doctor", "--config", str(with_pin))
        assert _lines(out)["modem m0 SIM"] == "WARN", out


async def test_doctor_on_a_hung_modem_and_a_bad_config(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, scale=0.01) as sim:
        apply_fault(sim.modems[0], "hang")
        config = _config(tmp_path, [str(sim.modems[0].port)])
        code, out, _ = await tocsin("doctor", "--config", str(config))
        assert _lines(out)["modem m0"] == "FAIL"
        assert "no answer" in out
        assert code == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[web]\nport = 'eighty'\n", encoding="utf-8")
    code, out, _ = await tocsin("doctor", "--config", str(bad))
    assert code == 1
    assert out.startswith("FAIL config: web.port: expected a whole number")


def test_doctor_database_checks(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"

    async def make() -> None:
        db = await Database.open(path)
        await db.close()

    asyncio.run(make())
    assert [f.level for f in check_database(path)] == [Level.OK, Level.OK]
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    assert check_database(path)[-1].level is Level.FAIL
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 1")
    assert check_database(path)[-1].level is Level.WARN
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # a header and nothing sound
    assert check_database(path)[0].level is Level.FAIL


def test_doctor_clock_and_certificate(tmp_path: Path) -> None:
    assert check_clock(datetime(2001, 1, 1, tzinfo=UTC))[0].level is Level.FAIL
    assert check_clock(datetime.now(UTC))[0].level is Level.OK
    config = from_mapping({"web": {"host": "0.0.0.0", "tls_dir": str(tmp_path)}})
    assert check_certificate(config, datetime.now(UTC))[0].level is Level.WARN
    ensure_certificate(tmp_path, "0.0.0.0")
    now = datetime.now(UTC)
    assert check_certificate(config, now)[0].level is Level.OK
    assert check_certificate(config, now + timedelta(days=3640))[0].level is Level.WARN
    assert check_certificate(config, now + timedelta(days=3651))[0].level is Level.FAIL
    (tmp_path / CERT_FILE).write_text("not a certificate", encoding="utf-8")
    assert check_certificate(config, now)[0].level is Level.FAIL


async def test_admin_reset_password(tmp_path: Path) -> None:
    db_path = tmp_path / "t.sqlite"
    code, _, err = await tocsin(
        "admin",
        "create",
        "--username",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        "--database",
        str(db_path),
        stdin=b"correct horse battery\n",
    )
    assert code == 0, err
    code, out, err = await tocsin(
        "admin", "reset-password", "--username", "alice", "--database", str(db_path)
    )
    assert code == 0, err
    temporary = out.splitlines()[0].rsplit(": ", 1)[1]
    assert len(temporary) >= 12
    code, out, err = await tocsin(
        "admin", "reset-password", "--username", "nobody", "--database", str(db_path)
    )
    assert code == 1
    assert "no staff account 'nobody'" in err
    code, _, err = await tocsin(
        "admin",
        "reset-password",
        "--username",
        "alice",
        "--password-stdin",
        "--database",
        str(db_path),
        stdin=b"short\n",
    )
    assert code == 1
    assert "12 characters" in err
    db = await Database.open(db_path)
    try:
        accounts = AdminAccounts(db)
        assert await accounts.authenticate("alice", temporary) is not None
        assert await accounts.authenticate("alice", "correct horse battery") is None
        audit = await db.read_fn(
            lambda conn: conn.execute("SELECT action FROM audit_log ORDER BY id").fetchall()
        )
        assert [row[0] for row in audit] == ["admin.create", "admin.reset_password"]
    finally:
        await db.close()


async def test_streets_import(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "t.sqlite"}"\n', encoding="utf-8")
    rows = "".join(f"Rue {n},Zone {n % 3}\n" for n in range(450))
    csv_file = tmp_path / "streets.csv"
    csv_file.write_text("\ufeffname,zone\n" + rows + "Rue 7,Zone 9\n,Zone 1\n", encoding="utf-8")
    code, out, err = await tocsin("streets", "import", str(csv_file), "--config", str(config))
    assert code == 1  # some lines were refused
    assert out.strip() == "450 added, 0 moved to another zone, 0 unchanged, 2 rejected"
    assert "streets.csv:452: skipped: street listed twice in the file" in err
    assert "streets.csv:453: skipped: street name empty or too long" in err
    progress = [line for line in err.splitlines() if line.startswith("streets import: ")]
    assert progress[0] == "streets import: 0/450"
    assert progress[-1] == "streets import: 450/450"
    with sqlite3.connect(tmp_path / "t.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM street").fetchone()[0] == 450
        assert conn.execute("SELECT count(*) FROM zone").fetchone()[0] == 3

    moved = tmp_path / "moved.csv"
    moved.write_text("zone,name\nZone 2,Rue 0\n", encoding="utf-8")
    code, out, _ = await tocsin("streets", "import", str(moved), "--config", str(config))
    assert code == 0
    assert out.startswith("0 added, 1 moved")

    headerless = tmp_path / "bad.csv"
    headerless.write_text("Rue A,Zone 1\n", encoding="utf-8")
    code, _, err = await tocsin("streets", "import", str(headerless), "--config", str(config))
    assert code == 1
    assert "the first line must name the columns name and zone" in err


async def test_backup_shows_progress_lines_without_a_terminal(tmp_path: Path) -> None:
    config = tmp_path / "tocsin.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "t.sqlite"}"\n', encoding="utf-8")
    db = await Database.open(tmp_path / "t.sqlite")
    await db.close()
    code, out, err = await tocsin("backup", "--config", str(config))
    assert code == 0, err
    assert Path(out.strip()).is_file()
    assert err.splitlines()[0] == "backup: 0/4"
    assert err.splitlines()[-1] == "backup: 4/4"


def test_help_lists_every_command() -> None:
    import subprocess

    text = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for word in (
        "run",
        "demo",
        "simulate",
        "scan, probe, send, listen",
        "create, reset-password",
        "streets",
        "import",
        "backup",
        "restore",
        "doctor",
    ):
        assert word in text, word
