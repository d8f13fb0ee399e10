"""The `tocsin` command line: run the simulator, the demo, and talk to one modem by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from gateway import logs
from gateway.api import cli as api_cli
from gateway.config import DEFAULT_CONFIG_PATH, ConfigError
from gateway.config import load as load_config
from gateway.ops.progress import progress
from gateway.residents import cli as residents_cli
from modem.exceptions import ModemError
from modem.modem import Modem, ModemCallbacks, ModemConfig
from modem.types import DeliveryReport, ReceivedSms

_LOGGER = logging.getLogger("tocsin")

FAMILY_CHOICES = ("sim800", "sim7600", "ec25", "e3372")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    quiet = getattr(args, "run", None) is not _run
    logs.configure(
        logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
        service=not quiet,
    )
    handler: Callable[[argparse.Namespace], Awaitable[int]] | None = getattr(args, "run", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return asyncio.run(_until_signal(handler(args)))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tocsin", description="Tocsin: SMS and voice alert gateway on GSM modems."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log AT traffic (DEBUG)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    simulate = commands.add_parser(
        "simulate", help="run simulated modems and phones on pseudo-terminals"
    )
    simulate.add_argument("--modems", type=int, default=2)
    simulate.add_argument("--phones", type=int, default=3)
    simulate.add_argument("--family", choices=FAMILY_CHOICES, default="sim800")
    simulate.add_argument(
        "--latency", type=float, default=None, help="mean seconds per +CMGS (0 = instant)"
    )
    simulate.add_argument(
        "--scale", type=float, default=1.0, help="multiply every simulated delay by this"
    )
    simulate.add_argument(
        "--fixed-latency", action="store_true", help="every +CMGS takes exactly --latency"
    )
    simulate.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="FLAG",
        help="inject a fault: hang, garbage[=P], fail-sends=N[:CODE], no-credit, deregistered, "
        "pin=1234, busy-after-boot=N[:CODE], trickle, rssi=N (prefix 1: for one modem)",
    )
    simulate.add_argument("--log", type=Path, default=None, help="network log (JSON lines)")
    simulate.set_defaults(run=_simulate)

    run_gateway = commands.add_parser("run", help="run the gateway (modems from the configuration)")
    run_gateway.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )
    run_gateway.set_defaults(run=_run)

    demo = commands.add_parser("demo", help="the gateway on simulated modems (no hardware)")
    demo.add_argument("--modems", type=int, default=2)
    demo.add_argument("--phones", type=int, default=6)
    demo.add_argument(
        "--data", type=Path, default=Path("var/demo"), help="where the demo keeps its database"
    )
    demo.add_argument("--scale", type=float, default=0.3, help="simulated delays × this")
    demo.add_argument("--host", default="127.0.0.1", help="address of the web pages")
    demo.add_argument("--port", type=int, default=8080, help="port of the web pages")
    demo.set_defaults(run=_demo)

    admin = commands.add_parser(
        "admin", help="staff accounts of the admin console: create, reset-password, disable-totp"
    )
    admin_commands = admin.add_subparsers(title="admin commands", metavar="ACTION")
    create = admin_commands.add_parser("create", help="create a staff account (asks a password)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=("admin", "operator", "viewer"), default="operator")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )
    create.add_argument(
        "--database", type=Path, default=None, help="the SQLite file (overrides the config's)"
    )
    create.set_defaults(run=_admin_create)
    reset = admin_commands.add_parser(
        "reset-password", help="a new password for a staff account (printed, or asked)"
    )
    reset.add_argument("--username", required=True)
    how = reset.add_mutually_exclusive_group()
    how.add_argument("--prompt", action="store_true", help="ask for the new password twice")
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    _config_argument(reset)
    reset.add_argument(
        "--database", type=Path, default=None, help="the SQLite file (overrides the config's)"
    )
    reset.set_defaults(run=_admin_reset)

    streets = commands.add_parser("streets", help="the town's street list: import")
    streets_commands = streets.add_subparsers(title="streets commands", metavar="ACTION")
    streets_import = streets_commands.add_parser(
        "import", help="add or move streets from a CSV file (columns name, zone)"
    )
    streets_import.add_argument("file", type=Path, help="CSV, UTF-8, header row name,zone")
    streets_import.add_argument(
        "--city", default=None, help="city of these streets (default: residents.city)"
    )
    _config_argument(streets_import)
    streets_import.set_defaults(run=_streets_import)

    doctor = commands.add_parser(
        "doctor", help="check config, modems, SIMs, disk, clock, certificate and database"
    )
    _config_argument(doctor)
    doctor.set_defaults(run=_doctor)

    certificate = commands.add_parser(
        "certificate", help="make the HTTPS certificate now if there is none (install script)"
    )
    _config_argument(certificate)
    certificate.add_argument(
        "--dir", type=Path, default=None, help="where to put it (default: web.tls_dir)"
    )
    certificate.set_defaults(run=_certificate)

    residents_cli.add_commands(commands)

    no_totp = admin_commands.add_parser(
        "disable-totp", help="turn off an account's second factor (lost authenticator)"
    )
    no_totp.add_argument("username")
    no_totp.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )
    no_totp.add_argument(
        "--database", type=Path, default=None, help="the SQLite file (overrides the config's)"
    )
    no_totp.set_defaults(run=_admin_disable_totp)

    api_cli.add_parser(commands)

    backup = commands.add_parser("backup", help="copy the database now (safe while running)")
    backup.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )
    backup.add_argument(
        "--to", type=Path, default=None, help="folder for the copy (default: backup.dir)"
    )
    backup.set_defaults(run=_backup)

    restore = commands.add_parser(
        "restore", help="replace the database by a backup (the gateway must be stopped)"
    )
    restore.add_argument("file", type=Path, help="a backup made by `tocsin backup`")
    restore.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )
    restore.set_defaults(run=_restore)

    modem = commands.add_parser("modem", help="modems by hand: scan, probe, send, listen")
    modem_commands = modem.add_subparsers(title="modem commands", metavar="ACTION")
    scan = modem_commands.add_parser(
        "scan", help="find the serial ports that answer AT and show what is behind each"
    )
    scan.add_argument("ports", nargs="*", help="more ports to try (beyond the usual USB ones)")
    scan.add_argument("--baud", type=int, default=115200)
    scan.add_argument("--timeout", type=float, default=None, help="seconds per port (default 4)")
    scan.add_argument("--json", action="store_true", help="one JSON object per port")
    scan.set_defaults(run=_scan)
    probe = modem_commands.add_parser("probe", help="identity, operator, registration, signal")
    send = modem_commands.add_parser("send", help="send one SMS")
    send.add_argument("--to", required=True, help="destination number (E.164, e.g. +15145550101)")
    send.add_argument("text")
    send.add_argument("--no-report", action="store_true", help="do not ask for a delivery report")
    listen = modem_commands.add_parser("listen", help="print received SMS and delivery reports")
    listen.add_argument("--seconds", type=float, default=None, help="stop after this long")
    for sub, run in ((probe, _probe), (send, _send), (listen, _listen)):
        sub.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB2")
        sub.add_argument("--baud", type=int, default=115200)
        sub.add_argument("--rtscts", action="store_true", help="hardware flow control")
        sub.add_argument("--pin", default=None, help="SIM PIN, if the SIM asks for one")
        sub.set_defaults(run=run)
    return parser


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
    )


async def _until_signal(work: Awaitable[int]) -> int:
    """Run `work`; SIGTERM/SIGINT cancel it cleanly (finally blocks run, ports close)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return 0


