"""Bringing a modem up: init, identity, probe, signal, registration, USSD, PIN and busy SIMs."""

from __future__ import annotations

import pytest

from modem import gsm7
from modem.exceptions import IncorrectPasswordError, ModemError, SimPinRequiredError
from modem.modem import Modem
from modem.simulator import SimulatedModem
from modem.types import ModemState
from tests.integration.conftest import Recorder, make_modem, open_modem

BALANCE = "Solde: 12.50$. Valide jusqu'au 2026-12-31."


async def test_init_reads_the_identity_of_the_module(
    modem: Modem, sim_modem: SimulatedModem
) -> None:
    identity = modem.identity
    assert identity is not None
    assert modem.state is ModemState.READY
    assert identity.family == sim_modem.family == modem.family.name
    assert identity.manufacturer == sim_modem.profile.manufacturer
    assert identity.model == sim_modem.profile.model
    assert identity.revision in sim_modem.profile.revision
    assert identity.revision.strip()[0].isalnum()  # "Revision:" / "+CGMR:" prefixes removed
    assert identity.imei == sim_modem.imei
    assert identity.imsi == sim_modem.imsi
    assert identity.iccid == sim_modem.iccid


async def test_init_leaves_the_module_configured_for_pdu_sms(
    modem: Modem, sim_modem: SimulatedModem
) -> None:
    session = sim_modem.session
    assert session.echo is False
    assert session.cmee == 1
    assert session.cmgf == 0
    assert session.mem == ["SM", "SM", "SM"]
    expected_cnmi = tuple(int(v) for v in modem.family.cnmi.split("=")[1].split(","))
    assert session.cnmi == expected_cnmi
    assert session.creg_n == 2


async def test_odd_length_iccid_is_read_without_its_padding(
    sim_modem: SimulatedModem,
) -> None:
    sim_modem.iccid = "8930272730980941789"  # 19 digits: Huawei shows it swapped, F-padded
    async with open_modem(sim_modem) as modem:
        assert modem.identity is not None
        assert modem.identity.iccid == "8930272730980941789"


async def test_probe_reports_what_the_module_says(modem: Modem, sim_modem: SimulatedModem) -> None:
    probe = await modem.probe()
    assert probe == {
        "port": sim_modem.port,
        "family": sim_modem.family,
        "manufacturer": sim_modem.profile.manufacturer,
        "model": sim_modem.profile.model,
        "revision": modem.identity.revision if modem.identity else None,
        "imei": sim_modem.imei,
        "imsi": sim_modem.imsi,
        "iccid": sim_modem.iccid,
        "operator": "Rogers Wireless",
        "registration": "home",
        "registered": True,
        "signal": {"rssi": 20, "dbm": -73, "bars": 4},
    }


@pytest.mark.parametrize(
    ("rssi", "dbm", "bars"),
    [(0, -113, 0), (1, -111, 0), (9, -95, 1), (14, -85, 2), (19, -75, 3), (31, -51, 4)],
)
async def test_signal_in_dbm_and_bars(
    modem: Modem, sim_modem: SimulatedModem, rssi: int, dbm: int, bars: int
) -> None:
    sim_modem.set_signal(rssi)
    signal = await modem.signal()
    assert (signal.rssi, signal.dbm, signal.bars) == (rssi, dbm, bars)


async def test_signal_unknown_off_network(modem: Modem, sim_modem: SimulatedModem) -> None:
    sim_modem.deregister(stat=2)
    signal = await modem.signal()
    assert (signal.rssi, signal.dbm, signal.bars) == (99, None, 0)


async def test_registered_home_with_location(modem: Modem) -> None:
    assert modem.registration.status == 1
    assert modem.registration.registered
    registration = await modem.query_registration()
    assert registration.name == "home"
    assert registration.lac == "1A2B"
    assert registration.cell in ("0C3D", "0B3C4D05")


async def test_ussd_balance(modem: Modem, sim_modem: SimulatedModem) -> None:
    assert await modem.ussd("*100#", timeout=2.0) == BALANCE
    sent = [c for c in sim_modem.command_log if c.upper().startswith("AT+CUSD=")]
    assert len(sent) == 1
    if sim_modem.profile.ussd_packed:  # Huawei: the request travels as packed GSM-7 hex
        packed = gsm7.pack_septets(gsm7.encode("*100#")).hex().upper()
        assert sent[0] == f'AT+CUSD=1,"{packed}",15'
    else:
        assert sent[0] == 'AT+CUSD=1,"*100#",15'


async def test_ussd_twice_in_a_row(modem: Modem) -> None:
    assert await modem.ussd("*100#", timeout=2.0) == BALANCE
    assert await modem.ussd("*123", timeout=2.0) == "Code USSD inconnu."


async def test_pin_required_opens_with_the_right_pin(
    sim_modem: SimulatedModem, recorder: Recorder
) -> None:
    sim_modem.require_pin("4321")
    async with open_modem(sim_modem, recorder, pin="4321") as modem:
        assert modem.state is ModemState.READY
        assert sim_modem.session.pin_state == "READY"
        assert modem.identity is not None
        assert modem.identity.imsi == sim_modem.imsi
        assert await modem.ussd("*100#", timeout=2.0) == BALANCE


async def test_pin_required_without_a_pin_fails_clearly(sim_modem: SimulatedModem) -> None:
    sim_modem.require_pin("4321")
    modem = make_modem(sim_modem)
    with pytest.raises(ModemError, match="PIN") as caught:
        await modem.open()
    assert not isinstance(caught.value, TimeoutError)
    assert modem.state is ModemState.CLOSED
    assert sim_modem.pin_attempts_left == 3  # nothing was guessed


async def test_pin_required_with_a_wrong_pin_fails_with_cme_16(sim_modem: SimulatedModem) -> None:
    sim_modem.require_pin("4321")
    modem = make_modem(sim_modem, pin="0000")
    with pytest.raises(IncorrectPasswordError) as caught:
        await modem.open()
    assert caught.value.code == 16
    assert not isinstance(caught.value, SimPinRequiredError)
    assert modem.state is ModemState.CLOSED
    assert sim_modem.pin_attempts_left == 2


@pytest.mark.parametrize("code", [14, 515])
@pytest.mark.parametrize("count", [1, 3, 5])
async def test_open_waits_out_a_busy_sim(
    sim_modem: SimulatedModem, recorder: Recorder, code: int, count: int
) -> None:
    sim_modem.busy_after_boot(count, code)
    async with open_modem(sim_modem, recorder) as modem:
        assert modem.state is ModemState.READY
        assert modem.identity is not None
        assert modem.identity.imsi == sim_modem.imsi
    assert sim_modem.command_log.count("AT+CIMI") == count + 1  # retried, not skipped
