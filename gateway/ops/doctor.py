"""`tocsin doctor`: can this box send? Config, modems, SIMs, disk, clock, certificate, database.

Each check prints one OK, WARN or FAIL line an installer can act on; any FAIL exits 1. Nothing is
changed: no PIN is entered, the database is opened read-only.
"""

from __future__ import annotations

import asyncio
import enum
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509

from gateway.backup import GatewayRunningError, ServiceLock
from gateway.config import Config, ConfigError, ModemSettings
from gateway.config import load as load_config
from gateway.storage.database import latest_version
from gateway.tls import CERT_FILE, KEY_FILE, is_loopback
from modem.exceptions import ModemError
from modem.modem import ModemConfig
from modem.survey import survey

# A modem that has not answered its identity and SIM questions by then is not going to.
MODEM_TIMEOUT_S: Final = 15.0
# Below these the database, logs and backups soon stop fitting.
DISK_FAIL_BYTES: Final = 100 * 1024 * 1024
DISK_WARN_BYTES: Final = 1024 * 1024 * 1024
# A Raspberry Pi has no battery-backed clock: without NTP it boots in the past, and expiry
# times, quotas and backups go wrong. No real clock is earlier than this code.
EARLIEST_SANE_YEAR: Final = 2025
CERT_WARN_DAYS: Final = 30
_TIMEDATECTL_TIMEOUT_S: Final = 5.0


