"""SMS over the simulated network: +CMGS, delivery to phones, reception, reports, storage."""

from __future__ import annotations

import json
from pathlib import Path

from modem.pdu import Deliver, StatusReport, decode, encode_submit
from modem.simulator import Simulator
from tests.simulator.conftest import AtClient, cmgs, connect, send_text

LONG = "Avis de la municipalité: " + "fermeture de la rue Principale jusqu'à 18 h. " * 4


async def test_sim800_cnmi_rejects_ds2(client: AtClient) -> None:
    assert await client.command("AT+CNMI=2,1,0,2,0") == ["+CME ERROR: 4"]
    assert await client.command("AT+CNMI=2,1,0,1,0") == ["OK"]
    assert await client.command("AT+CNMI?") == ["+CNMI: 2,1,0,1,0", "OK"]


async def test_cmgs_prompt_flow_and_phone_receives(sim: Simulator, client: AtClient) -> None:
    phone = sim.phones[0]
    part = encode_submit(phone.number, "Bonjour", status_report=False)[0]
    client.write(f"AT+CMGS={part.tpdu_length}\r")
    assert await client.read_until(b"> ") == b"\r\n> "  # no line end after the prompt
    client.write(part.pdu + "\x1a")
    assert await client.line() == "+CMGS: 0"
    assert await client.line() == "OK"
    [message] = await phone.wait_for_inbox(1, timeout=2)
    assert (message.sender, message.text, message.parts) == ("+15145559001", "Bonjour", 1)
    submits = [e for e in sim.network.log if e["event"] == "submit"]
    assert submits[0]["to"] == phone.number
    assert submits[0]["text"] == "Bonjour"


async def test_mr_increments_mod_256(sim: Simulator, client: AtClient) -> None:
    sim.modems[0].next_mr = 254
    answers = await send_text(client, sim.phones[0].number, "x", srr=False)
    answers += await send_text(client, sim.phones[0].number, "y", srr=False)
    answers += await send_text(client, sim.phones[0].number, "z", srr=False)
    assert answers == [["+CMGS: 254", "OK"], ["+CMGS: 255", "OK"], ["+CMGS: 0", "OK"]]


async def test_escape_cancels_and_bad_pdus_are_refused(sim: Simulator, client: AtClient) -> None:
    part = encode_submit(sim.phones[0].number, "annulé", status_report=False)[0]
    client.write(f"AT+CMGS={part.tpdu_length}\r")
    await client.read_until(b"> ")
    client.write(part.pdu[:10] + "\x1b")
    assert await client.line() == "OK"
    assert await cmgs(client, part.pdu, part.tpdu_length + 1) == ["+CMS ERROR: 304"]
    assert await cmgs(client, "00ZZ", 1) == ["+CMS ERROR: 304"]
    assert await cmgs(client, "0011000B91", 4) == ["+CMS ERROR: 304"]
    assert not any(e["event"] == "submit" for e in sim.network.log)


async def test_concatenated_message_arrives_as_one(sim: Simulator, client: AtClient) -> None:
    answers = await send_text(client, sim.phones[1].number, LONG, srr=False, reference=42)
    assert len(answers) == 2
    assert all(a[-1] == "OK" for a in answers)
    [message] = await sim.phones[1].wait_for_inbox(1, timeout=2)
    assert (message.text, message.parts) == (LONG, 2)
    assert [e["part"] for e in sim.network.log if e["event"] == "submit"] == [1, 2]


async def test_status_report_inline_cds(sim: Simulator, client: AtClient) -> None:
    assert await client.command("AT+CNMI=2,1,0,1,0") == ["OK"]
    [[cmgs_line, _ok]] = await send_text(client, sim.phones[0].number, "rapport")
    mr = int(cmgs_line.split(":")[1])
    header = await client.line()
    pdu = await client.line()
    assert header.startswith("+CDS: ")
    report = decode(pdu)
    assert isinstance(report, StatusReport)
    assert (report.message_reference, report.status) == (mr, 0)
    assert int(header.split(":")[1]) == len(pdu) // 2 - 1 - int(pdu[:2], 16)


async def test_status_report_stored_cdsi_and_unknown_number(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, family="sim7600", scale=0, directory=tmp_path) as sim:
        c = await connect(sim.modems[0])
        try:
            assert await c.command("AT+CNMI=2,1,0,2,0") == ["OK"]
            await send_text(c, "+15145551234", "personne")
            assert await c.line() == '+CDSI: "SM",1'
            header, pdu, final = await c.command("AT+CMGR=1")
            assert header.startswith("+CMGR: 0,,")
            assert final == "OK"
            report = decode(pdu)
            assert isinstance(report, StatusReport)
            assert report.status == 0x41
            assert (await c.command("AT+CMGR=1"))[0].startswith("+CMGR: 1,,")  # now read
        finally:
            c.close()


