"""The AT dialogue itself: framing, echo, identity and per-family answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from modem.simulator import SimulatedModem, Simulator
from modem.simulator.at import Kind, parse
from modem.simulator.identity import luhn_valid, swap_nibbles
from tests.simulator.conftest import AtClient, connect

IDENTITY = {
    "sim800": {
        "ATI": ["SIM800 R14.18"],
        "AT+CGMI": ["SIMCOM_Ltd"],
        "AT+CGMM": ["SIMCOM_SIM800"],
        "AT+CGMR": ["Revision:1418B04SIM800C24"],
    },
    "sim7600": {
        "ATI": [
            "Manufacturer: SIMCOM INCORPORATED",
            "Model: SIMCOM_SIM7600G-H",
            "Revision: LE20B04SIM7600G22",
            "IMEI: {imei}",
            "+GCAP: +CGSM",
        ],
        "AT+CGMI": ["SIMCOM INCORPORATED"],
        "AT+CGMM": ["SIMCOM_SIM7600G-H"],
        "AT+CGMR": ["+CGMR: LE20B04SIM7600G22"],
    },
    "ec25": {
        "ATI": ["Quectel", "EC25", "Revision: EC25AFAR05A07M4G"],
        "AT+CGMI": ["Quectel"],
        "AT+CGMM": ["EC25"],
        "AT+CGMR": ["EC25AFAR05A07M4G"],
    },
    "e3372": {
        "ATI": [
            "Manufacturer: huawei",
            "Model: E3372",
            "Revision: 21.180.01.00.00",
            "IMEI: {imei}",
            "+GCAP: +CGSM,+DS,+ES",
        ],
        "AT+CGMI": ["huawei"],
        "AT+CGMM": ["E3372"],
        "AT+CGMR": ["21.180.01.00.00"],
    },
}
ICCID = {
    "sim800": ("AT+CCID", ""),
    "sim7600": ("AT+CICCID", "+ICCID: "),
    "ec25": ("AT+QCCID", "+QCCID: "),
    "e3372": ("AT^ICCID?", "^ICCID: "),
}
BOOT = {
    "sim800": ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"],
    "sim7600": ["RDY", "+CPIN: READY", "SMS DONE", "PB DONE"],
    "ec25": ["RDY", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"],
    "e3372": ["^SYSSTART", "^SIMST: 1"],
}
CNMI_TEST = {
    "sim800": "+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)",
    "sim7600": "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    "ec25": "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    "e3372": "+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
}


def one_modem(tmp_path: Path, family: str, **kwargs: object) -> Simulator:
    return Simulator(modems=1, phones=1, family=family, scale=0.0, directory=tmp_path, **kwargs)  # type: ignore[arg-type]


async def test_echo_until_ate0_then_silent_echo(sim: Simulator) -> None:
    c = await connect(sim.modems[0], init=False)
    try:
        c.write("AT\r")
        assert await c.read_until(b"OK\r\n") == b"AT\r\r\nOK\r\n"
        c.write("ATE0\r")
        assert await c.read_until(b"OK\r\n") == b"ATE0\r\r\nOK\r\n"
        c.write("AT\r")
        assert await c.read_until(b"OK\r\n") == b"\r\nOK\r\n"
        c.write("ATE1\r")
        await c.read_until(b"OK\r\n")
        c.write("at\r")
        assert await c.read_until(b"OK\r\n") == b"at\r\r\nOK\r\n"
    finally:
        c.close()


async def test_multiline_answer_is_one_block(sim: Simulator) -> None:
    sim7600 = SimulatedModem(port=sim.directory / "ttyX", family="sim7600", scale=0)
    await sim7600.start()
    c = await connect(sim7600)
    try:
        c.write("ATI\r")
        raw = await c.read_until(b"OK\r\n")
        assert raw.startswith(b"\r\nManufacturer: SIMCOM INCORPORATED\r\nModel:")
        assert raw.endswith(b"+GCAP: +CGSM\r\n\r\nOK\r\n")
    finally:
        c.close()
        await sim7600.stop()


@pytest.mark.parametrize("family", sorted(IDENTITY))
async def test_identity_per_family(tmp_path: Path, family: str) -> None:
    async with one_modem(tmp_path, family) as sim:
        modem = sim.modems[0]
        c = await connect(modem)
        try:
            for command, lines in IDENTITY[family].items():
                expected = [line.format(imei=modem.imei) for line in lines] + ["OK"]
                assert await c.command(command) == expected, command
            assert await c.command("AT+CGSN") == [modem.imei, "OK"]
            assert await c.command("AT+CIMI") == [modem.imsi, "OK"]
            command, prefix = ICCID[family]
            shown = swap_nibbles(modem.iccid) if family == "e3372" else modem.iccid
            assert await c.command(command) == [prefix + shown, "OK"]
            assert await c.command("AT+CNMI=?") == [CNMI_TEST[family], "OK"]
            unknown = "COMMAND NOT SUPPORT" if family == "e3372" else "ERROR"
            other = "AT+CCID" if family != "sim800" else "AT+QCCID"
            assert await c.command(other) == [unknown]
            assert await c.command("AT+FOO=1") == [unknown]
            act = 0 if family == "sim800" else 7
            assert await c.command("AT+COPS=3,0") == ["OK"]
            assert await c.command("AT+COPS?") == [f'+COPS: 0,0,"Rogers Wireless",{act}', "OK"]
            cereg = await c.command("AT+CEREG?")
            assert cereg == (["+CEREG: 0,1", "OK"] if family in ("sim7600", "ec25") else [unknown])
        finally:
            c.close()


def test_identifiers_are_valid() -> None:
    sim = Simulator(modems=3, family=["sim800", "ec25"])
    modems = [sim.make_modem(i, Path(f"/nonexistent/{i}")) for i in range(3)]
    for modem in modems:
        assert len(modem.imei) == 15
        assert luhn_valid(modem.imei)
        assert len(modem.iccid) in (19, 20)
        assert modem.iccid.startswith("89")
        assert luhn_valid(modem.iccid)
        assert modem.imsi.startswith("302")
        assert len(modem.imsi) == 15
    assert len({m.imei for m in modems}) == 3
    assert [m.family for m in modems] == ["sim800", "ec25", "sim800"]
    assert [m.number for m in modems] == ["+15145559001", "+15145559002", "+15145559003"]
    assert swap_nibbles("8901260") == "981062F0"
    again = Simulator(modems=1, family="ec25").make_modem(0, Path("/x"))
    assert (again.imei, again.iccid) == (modems[0].imei, modems[0].iccid)  # seeded


def test_parse_command_forms() -> None:
    upper, lower = parse("AT+CMGS=23"), parse("at+cmgs=23")
    assert upper is not None
    assert lower is not None
    assert (upper.name, upper.kind, upper.args) == (lower.name, lower.kind, lower.args)
    cmd = parse('AT+CUSD=1,"*100#",15')
    assert cmd is not None
    assert cmd.kind is Kind.SET
    assert cmd.params() == ["1", "*100#", "15"]
    assert (c := parse("AT^ICCID?")) is not None
    assert (c.name, c.kind) == ("^ICCID", Kind.READ)
    assert (c := parse("ATE0")) is not None
    assert (c.name, c.args) == ("E", "0")
    assert parse("hello") is None


async def test_cmee_controls_error_format(client: AtClient, sim: Simulator) -> None:
    sim.modems[0].require_pin("1234")
    assert await client.command("AT+CIMI") == ["+CME ERROR: 11"]
    assert await client.command("AT+CMEE=2") == ["OK"]
    assert await client.command("AT+CIMI") == ["+CME ERROR: SIM PIN required"]
    assert await client.command("AT+CMEE=0") == ["OK"]
    assert await client.command("AT+CIMI") == ["ERROR"]


@pytest.mark.parametrize("family", sorted(BOOT))
async def test_cfun_reset_reboots_with_boot_urcs(tmp_path: Path, family: str) -> None:
    async with one_modem(tmp_path, family) as sim:
        c = await connect(sim.modems[0])
        try:
            assert await c.command("AT+CMEE?") == ["+CMEE: 1", "OK"]
            assert await c.command("AT+CFUN=1,1") == ["OK"]
            assert [await c.line() for _ in BOOT[family]] == BOOT[family]
            c.write("AT+CMEE?\r")  # state forgotten: echo back on, CMEE back to 0
            assert await c.read_until(b"OK\r\n") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
            default = sim.modems[0].profile.cnmi_default
            expected = "+CNMI: " + ",".join(map(str, default))
            assert await c.command("AT+CNMI?") == ["AT+CNMI?", expected, "OK"]
        finally:
            c.close()


async def test_boot_is_silent_then_ready(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=0, scale=0.05, directory=tmp_path) as sim:
        modem = sim.modems[0]
        c = await connect(modem)  # boot takes 0.2 s, SMS stack 0.15 s more
        try:
            assert await c.command("AT+CFUN?") == ["+CFUN: 1", "OK"]
            assert await c.command("AT+CFUN=1,1") == ["OK"]
            c.write("AT\r")  # swallowed while booting
            assert await c.quiet(0.1) == b""
            assert [await c.line(1.0) for _ in range(3)] == ["RDY", "+CFUN: 1", "+CPIN: READY"]
            assert [await c.line(1.0) for _ in range(2)] == ["Call Ready", "SMS Ready"]
            c.write("AT\r")
            assert await c.read_until(b"OK\r\n") == b"AT\r\r\nOK\r\n"
        finally:
            c.close()


async def test_first_start_prints_boot_urcs(tmp_path: Path) -> None:
    modem = SimulatedModem(port=tmp_path / "ttyA", family="ec25", scale=0)
    await modem.start()
    await modem.wait_booted()
    await asyncio.sleep(0.01)
    c = AtClient(modem.port)  # the URCs wait in the tty buffer, as on a just-plugged stick
    try:
        assert [await c.line() for _ in BOOT["ec25"]] == BOOT["ec25"]
    finally:
        c.close()
        await modem.stop()


async def test_network_status_commands(client: AtClient) -> None:
    assert await client.command("AT+CSQ") == ["+CSQ: 20,99", "OK"]
    assert await client.command("AT+CREG?") == ["+CREG: 0,1", "OK"]
    assert await client.command("AT+CREG=2") == ["OK"]
    assert await client.command("AT+CREG?") == ['+CREG: 2,1,"1A2B","0C3D"', "OK"]
    assert await client.command("AT+CPIN?") == ["+CPIN: READY", "OK"]
    assert await client.command("AT+CMGF=0") == ["OK"]
    assert await client.command("AT+CMGF?") == ["+CMGF: 0", "OK"]
    assert await client.command('AT+CSCS="GSM"') == ["OK"]
    assert await client.command("AT+CSMS?") == ["+CSMS: 0,1,1,1", "OK"]
    assert await client.command("AT+CNUM") == ['+CNUM: "","+15145559001",145', "OK"]


async def test_pyserial_client(sim: Simulator) -> None:
    import serial_asyncio_fast

    await sim.modems[1].wait_booted()
    reader, writer = await serial_asyncio_fast.open_serial_connection(
        url=sim.modems[1].port, baudrate=115200
    )
    try:
        writer.write(b"ATE0\r")
        await asyncio.wait_for(reader.readuntil(b"OK\r\n"), 2)
        writer.write(b"AT+CGMM\r")
        data = await asyncio.wait_for(reader.readuntil(b"OK\r\n"), 2)
        assert data == b"\r\nSIMCOM_SIM800\r\n\r\nOK\r\n"
    finally:
        writer.close()
        await writer.wait_closed()