def _print(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)


def _config(args: argparse.Namespace) -> ModemConfig:
    return ModemConfig(port=args.port, baudrate=args.baud, rtscts=args.rtscts, pin=args.pin)


async def _simulate(args: argparse.Namespace) -> int:
    from modem.simulator import run_simulator  # noqa: PLC0415 - the simulator is opt-in

    await run_simulator(
        modems=args.modems,
        phones=args.phones,
        family=args.family,
        latency=args.latency,
        scale=args.scale,
        out=sys.stdout,
        faults=args.fault,
        log_path=args.log,
        fixed_latency=args.fixed_latency,
    )
    return 0


async def _run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    if not config.modems:
        return _fail(f"{args.config}: no [[modems]] configured (try `tocsin demo`)")
    from gateway.lifecycle import run_service  # noqa: PLC0415 - the web stack, for `run` only

    await run_service(config)
    return 0


async def _admin_create(args: argparse.Namespace) -> int:
    from gateway.campaigns.cli import create_admin  # noqa: PLC0415 - only this command needs it

    return await create_admin(args)


async def _admin_reset(args: argparse.Namespace) -> int:
    from gateway.campaigns.cli import reset_password  # noqa: PLC0415 - only this command needs it

    return await reset_password(args)


async def _streets_import(args: argparse.Namespace) -> int:
    from gateway.ops.streets import import_streets  # noqa: PLC0415 - this command only

    return await import_streets(args)


