"""USSD balance requests over a real pty, on every family: texts with commas and line breaks,
UCS-2 answers, menus (status 1) closed with AT+CUSD=2, and each way the network can fail."""

from __future__ import annotations

import pytest

from modem.exceptions import CmeError
from modem.modem import Modem
from modem.simulator import SimulatedModem
from modem.simulator.ussd import UssdFailure
from modem.ussd import UssdError, UssdTimeoutError

FRENCH = "Votre solde est de {balance} $. Merci, « Bell »."


def cusd_commands(sim_modem: SimulatedModem) -> list[str]:
    return [c for c in sim_modem.command_log if c.upper().startswith("AT+CUSD=")]


async def test_french_text_with_a_decimal_comma(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.ussd.template = "Votre solde est de {balance} $"
    sim_modem.ussd.decimal = ","
    sim_modem.balance = 12.34
    assert await modem.ussd("*100#", timeout=2.0) == "Votre solde est de 12,34 $"


async def test_ucs2_answer(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.ussd.template = FRENCH
    sim_modem.ussd.decimal = ","
    sim_modem.ussd.ucs2 = True
    assert await modem.ussd("*100#", timeout=2.0) == FRENCH.replace("{balance}", "12,50")


async def test_answer_over_several_lines(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.ussd.template = "Solde: {balance}$\nForfait: 500 SMS\nValide: 2026-12-31"
    answer = await modem.ussd("*100#", timeout=2.0)
    assert answer == "Solde: 12.50$\nForfait: 500 SMS\nValide: 2026-12-31"
    # The channel is still in step: the next command gets its own answer.
    assert await modem.ussd("*100#", timeout=2.0) == answer


async def test_menu_is_read_then_closed(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.ussd.menu = True
    assert (await modem.ussd("*100#", timeout=2.0)).startswith("Solde: 12.50$")
    assert sim_modem.ussd.cancelled == 1
    assert cusd_commands(sim_modem)[-1] == "AT+CUSD=2"


async def test_no_credit_says_zero(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.set_no_credit()
    assert (await modem.ussd("*100#", timeout=2.0)).startswith("Solde: 0.00$")


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (UssdFailure.CME, CmeError),
        (UssdFailure.UNSUPPORTED, UssdError),
        (UssdFailure.TERMINATED, UssdError),
        (UssdFailure.SILENT, UssdTimeoutError),
    ],
)
async def test_failures(
    modem: Modem, sim_modem: SimulatedModem, failure: UssdFailure, error: type[Exception]
) -> None:
    sim_modem.ussd.failure = failure
    with pytest.raises(error):
        await modem.ussd("*100#", timeout=0.5)
    sim_modem.ussd.failure = None
    assert (await modem.ussd("*100#", timeout=2.0)).startswith("Solde: 12.50$")


async def test_timeout_closes_the_session(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.ussd.failure = UssdFailure.SILENT
    with pytest.raises(TimeoutError):
        await modem.ussd("*100#", timeout=0.3)
    assert sim_modem.ussd.cancelled == 1


async def test_no_network(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.deregister()
    with pytest.raises(CmeError) as caught:
        await modem.ussd("*100#", timeout=2.0)
    assert caught.value.code == 30
