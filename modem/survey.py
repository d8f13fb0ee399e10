"""A read-only look at whatever answers AT on a port: for `tocsin modem scan` and `tocsin doctor`.

Unlike `Modem.open()` it enters no PIN (a wrong one would burn one of the SIM's three tries) and
changes no SMS settings, so it is safe on a modem someone else configured.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

from modem.exceptions import AtCommandError
from modem.families import detect_family, parse_iccid
from modem.modem import Modem, ModemConfig, _info


@dataclass(frozen=True)
class Survey:
    """What a port told us; `sim` is the +CPIN answer (READY, SIM PIN, SIM PUK) or the error."""

    port: str
    manufacturer: str
    model: str
    family: str
    imei: str
    sim: str
    iccid: str | None
    imsi: str | None
    operator: str | None
    registration: str
    registered: bool
    signal_dbm: int | None
    signal_bars: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def survey(config: ModemConfig) -> Survey:
    """Ask identity, SIM state, operator, registration and signal; callers bound the time."""
    modem = Modem(config)
    try:
        await modem.open_port()
        await modem.sync()
        await modem.at("ATE0")
        with contextlib.suppress(AtCommandError):
            await modem.at("AT+CMEE=1")
        manufacturer = _info(await modem.at("AT+CGMI"))
        model = _info(await modem.at("AT+CGMM"))
        imei = _info(await modem.at("AT+CGSN"))
        family = detect_family(manufacturer, model)
        sim = await _sim_state(modem)
        iccid: str | None = None
        imsi: str | None = None
        if sim == "READY":
            with contextlib.suppress(AtCommandError):
                iccid = parse_iccid(await modem.at(family.iccid_command), family)
            with contextlib.suppress(AtCommandError):
                imsi = _info(await modem.at("AT+CIMI")) or None
        operator: str | None = None
        with contextlib.suppress(AtCommandError):
            operator = await modem.operator()
        registration = await modem.query_registration()
        signal = await modem.signal()
        return Survey(
            port=config.port,
            manufacturer=manufacturer,
            model=model,
            family=family.name,
            imei=imei,
            sim=sim,
            iccid=iccid,
            imsi=imsi,
            operator=operator,
            registration=registration.name,
            registered=registration.registered,
            signal_dbm=signal.dbm,
            signal_bars=signal.bars,
        )
    finally:
        await modem.close()


async def _sim_state(modem: Modem) -> str:
    try:
        lines = await modem.at("AT+CPIN?")
    except AtCommandError as exc:
        return f"error: {exc}"  # CME 10: no SIM, 13: SIM failure, 14: busy after boot
    return _info(lines, "+CPIN:").removeprefix("+CPIN:").strip() or "unknown"