async def test_phone_to_modem_cmti_cmgr_cmgd(sim: Simulator, client: AtClient) -> None:
    assert await client.command('AT+CPMS="SM","SM","SM"') == ["+CPMS: 0,30,0,30,0,30", "OK"]
    assert await sim.phones[2].send_sms(sim.modems[0].number, "OUI")
    assert await client.line() == '+CMTI: "SM",1'
    header, pdu, final = await client.command("AT+CMGR=1")
    assert header == f"+CMGR: 0,,{len(pdu) // 2 - 8}"
    assert final == "OK"
    message = decode(pdu)
    assert isinstance(message, Deliver)
    assert (message.sender, message.text) == ("+15145550103", "OUI")
    assert await client.command("AT+CPMS?") == ['+CPMS: "SM",1,30,"SM",1,30,"SM",1,30', "OK"]
    assert await client.command("AT+CMGD=1") == ["OK"]
    assert await client.command("AT+CMGR=1") == ["OK"]  # SIMCom: an empty slot is just OK
    assert await client.command("AT+CMGR=31") == ["+CMS ERROR: 321"]


async def test_cmgl_lists_and_marks_read(sim: Simulator, client: AtClient) -> None:
    for text in ("un", "deux"):
        await sim.phones[0].send_sms(sim.modems[0].number, text)
        await client.line()
    lines = await client.command("AT+CMGL=0")
    assert [line for line in lines if line.startswith("+CMGL")] == [
        f"+CMGL: 1,0,,{len(lines[1]) // 2 - 8}",
        f"+CMGL: 2,0,,{len(lines[3]) // 2 - 8}",
    ]
    assert await client.command("AT+CMGL=0") == ["OK"]
    assert len(await client.command("AT+CMGL=4")) == 5
    assert await client.command("AT+CMGD=1,4") == ["OK"]
    assert await client.command("AT+CMGL=4") == ["OK"]


async def test_cmt_direct_and_out_of_order_parts(sim: Simulator, client: AtClient) -> None:
    assert await client.command("AT+CNMI=2,2,0,0,0") == ["OK"]
    await sim.phones[0].send_sms(sim.modems[0].number, LONG, out_of_order=True)
    parts = []
    for _ in range(2):
        header, pdu = await client.line(), await client.line()
        assert header.startswith("+CMT: ,")
        deliver = decode(pdu)
        assert isinstance(deliver, Deliver)
        assert deliver.concat is not None
        parts.append(deliver)
    assert [p.concat.sequence for p in parts if p.concat] == [2, 1]
    assert parts[1].text + parts[0].text == LONG
    assert await client.command("AT+CPMS?") == ['+CPMS: "SM",0,30,"SM",0,30,"SM",0,30', "OK"]


async def test_storage_full_holds_messages_until_a_slot_frees(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, scale=0, directory=tmp_path, sm_slots=2) as sim:
        c = await connect(sim.modems[0])
        try:
            for text in ("a", "b", "c"):
                await sim.phones[0].send_sms(sim.modems[0].number, text)
            assert [await c.line(), await c.line()] == ['+CMTI: "SM",1', '+CMTI: "SM",2']
            assert await c.quiet(0.05) == b""
            assert await c.command("AT+CMGD=1") == ["OK"]
            assert await c.line() == '+CMTI: "SM",1'
            _header, pdu, _ok = await c.command("AT+CMGR=1")
            message = decode(pdu)
            assert isinstance(message, Deliver)
            assert message.text == "c"
        finally:
            c.close()


async def test_modem_to_modem_and_json_log(tmp_path: Path) -> None:
    log_path = tmp_path / "network.jsonl"
    async with Simulator(
        modems=2,
        phones=0,
        family=["sim800", "ec25"],
        scale=0,
        directory=tmp_path,
        log_path=log_path,
    ) as sim:
        a, b = await connect(sim.modems[0]), await connect(sim.modems[1])
        try:
            await send_text(a, sim.modems[1].number, "entre modems", srr=False)
            assert await b.line() == '+CMTI: "SM",1'
            _header, pdu, _ok = await b.command("AT+CMGR=1")
            message = decode(pdu)
            assert isinstance(message, Deliver)
            assert (message.sender, message.text) == (sim.modems[0].number, "entre modems")
            assert await b.command("AT+CMGR=2") == ["+CMS ERROR: 321"]  # Quectel: empty slot
        finally:
            a.close()
            b.close()
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["submit", "message"]
    assert entries[1]["from"] == "+15145559001"
    assert entries[1]["text"] == "entre modems"


async def test_phone_off_holds_then_reports(sim: Simulator, client: AtClient) -> None:
    assert await client.command("AT+CNMI=2,1,0,1,0") == ["OK"]
    phone = sim.phones[0]
    phone.power_off()
    await send_text(client, phone.number, "plus tard")
    assert await client.quiet(0.05) == b""
    phone.power_on()
    assert (await client.line()).startswith("+CDS: ")
    assert [m.text for m in phone.inbox] == ["plus tard"]


async def test_huawei_storages(tmp_path: Path) -> None:
    async with Simulator(modems=1, phones=1, family="e3372", scale=0, directory=tmp_path) as sim:
        c = await connect(sim.modems[0])
        try:
            assert await c.command("AT+CPMS=?") == [
                '+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',
                "OK",
            ]
            assert await c.command('AT+CPMS="ME","ME","ME"') == ["+CPMS: 0,100,0,100,0,100", "OK"]
            assert await c.command('AT+CPMS="MT"') == ["+CMS ERROR: 302"]
            assert await c.command("AT+CNMI=2,1,0,2,0") == ["OK"]
            await sim.phones[0].send_sms(sim.modems[0].number, "mémoire")
            assert await c.line() == '+CMTI: "ME",1'
        finally:
            c.close()