class Level(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.level.value:<4} {self.check}: {self.detail}"


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def diagnose(config_path: Path, *, clock: Clock = _utc_now) -> list[Finding]:
    """Every check, in the order an installer fixes things."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return [Finding(Level.FAIL, "config", str(exc))]
    findings = [Finding(Level.OK, "config", f"{config_path} is valid")]
    findings += await check_modems(config)
    findings += check_disk(Path(config.get_str("storage.path")).parent)
    findings += check_clock(clock())
    findings += check_certificate(config, clock())
    findings += await asyncio.to_thread(check_database, Path(config.get_str("storage.path")))
    return findings


async def check_modems(config: Config) -> list[Finding]:
    if not config.modems:
        return [Finding(Level.FAIL, "modems", "no [[modems]] configured")]
    db_path = Path(config.get_str("storage.path"))
    if db_path.parent.is_dir():
        try:
            ServiceLock.acquire(db_path).release()
        except GatewayRunningError:
            # Two programs on one serial port steal each other's answers.
            return [
                Finding(
                    Level.WARN,
                    "modems",
                    "not checked: the gateway is running and holds the ports "
                    "(see the health page, or stop the service first)",
                )
            ]
    results = await asyncio.gather(*(_check_modem(i, m) for i, m in enumerate(config.modems)))
    return [finding for found in results for finding in found]


async def _check_modem(index: int, settings: ModemSettings) -> list[Finding]:
    name = f"modem {settings.name or settings.port}"
    try:
        async with asyncio.timeout(MODEM_TIMEOUT_S):
            found = await survey(
                ModemConfig(port=settings.port, baudrate=settings.baudrate, rtscts=settings.rtscts)
            )
    except TimeoutError:
        return [Finding(Level.FAIL, name, f"no answer within {MODEM_TIMEOUT_S:g} s")]
    except (ModemError, OSError) as exc:
        return [Finding(Level.FAIL, name, f"{settings.port}: {exc}")]
    findings = [Finding(Level.OK, name, f"{found.manufacturer} {found.model}, IMEI {found.imei}")]
    if found.sim == "READY":
        findings.append(Finding(Level.OK, f"{name} SIM", f"ready, ICCID {found.iccid or '-'}"))
    elif found.sim == "SIM PIN" and settings.pin:
        findings.append(
            Finding(
                Level.WARN,
                f"{name} SIM",
                f"locked by a PIN; the gateway enters modems[{index}].pin at start "
                "(not tried here: a wrong PIN uses up one of three tries)",
            )
        )
        return findings
    elif found.sim == "SIM PIN":
        findings.append(Finding(Level.FAIL, f"{name} SIM", f"wants a PIN: set modems[{index}].pin"))
        return findings
    else:
        findings.append(Finding(Level.FAIL, f"{name} SIM", f"not usable: {found.sim}"))
        return findings
    if not found.registered:
        findings.append(
            Finding(Level.FAIL, f"{name} network", f"not registered ({found.registration})")
        )
    elif found.signal_bars == 0:
        findings.append(Finding(Level.WARN, f"{name} network", "registered, but no signal"))
    else:
        findings.append(
            Finding(
                Level.OK,
                f"{name} network",
                f"{found.registration} on {found.operator or '?'}, "
                f"{found.signal_dbm} dBm ({found.signal_bars}/4)",
            )
        )
    return findings


def check_disk(directory: Path) -> list[Finding]:
    where = directory
    while not where.exists() and where != where.parent:
        where = where.parent  # the data dir may not exist before the first run
    usage = shutil.disk_usage(where)
    free = f"{usage.free / 1024**3:.1f} GiB free in {where}"
    if usage.free < DISK_FAIL_BYTES:
        return [Finding(Level.FAIL, "disk", free)]
    if usage.free < DISK_WARN_BYTES:
        return [Finding(Level.WARN, "disk", free)]
    return [Finding(Level.OK, "disk", free)]


def check_clock(now: datetime, timedatectl: str | None = None) -> list[Finding]:
    if now.year < EARLIEST_SANE_YEAR:
        return [Finding(Level.FAIL, "clock", f"{now:%Y-%m-%d %H:%M} UTC is in the past")]
    findings = [Finding(Level.OK, "clock", f"{now:%Y-%m-%d %H:%M} UTC")]
    tool = timedatectl or shutil.which("timedatectl")
    if tool is None:
        findings.append(Finding(Level.WARN, "clock sync", "timedatectl not found; NTP unknown"))
        return findings
    try:
        answer = subprocess.run(
            [tool, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=_TIMEDATECTL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        findings.append(Finding(Level.WARN, "clock sync", f"timedatectl failed: {exc}"))
        return findings
    state = answer.stdout.strip()
    if state == "yes":
        findings.append(Finding(Level.OK, "clock sync", "synchronised by NTP"))
    elif state == "no":
        findings.append(
            Finding(Level.WARN, "clock sync", "not synchronised (timedatectl set-ntp true)")
        )
    else:
        reason = answer.stderr.strip() or "no answer"
        findings.append(Finding(Level.WARN, "clock sync", f"unknown: {reason}"))
    return findings


def check_certificate(config: Config, now: datetime) -> list[Finding]:
    directory = Path(config.get_str("web.tls_dir"))
    mode = config.get_str("web.tls")
    used = mode == "on" or (mode == "auto" and not is_loopback(config.get_str("web.host")))
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if not cert_path.exists():
        if not used:
            return [Finding(Level.OK, "certificate", "HTTPS not used (web.host is loopback)")]
        return [
            Finding(
                Level.WARN,
                "certificate",
                f"none in {directory} yet (made on first run, or `tocsin certificate`)",
            )
        ]
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (ValueError, OSError) as exc:
        return [Finding(Level.FAIL, "certificate", f"{cert_path}: unreadable: {exc}")]
    if not key_path.exists():
        return [Finding(Level.FAIL, "certificate", f"{key_path}: the key is missing")]
    expires = certificate.not_valid_after_utc
    if expires <= now:
        return [Finding(Level.FAIL, "certificate", f"expired on {expires:%Y-%m-%d}")]
    if expires - now < timedelta(days=CERT_WARN_DAYS):
        return [Finding(Level.WARN, "certificate", f"expires on {expires:%Y-%m-%d}")]
    return [Finding(Level.OK, "certificate", f"{cert_path}, valid until {expires:%Y-%m-%d}")]


def check_database(path: Path) -> list[Finding]:
    if not path.exists():
        return [Finding(Level.WARN, "database", f"{path} does not exist yet (made on first run)")]
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding(Level.FAIL, "database", f"{path}: {exc}")]
    if problems != ["ok"]:
        return [Finding(Level.FAIL, "database", f"integrity check: {'; '.join(problems[:3])}")]
    findings = [Finding(Level.OK, "database", f"{path}: integrity ok")]
    latest = latest_version()
    if version > latest:
        findings.append(
            Finding(
                Level.FAIL,
                "migrations",
                f"schema {version} is newer than this Tocsin's ({latest})",
            )
        )
    elif version < latest:
        findings.append(
            Finding(Level.WARN, "migrations", f"schema {version} of {latest}; migrated at start")
        )
    else:
        findings.append(Finding(Level.OK, "migrations", f"schema {version} is current"))
    return findings
