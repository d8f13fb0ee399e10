"""Fault switches as short strings, so `tocsin simulate` can start modems already broken."""

from __future__ import annotations

from typing import Final

from modem.simulator.modem import SimulatedModem
from modem.simulator.ussd import UssdFailure

FAULT_FLAGS: Final = {
    "hang": "answer nothing (input is swallowed)",
    "garbage[=P]": "random bytes between response lines, with probability P (default 0.5)",
    "garbage-only": "random bytes instead of every response",
    "fail-sends=N[:CODE]": "the next N sends fail with +CMS ERROR: CODE (default 38)",
    "no-credit[=CODE]": "every send fails with +CMS ERROR: CODE (default 8), balance 0.00",
    "deregistered": "off the network (+CREG stat 3, sends fail with CMS 331)",
    "pin=PIN": "the SIM wants PIN after every boot",
    "busy-after-boot=N[:CODE]": "the first N SIM commands after boot get +CME ERROR: CODE",
    "trickle[=GAP_S]": "write responses one byte at a time (default gap 0.001 s)",
    "rssi=N": "signal quality shown by +CSQ",
    "ussd=KIND": "USSD fails: cme (+CME ERROR: 100), unsupported (+CUSD: 4), terminated, silent",
    "balance=X": "the SIM's prepaid balance told by USSD",
}


def apply_faults(modems: list[SimulatedModem], specs: list[str]) -> None:
    """Apply "flag" to every modem, or "<index>:flag" to one; ValueError names a bad flag."""
    for spec in specs:
        head, sep, rest = spec.partition(":")
        if sep and head.isdigit() and "=" not in head:
            apply_fault(modems[int(head)], rest)
        else:
            for modem in modems:
                apply_fault(modem, spec)


def apply_fault(modem: SimulatedModem, spec: str) -> None:
    """Apply one flag (see FAULT_FLAGS) to `modem`."""
    name, _, value = spec.strip().partition("=")
    count, _, code = value.partition(":")
    if name == "hang":
        modem.hang()
    elif name == "garbage":
        modem.set_garbage("interleave", float(value or "0.5"))
    elif name == "garbage-only":
        modem.set_garbage("replace")
    elif name == "fail-sends":
        modem.fail_next_sends(int(count), int(code or "38"))
    elif name == "no-credit":
        modem.set_no_credit(True, int(value or "8"))
    elif name == "deregistered":
        modem.deregister()
    elif name == "pin" and value:
        modem.require_pin(value)
    elif name == "busy-after-boot":
        modem.busy_after_boot(int(count), int(code) if code else None)
    elif name == "trickle":
        modem.set_trickle(float(value or "0.001"))
    elif name == "rssi":
        modem.set_signal(int(value))
    elif name == "ussd" and value in {f.value for f in UssdFailure}:
        modem.ussd.failure = UssdFailure(value)
    elif name == "balance" and value:
        modem.balance = float(value)
    else:
        raise ValueError(f"unknown fault {spec!r}; known: {', '.join(FAULT_FLAGS)}")
