"""Every fault the simulator can inject, seen from a client on the pty."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modem import gsm7
from modem.pdu import encode_submit
from modem.simulator import Simulator
from tests.simulator.conftest import AtClient, connect, send_text


async def test_hang_swallows_input_until_resumed(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].hang()
    with pytest.raises(TimeoutError):
        await client.command("AT", timeout=0.1)
    sim.modems[0].resume()
    assert await client.quiet() == b""  # what was sent while hung is lost
    assert await client.command("AT") == ["OK"]


async def test_garbage_interleaved_and_instead(sim: Simulator, client: AtClient) -> None:
    modem = sim.modems[0]
    modem.set_garbage("interleave", probability=1.0)
    lines = await client.command("AT+CGMM")
    assert lines[-1] == "OK"
    assert "SIMCOM_SIM800" in lines
    assert len(lines) > 2
    assert any(ord(ch) >= 0x80 for line in lines for ch in line)
    modem.set_garbage("replace")
    client.write("AT+CGMM\r")
    junk = await client.quiet(0.05)
    assert junk
    assert b"OK" not in junk
    assert b"SIMCOM" not in junk
    modem.clear_faults()
    assert await client.command("AT") == ["OK"]


async def test_noise_burst(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].noise_burst(100)
    noise = await client.quiet(0.05)
    assert len(noise) == 100
    assert b"\x00" in noise
    assert b"\xff" in noise
    assert await client.command("AT") == ["OK"]


async def test_next_sends_fail_then_succeed(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].fail_next_sends(2, 42)
    to = sim.phones[0].number
    assert await send_text(client, to, "a", srr=False) == [["+CMS ERROR: 42"]]
    assert await send_text(client, to, "b", srr=False) == [["+CMS ERROR: 42"]]
    assert await send_text(client, to, "c", srr=False) == [["+CMGS: 2", "OK"]]
    await sim.phones[0].wait_for_inbox(1, timeout=2)
    assert [m.text for m in sim.phones[0].inbox] == ["c"]


async def test_no_credit(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].set_no_credit()
    assert await send_text(client, sim.phones[0].number, "a") == [["+CMS ERROR: 8"]]
    assert await client.command('AT+CUSD=1,"*100#",15') == ["OK"]
    assert await client.line() == '+CUSD: 0,"Solde: 0.00$. Valide jusqu\'au 2026-12-31.",15'


async def test_ussd_balance_text(client: AtClient) -> None:
    assert await client.command('AT+CUSD=1,"*100#",15') == ["OK"]
    assert await client.line() == '+CUSD: 0,"Solde: 12.50$. Valide jusqu\'au 2026-12-31.",15'


async def test_ussd_huawei_packed_hex(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=0, family="e3372", scale=0, directory=tmp_path) as sim:
        c = await connect(sim.modems[0])
        try:
            assert await c.command('AT+CUSD=1,"AA180C3602",15') == ["OK"]
            line = await c.line()
            assert line.startswith('+CUSD: 0,"')
            assert line.endswith('",15')
            data = bytes.fromhex(line.split('"')[1])
            text = gsm7.decode(gsm7.unpack_septets(data, len(data) * 8 // 7)).rstrip("@")
            assert text == "Solde: 12.50$. Valide jusqu'au 2026-12-31."
        finally:
            c.close()


async def test_deregistration_and_back(sim: Simulator, client: AtClient) -> None:
    modem = sim.modems[0]
    assert await client.command("AT+CREG=2") == ["OK"]
    modem.deregister()
    assert await client.line() == "+CREG: 3"
    assert await client.command("AT+CREG?") == ["+CREG: 2,3", "OK"]
    assert await client.command("AT+CSQ") == ["+CSQ: 99,99", "OK"]
    assert await client.command("AT+COPS?") == ["+COPS: 0", "OK"]
    assert await send_text(client, sim.phones[0].number, "x") == [["+CMS ERROR: 331"]]
    await sim.phones[0].send_sms(modem.number, "tenu")  # held by the SMSC
    modem.register()
    assert await client.line() == '+CREG: 1,"1A2B","0C3D"'
    assert await client.line() == '+CMTI: "SM",1'


async def test_pin_required_wrong_pin_and_unlock(sim: Simulator, client: AtClient) -> None:
    modem = sim.modems[0]
    modem.require_pin("1234")
    assert await client.command("AT+CPIN?") == ["+CPIN: SIM PIN", "OK"]
    for command in ("AT+CIMI", "AT+CMGL=4", 'AT+CPMS="SM"', "AT+CNMI=2,1,0,1,0"):
        assert await client.command(command) == ["+CME ERROR: 11"], command
    assert await client.command("AT+CGSN") == [modem.imei, "OK"]  # no SIM needed
    assert await client.command('AT+CPIN="0000"') == ["+CME ERROR: 16"]
    assert await client.command('AT+CPIN="1234"') == ["OK"]
    assert [await client.line() for _ in range(3)] == ["+CPIN: READY", "Call Ready", "SMS Ready"]
    assert await client.command("AT+CIMI") == [modem.imsi, "OK"]
    assert await client.command("AT+CFUN=1,1") == ["OK"]
    assert await client.line() == "RDY"
    assert [await client.line() for _ in range(2)] == ["+CFUN: 1", "+CPIN: SIM PIN"]


async def test_three_wrong_pins_lock_to_puk(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].require_pin("1234")
    for _ in range(3):
        assert await client.command('AT+CPIN="9999"') == ["+CME ERROR: 16"]
    assert await client.command("AT+CPIN?") == ["+CPIN: SIM PUK", "OK"]
    assert await client.command('AT+CPIN="1234"') == ["+CME ERROR: 12"]
    assert await client.command("AT+CIMI") == ["+CME ERROR: 12"]
    assert await client.command('AT+CPIN="12345678","4321"') == ["OK"]
    assert await client.line() == "+CPIN: READY"


async def test_busy_after_boot(sim: Simulator, client: AtClient) -> None:
    modem = sim.modems[0]
    modem.busy_after_boot(2)
    assert await client.command("AT") == ["OK"]  # not SIM-touching
    assert await client.command("AT+CIMI") == ["+CME ERROR: 14"]
    assert await client.command("AT+CPMS?") == ["+CME ERROR: 14"]
    assert await client.command("AT+CIMI") == [modem.imsi, "OK"]
    modem.busy_after_boot(1, code=515)
    assert await client.command("AT+CIMI") == ["+CME ERROR: 515"]


async def test_urc_injection_now_mid_response_and_at_prompt(
    sim: Simulator, client: AtClient
) -> None:
    modem = sim.modems[0]
    modem.inject_urc("RING")
    assert await client.line() == "RING"
    modem.inject_urc('+CMTI: "SM",7', when="mid_response")
    assert await client.command("AT+CSQ") == ["+CSQ: 20,99", '+CMTI: "SM",7', "OK"]
    modem.inject_urc("+CREG: 1", when="at_prompt")
    part = encode_submit(sim.phones[0].number, "x", status_report=False)[0]
    client.write(f"AT+CMGS={part.tpdu_length}\r")
    assert await client.read_until(b"+CREG: 1\r\n") == b"\r\n> \r\n+CREG: 1\r\n"
    client.write(part.pdu + "\x1a")
    assert [await client.line(), await client.line()] == ["+CMGS: 0", "OK"]


async def test_trickle_mode(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].set_trickle(0.0005)
    reads = client.reads
    assert await client.command("AT+CGMR") == ["Revision:1418B04SIM800C24", "OK"]
    assert client.reads - reads > 20  # arrived in many small pieces
    sim.modems[0].set_trickle(None)
    assert await client.command("AT") == ["OK"]


async def test_unplug_and_replug(sim: Simulator, client: AtClient) -> None:
    modem = sim.modems[0]
    old_target = os.readlink(modem.port)
    await modem.unplug()
    await asyncio.sleep(0.01)
    assert client.closed_by_peer  # the open port died (EIO)
    assert not _is_link(modem.port)
    await modem.replug()
    assert os.readlink(modem.port) != old_target
    await modem.wait_booted()
    fresh = await connect(modem, init=False)
    try:
        fresh.write("AT\r")
        assert await fresh.read_until(b"OK\r\n") == b"AT\r\r\nOK\r\n"  # fresh boot: echo on
    finally:
        fresh.close()


async def test_cfun_0_takes_the_modem_off_the_network(sim: Simulator, client: AtClient) -> None:
    assert await client.command("AT+CFUN=0") == ["OK"]
    assert await client.command("AT+CREG?") == ["+CREG: 0,0", "OK"]
    assert await client.command("AT+CFUN?") == ["+CFUN: 0", "OK"]
    assert await client.command("AT+CFUN=1") == ["OK"]
    assert await client.command("AT+CREG?") == ["+CREG: 0,1", "OK"]


async def test_huawei_periodic_rssi(tmp_path: Path) -> None:
    async with Simulator(modems=1, family="e3372", scale=0, directory=tmp_path) as sim:
        modem = sim.modems[0]
        modem.periodic_urc_s = 0.01
        await modem.reboot()
        c = await connect(modem, init=False)
        try:
            lines = [await c.line() for _ in range(3)]
            assert "^RSSI: 20" in lines
        finally:
            c.close()


def _is_link(path: str) -> bool:
    return Path(path).is_symlink()
