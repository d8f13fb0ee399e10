"""AT command handlers shared by every family (identity, SIM, network, USSD), and the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modem.simulator.at import AtCommand, CommandSpec, CommandTable, Kind, Reply, cme, error, ok
from modem.simulator.families import SimFamily
from modem.simulator.identity import swap_nibbles
from modem.simulator.sms_commands import SMS_COMMANDS
from modem.simulator.ussd import cusd

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem

CME_NOT_ALLOWED = 3
CME_NOT_SUPPORTED = 4
CME_WRONG_PIN = 16
CME_NO_NETWORK = 30


def build_table(family: SimFamily) -> CommandTable:
    """Every command `family` knows; adding one (e.g. ATD for voice) is one entry here."""
    table: CommandTable = {
        "": CommandSpec(_ok),
        "E": CommandSpec(_echo),
        "Z": CommandSpec(_reset_profile),
        "&F": CommandSpec(_reset_profile),
        "&W": CommandSpec(_ok),
        "I": CommandSpec(_ati),
        "+CMEE": CommandSpec(_cmee),
        "+CGMI": CommandSpec(_identity),
        "+CGMM": CommandSpec(_identity),
        "+CGMR": CommandSpec(_identity),
        "+CGSN": CommandSpec(_identity),
        "+GSN": CommandSpec(_identity),
        "+CIMI": CommandSpec(_cimi, needs_sim=True),
        family.iccid_command: CommandSpec(_iccid),
        "+CPIN": CommandSpec(_cpin),
        "+CSQ": CommandSpec(_csq),
        "+CREG": CommandSpec(_creg),
        "+COPS": CommandSpec(_cops),
        "+CFUN": CommandSpec(_cfun),
        "+CUSD": CommandSpec(cusd, needs_sim=True),
        "+CNUM": CommandSpec(_cnum, needs_sim=True),
    }
    if family.has_cereg:
        table["+CEREG"] = CommandSpec(_creg)
    table.update(SMS_COMMANDS)
    return table


async def _ok(m: SimulatedModem, cmd: AtCommand) -> Reply:
    return ok()


async def _echo(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.args not in ("", "0", "1"):
        return error()
    m.session.echo = cmd.args == "1"
    return ok()


async def _reset_profile(m: SimulatedModem, cmd: AtCommand) -> Reply:
    m.session.echo = True
    m.session.cmee = 0
    return ok()


async def _ati(m: SimulatedModem, cmd: AtCommand) -> Reply:
    return ok(*(line.format(imei=m.imei) for line in m.profile.ati))


async def _cmee(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        return ok(f"+CMEE: {m.session.cmee}")
    if cmd.kind is Kind.TEST:
        return ok("+CMEE: (0-2)")
    value = int(cmd.args or "0")
    if value not in (0, 1, 2):
        return error()
    m.session.cmee = value
    return ok()


async def _identity(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok()
    answers = {
        "+CGMI": m.profile.manufacturer,
        "+CGMM": m.profile.model,
        "+CGMR": m.profile.revision,
        "+CGSN": m.imei,
        "+GSN": m.imei,
    }
    return ok(answers[cmd.name])


async def _cimi(m: SimulatedModem, cmd: AtCommand) -> Reply:
    return ok(m.imsi)


async def _iccid(m: SimulatedModem, cmd: AtCommand) -> Reply:
    iccid = swap_nibbles(m.iccid) if m.profile.iccid_swapped else m.iccid
    return ok(m.profile.iccid_prefix + iccid)


async def _cpin(m: SimulatedModem, cmd: AtCommand) -> Reply:
    s = m.session
    if cmd.kind is Kind.READ:
        return ok(f"+CPIN: {s.pin_state}")
    if cmd.kind is not Kind.SET:
        return ok() if cmd.kind is Kind.TEST else error()
    params = cmd.params()
    if s.pin_state == "READY":
        return cme(CME_NOT_ALLOWED)
    if s.pin_state == "SIM PUK":
        if len(params) < 2:
            return cme(12)
        if params[0] != m.puk:
            return cme(CME_WRONG_PIN)
        m.pin = params[1]
    elif params[0] != m.pin:
        m.pin_attempts_left -= 1
        if m.pin_attempts_left <= 0:
            s.pin_state = "SIM PUK"
        return cme(CME_WRONG_PIN)
    m.pin_attempts_left = 3
    return Reply(after=tuple(m.unlock_sim()))


async def _csq(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.TEST:
        return ok("+CSQ: (0-31,99),(0-7,99)")
    rssi = m.rssi if m.registration in (1, 5) else 99
    return ok(f"+CSQ: {rssi},99")


async def _creg(m: SimulatedModem, cmd: AtCommand) -> Reply:
    name = cmd.name[1:]  # CREG or CEREG
    attr = "creg_n" if name == "CREG" else "cereg_n"
    if cmd.kind is Kind.TEST:
        return ok(f"+{name}: (0-2)")
    if cmd.kind is Kind.SET:
        value = int(cmd.args or "0")
        if value not in (0, 1, 2):
            return cme(CME_NOT_SUPPORTED)
        setattr(m.session, attr, value)
        return ok()
    n: int = getattr(m.session, attr)
    return ok(registration_line(name, m.registration, n, lte=m.profile.lte, query=True))


def registration_line(name: str, stat: int, n: int, *, lte: bool, query: bool = False) -> str:
    """+CREG/+CEREG as a query answer (with <n>) or a URC; location only when n=2 and registered."""
    head = f"+{name}: {n},{stat}" if query else f"+{name}: {stat}"
    if n == 2 and stat in (1, 5):
        lac, ci = ("1A2B", "0B3C4D05") if lte else ("1A2B", "0C3D")
        return f'{head},"{lac}","{ci}"'
    return head


async def _cops(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.SET:
        return ok()  # AT+COPS=3,0 only picks the name format; automatic selection stays on
    if cmd.kind is Kind.TEST:
        act = m.profile.operator_act
        return ok(f'+COPS: (2,"{m.operator}","{m.operator[:8]}","302720",{act}),,(0-4),(0-2)')
    if m.registration not in (1, 5):
        return ok("+COPS: 0")
    return ok(f'+COPS: 0,0,"{m.operator}",{m.profile.operator_act}')


async def _cfun(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.kind is Kind.READ:
        return ok(f"+CFUN: {m.session.cfun}")
    if cmd.kind is Kind.TEST:
        return ok("+CFUN: (0,1,4),(0,1)")
    params = cmd.int_params()
    fun = params[0]
    reset = len(params) > 1 and params[1] == 1
    if fun not in (0, 1, 4) or (reset and fun != 1):
        return cme(CME_NOT_SUPPORTED)
    if reset:
        m.request_reboot()
    else:
        m.set_functionality(fun)
    return ok()


async def _cnum(m: SimulatedModem, cmd: AtCommand) -> Reply:
    return ok(f'+CNUM: "","{m.number}",145')
