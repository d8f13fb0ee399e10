"""27.005 SMS commands in PDU mode: storage, indications, send (+CMGS), read, list, delete."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from modem.exceptions import PduError
from modem.pdu import Submit, decode, tpdu_length
from modem.simulator.at import (
    AtCommand,
    CommandSpec,
    CommandTable,
    Kind,
    Reply,
    cme,
    cms,
    error,
    ok,
)
from modem.simulator.storage import REC_READ, REC_UNREAD, STO_SENT, STO_UNSENT

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem

CMS_NOT_ALLOWED = 302
CMS_INVALID_PDU = 304
CMS_INVALID_INDEX = 321
CMS_NO_NETWORK = 331
CME_NOT_SUPPORTED = 4
MR_MODULO = 256
# AT+CMGD=<index>,<delflag>: which <stat> values each flag deletes (27.005 §3.5.4).
DELFLAG_STATS = {
    1: {REC_READ},
    2: {REC_READ, STO_SENT},
    3: {REC_READ, STO_SENT, STO_UNSENT},
    4: {REC_UNREAD, REC_READ, STO_SENT, STO_UNSENT},
}


async def _cmgf(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        return ok(f"+CMGF: {m.session.cmgf}")
    if cmd.kind is Kind.TEST:
        return ok("+CMGF: (0,1)")
    if cmd.args not in ("0", "1"):
        return error()
    m.session.cmgf = int(cmd.args)
    return ok()


async def _cscs(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        return ok(f'+CSCS: "{m.session.cscs}"')
    if cmd.kind is Kind.TEST:
        return ok('+CSCS: ("IRA","GSM","UCS2")')
    charset = cmd.params()[0].upper()
    if charset not in ("IRA", "GSM", "UCS2"):
        return error()
    m.session.cscs = charset
    return ok()


async def _csms(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        return ok("+CSMS: 0,1,1,1")
    if cmd.kind is Kind.TEST:
        return ok("+CSMS: (0,1)")
    return ok("+CSMS: 1,1,1")


async def _csca(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        smsc = m.network.smsc if m.network is not None else "+15140000000"
        return ok(f'+CSCA: "{smsc}",145')
    return ok()


async def _cpms(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok(m.profile.cpms_test)
    mem = m.session.mem
    if cmd.kind is Kind.SET:
        wanted = [p.upper() for p in cmd.params()]
        if not 1 <= len(wanted) <= 3 or any(w not in m.storages for w in wanted):
            return cms(CMS_NOT_ALLOWED)
        mem[: len(wanted)] = wanted
        counts = [f"{m.storages[n].used},{m.storages[n].slots}" for n in mem]
        return ok("+CPMS: " + ",".join(counts))
    fields = [f'"{n}",{m.storages[n].used},{m.storages[n].slots}' for n in mem]
    return ok("+CPMS: " + ",".join(fields))


async def _cnmi(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok(m.profile.cnmi_test)
    if cmd.kind is Kind.READ:
        return ok("+CNMI: " + ",".join(str(v) for v in m.session.cnmi))
    values = [v or 0 for v in cmd.int_params()]
    if len(values) > 5:
        return cme(CME_NOT_SUPPORTED)
    values += [0] * (5 - len(values))
    if any(v not in allowed for v, allowed in zip(values, m.profile.cnmi_allowed, strict=True)):
        return cme(CME_NOT_SUPPORTED)
    m.session.cnmi = (values[0], values[1], values[2], values[3], values[4])
    return ok()


async def _cmgs(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok()
    if m.session.cmgf != 0 or cmd.kind is not Kind.SET:
        return cms(CMS_NOT_ALLOWED)
    length = int(cmd.params()[0])
    pdu = await m.read_pdu()
    if pdu is None:  # ESC: the user changed their mind, nothing is sent
        return ok()
    try:
        if tpdu_length(pdu) != length:
            return cms(CMS_INVALID_PDU)
        submit = decode(pdu, smsc_included=True)
    except PduError:
        return cms(CMS_INVALID_PDU)
    if not isinstance(submit, Submit):
        return cms(CMS_INVALID_PDU)
    if m.registration not in (1, 5):
        await asyncio.sleep(m.latency.command())
        return cms(CMS_NO_NETWORK)
    mr = m.next_mr
    m.next_mr = (mr + 1) % MR_MODULO  # the TP-MR is used up by the attempt, as on a real SIM
    await asyncio.sleep(m.latency.cmgs())
    if m.faults.failing_sends:
        return cms(m.faults.failing_sends.popleft())
    if m.faults.no_credit:
        return cms(m.faults.no_credit_code)
    if m.network is not None:
        m.network.submit(m, submit, mr)
    return ok(f"+CMGS: {mr}")


async def _cmgr(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok()
    if m.session.cmgf != 0:
        return cms(CMS_NOT_ALLOWED)
    store = m.storages[m.session.mem[0]]
    index = int(cmd.params()[0])
    if not store.valid_index(index):
        return cms(CMS_INVALID_INDEX)
    message = store.get(index)
    if message is None:
        return cms(CMS_INVALID_INDEX) if m.profile.cmgr_empty_error else ok()
    stat = message.stat
    if stat == REC_UNREAD:
        message.stat = REC_READ
    return ok(f"+CMGR: {stat},,{message.tpdu_length}", message.pdu)


async def _cmgl(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok("+CMGL: (0-4)")
    if m.session.cmgf != 0:
        return cms(CMS_NOT_ALLOWED)
    wanted = int(cmd.args or "0")
    if wanted not in range(5):
        return cms(CMS_INVALID_PDU)
    lines: list[str] = []
    for index, message in m.storages[m.session.mem[0]].items():
        if wanted in (4, message.stat):
            lines += [f"+CMGL: {index},{message.stat},,{message.tpdu_length}", message.pdu]
            if message.stat == REC_UNREAD:
                message.stat = REC_READ
    return ok(*lines)


async def _cmgd(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok("+CMGD: (1-30),(0-4)")
    store = m.storages[m.session.mem[0]]
    params = cmd.int_params()
    index = params[0] or 0
    flag = (params[1] or 0) if len(params) > 1 else 0
    if flag not in range(5):
        return cms(CMS_INVALID_PDU)
    if flag:
        deleted = store.delete_where(DELFLAG_STATS[flag])
    elif not store.valid_index(index):
        return cms(CMS_INVALID_INDEX)
    else:
        deleted = int(store.delete(index))
    if deleted:
        m.slot_freed()
    return ok()


SMS_COMMANDS: CommandTable = {
    "+CMGF": CommandSpec(_cmgf),
    "+CSCS": CommandSpec(_cscs),
    "+CSMS": CommandSpec(_csms, needs_sim=True),
    "+CSCA": CommandSpec(_csca, needs_sim=True),
    "+CPMS": CommandSpec(_cpms, needs_sim=True),
    "+CNMI": CommandSpec(_cnmi, needs_sim=True),
    "+CMGS": CommandSpec(_cmgs, needs_sim=True),
    "+CMGR": CommandSpec(_cmgr, needs_sim=True),
    "+CMGL": CommandSpec(_cmgl, needs_sim=True),
    "+CMGD": CommandSpec(_cmgd, needs_sim=True),
}
