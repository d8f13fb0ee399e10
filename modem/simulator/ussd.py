"""The simulated network's USSD service: a balance answer, menus, encodings and failures.

A balance request (a code ending in "#") gets `UssdService.template` with the SIM's balance
written the carrier's way ("Votre solde est de 12,34 $"); a modem without credit says 0. The
answer is printed as the family prints it: plain text, packed GSM-7 hex (Huawei) or UCS-2 hex
when the "network" codes it in UCS-2 (dcs 72). Line breaks in the text span several lines.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from modem import gsm7
from modem.simulator.at import AtCommand, Kind, Reply, cme, error, ok

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem

DEFAULT_TEMPLATE: Final = "Solde: {balance}$. Valide jusqu'au 2026-12-31."
UNKNOWN_CODE: Final = "Code USSD inconnu."
DCS_GSM7: Final = 15
DCS_UCS2: Final = 72
CME_NO_NETWORK: Final = 30
CME_UNKNOWN: Final = 100


class UssdFailure(enum.StrEnum):
    """How a USSD request can go wrong, as networks and modules show it."""

    CME = "cme"  # the module refuses the command: +CME ERROR: 100
    UNSUPPORTED = "unsupported"  # +CUSD: 4 (code barred or unknown to the network)
    TERMINATED = "terminated"  # +CUSD: 2 without text
    SILENT = "silent"  # OK, then no +CUSD at all (the gateway times out)


@dataclass
class UssdService:
    """What the network answers to USSD; tests and `--fault ussd=...` change it."""

    template: str = DEFAULT_TEMPLATE  # {balance} is replaced by the formatted balance
    decimal: str = "."  # "," for French-speaking carriers
    ucs2: bool = False  # the network codes its answer in UCS-2 (dcs 72)
    menu: bool = False  # answer with status 1: a menu that waits for a reply
    failure: UssdFailure | None = None
    cancelled: int = 0  # AT+CUSD=2 received (sessions closed by the client)
    requests: int = 0

    def balance_text(self, balance: float) -> str:
        amount = f"{balance:.2f}".replace(".", self.decimal)
        return self.template.replace("{balance}", amount)


async def cusd(m: SimulatedModem, cmd: AtCommand) -> Reply:
    """AT+CUSD: n=1 sends a request (the answer comes later as a URC), n=2 ends the session."""
    if cmd.kind is Kind.TEST:
        return ok("+CUSD: (0,1,2)")
    if cmd.kind is Kind.READ:
        return ok("+CUSD: 1")
    params = cmd.params()
    if params[0] not in ("0", "1", "2"):
        return error()
    service = m.ussd
    if params[0] == "2":
        service.cancelled += 1
        return ok()
    if len(params) < 2 or not params[1]:
        return ok()
    request = params[1]
    if m.profile.ussd_packed:
        try:
            request = unpack(request)
        except ValueError:
            return error()
    if m.registration not in (1, 5):
        return cme(CME_NO_NETWORK)
    service.requests += 1
    if service.failure is UssdFailure.CME:
        return cme(CME_UNKNOWN)
    if service.failure is UssdFailure.SILENT:
        return ok()
    if service.failure is UssdFailure.UNSUPPORTED:
        m.later(m.latency.ussd(), "+CUSD: 4")
        return ok()
    if service.failure is UssdFailure.TERMINATED:
        m.later(m.latency.ussd(), "+CUSD: 2")
        return ok()
    balance = 0.0 if m.faults.no_credit else m.balance
    text = service.balance_text(balance) if request.endswith("#") else UNKNOWN_CODE
    m.later(m.latency.ussd(), *answer_lines(m, text))
    return ok()


def answer_lines(m: SimulatedModem, text: str) -> list[str]:
    """The +CUSD URC for `text`, encoded as the family and the network do."""
    service = m.ussd
    status = 1 if service.menu else 0
    dcs = DCS_GSM7
    if service.ucs2:
        body, dcs = text.encode("utf-16-be").hex().upper(), DCS_UCS2
    elif m.profile.ussd_packed:
        body = gsm7.pack_septets(gsm7.encode(text)).hex().upper()
    else:
        body = text
    lines = f'+CUSD: {status},"{body}",{dcs}'.split("\n")
    return [line.rstrip("\r") for line in lines]


def unpack(packed_hex: str) -> str:
    """Text of a packed GSM-7 USSD string; trailing padding (@ or CR, 23.038 §6.1.2.3) dropped."""
    data = bytes.fromhex(packed_hex)
    septets = gsm7.unpack_septets(data, len(data) * 8 // 7)
    return gsm7.decode(septets).rstrip("@\r")