async def _scan(args: argparse.Namespace) -> int:
    from gateway.ops import scan  # noqa: PLC0415 - this command only

    ports = scan.candidate_ports(args.ports)
    if not ports:
        return _fail("no serial port found (is the modem plugged in? try `lsusb`)")
    timeout = args.timeout if args.timeout is not None else scan.SCAN_TIMEOUT_S
    results = await scan.scan(ports, baudrate=args.baud, timeout=timeout)
    for result in results:
        if args.json:
            found = result.survey.as_dict() if result.survey is not None else {}
            _print({"port": result.port, "device": result.device, "error": result.error, **found})
        else:
            print(scan.describe(result), flush=True)
    return 0 if any(r.survey is not None for r in results) else 1


async def _doctor(args: argparse.Namespace) -> int:
    from gateway.ops.doctor import Level, diagnose  # noqa: PLC0415 - this command only

    findings = await diagnose(args.config)
    for finding in findings:
        print(finding.line(), flush=True)
    return 1 if any(f.level is Level.FAIL for f in findings) else 0


async def _certificate(args: argparse.Namespace) -> int:
    from gateway.tls import ensure_certificate  # noqa: PLC0415 - this command only

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    directory = args.dir if args.dir is not None else Path(config.get_str("web.tls_dir"))
    paths = ensure_certificate(directory, config.get_str("web.host"))
    print(paths.certificate, flush=True)
    return 0


async def _admin_disable_totp(args: argparse.Namespace) -> int:
    from gateway.campaigns.cli import disable_totp  # noqa: PLC0415 - only this command needs it

    return await disable_totp(args)


async def _backup(args: argparse.Namespace) -> int:
    from gateway.backup import BackupError, backup, backup_dir  # noqa: PLC0415 - this command only

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    dest = args.to if args.to is not None else backup_dir(config)
    try:
        with progress("backup", stream=sys.stderr) as advance:
            path = await backup(
                Path(config.get_str("storage.path")),
                dest,
                keep=max(1, config.get_int("backup.keep")),
                progress=advance,
            )
    except (BackupError, OSError) as exc:
        return _fail(f"backup failed: {exc}")
    print(path, flush=True)
    return 0


async def _restore(args: argparse.Namespace) -> int:
    from gateway.backup import BackupError, restore  # noqa: PLC0415 - this command only

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    db_path = Path(config.get_str("storage.path"))
    try:
        with progress("restore", stream=sys.stderr) as advance:
            await restore(args.file, db_path, progress=advance)
    except (BackupError, OSError) as exc:
        return _fail(f"restore failed: {exc}")
    print(f"{db_path} restored from {args.file}", flush=True)
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo  # noqa: PLC0415 - the demo pulls in the simulator

    await run_demo(
        modems=args.modems,
        phones=args.phones,
        data=args.data,
        scale=args.scale,
        host=args.host,
        port=args.port,
    )
    return 0


async def _probe(args: argparse.Namespace) -> int:
    modem = Modem(_config(args))
    try:
        await modem.open()
        _print(await modem.probe())
    except ModemError as exc:
        return _fail(f"probe failed on {args.port}: {exc}")
    finally:
        await modem.close()
    return 0


async def _send(args: argparse.Namespace) -> int:
    modem = Modem(_config(args))
    try:
        await modem.open()
        sent = await modem.send_sms(args.to, args.text, status_report=not args.no_report)
    except ModemError as exc:
        return _fail(f"send to {args.to} failed: {exc}")
    finally:
        await modem.close()
    _print(
        {
            "to": sent.destination,
            "encoding": sent.encoding,
            "parts": len(sent.parts),
            "references": [part.message_reference for part in sent.parts],
        }
    )
    return 0


async def _listen(args: argparse.Namespace) -> int:
    async def on_sms(sms: ReceivedSms) -> None:
        _print(
            {
                "type": "sms",
                "sender": sms.sender,
                "text": sms.text,
                "timestamp": sms.timestamp.isoformat(),
                "parts": sms.parts_received,
                "parts_expected": sms.parts_expected,
                "complete": sms.complete,
            }
        )

    async def on_report(report: DeliveryReport) -> None:
        _print(
            {
                "type": "delivery_report",
                "reference": report.message_reference,
                "recipient": report.recipient,
                "status": report.status,
                "delivered": report.delivered,
                "timestamp": report.discharge_time.isoformat(),
            }
        )

    lost = asyncio.Event()
    callbacks = ModemCallbacks(on_sms=on_sms, on_report=on_report, on_disconnect=lost.set)
    modem = Modem(_config(args), callbacks)
    try:
        await modem.open()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.seconds):
                await lost.wait()
        if lost.is_set():
            return _fail(f"{args.port} disconnected")
    except ModemError as exc:
        return _fail(f"listen failed on {args.port}: {exc}")
    finally:
        await modem.close()
    return 0


def _fail(message: str) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
