"""How each simulated module family answers, as data, so the interpreter stays family-agnostic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True)
class SimFamily:
    """Identity strings and quirks of one module family, as its firmware prints them."""

    name: str
    manufacturer: str  # AT+CGMI
    model: str  # AT+CGMM
    revision: str  # AT+CGMR, the whole line as printed
    ati: tuple[str, ...]  # ATI lines; "{imei}" is filled in
    # The one command this family answers the ICCID to, and the prefix of its answer line.
    iccid_command: str
    iccid_prefix: str
    iccid_swapped: bool
    cnmi_test: str
    cnmi_allowed: tuple[frozenset[int], ...]  # mode, mt, bm, ds, bfr
    cnmi_default: tuple[int, int, int, int, int]
    cpms_test: str
    operator_act: int  # <AcT> of +COPS: 0 GSM, 7 E-UTRAN
    boot_urcs: tuple[str, ...]  # printed when the module has booted, before any SIM news
    cpin_urc: bool  # prints "+CPIN: <state>" when the SIM state is known
    sim_ready_urcs: tuple[str, ...]  # right after the SIM is unlocked / found ready
    sms_ready_urcs: tuple[str, ...]  # a little later, when the SMS stack is up
    cmgr_empty_error: bool  # empty slot: +CMS ERROR: 321 (True) or a bare OK (False)
    unknown_answer: str  # final answer to a command the firmware does not know
    busy_code: int  # +CME ERROR for "SIM busy / still starting"
    has_cereg: bool
    ussd_packed: bool  # USSD strings travel as packed GSM-7 hex (Huawei stick firmwares)
    periodic_urc: str | None = None  # e.g. Huawei "^RSSI: {rssi}"
    lte: bool = field(default=False)


_CNMI_SIMCOM_2G = (
    frozenset(range(4)),
    frozenset(range(4)),
    frozenset({0, 2}),
    frozenset({0, 1}),
    frozenset({0, 1}),
)
_CNMI_LTE = (
    frozenset(range(3)),
    frozenset(range(4)),
    frozenset({0, 2}),
    frozenset(range(3)),
    frozenset({0, 1}),
)

SIM800: Final = SimFamily(
    name="sim800",
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800",
    revision="Revision:1418B04SIM800C24",
    ati=("SIM800 R14.18",),
    iccid_command="+CCID",
    iccid_prefix="",
    iccid_swapped=False,
    cnmi_test="+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)",
    cnmi_allowed=_CNMI_SIMCOM_2G,
    cnmi_default=(2, 1, 0, 0, 0),
    cpms_test='+CPMS: ("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT"),'
    '("SM","ME","SM_P","ME_P","MT")',
    operator_act=0,
    boot_urcs=("RDY", "+CFUN: 1"),
    cpin_urc=True,
    sim_ready_urcs=(),
    sms_ready_urcs=("Call Ready", "SMS Ready"),
    cmgr_empty_error=False,
    unknown_answer="ERROR",
    busy_code=14,
    has_cereg=False,
    ussd_packed=False,
)
SIM7600: Final = SimFamily(
    name="sim7600",
    manufacturer="SIMCOM INCORPORATED",
    model="SIMCOM_SIM7600G-H",
    revision="+CGMR: LE20B04SIM7600G22",
    ati=(
        "Manufacturer: SIMCOM INCORPORATED",
        "Model: SIMCOM_SIM7600G-H",
        "Revision: LE20B04SIM7600G22",
        "IMEI: {imei}",
        "+GCAP: +CGSM",
    ),
    iccid_command="+CICCID",
    iccid_prefix="+ICCID: ",
    iccid_swapped=False,
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    cnmi_allowed=_CNMI_LTE,
    cnmi_default=(2, 1, 0, 0, 0),
    cpms_test='+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")',
    operator_act=7,
    boot_urcs=("RDY",),
    cpin_urc=True,
    sim_ready_urcs=(),
    sms_ready_urcs=("SMS DONE", "PB DONE"),
    cmgr_empty_error=False,
    unknown_answer="ERROR",
    busy_code=14,
    has_cereg=True,
    ussd_packed=False,
    lte=True,
)
EC25: Final = SimFamily(
    name="ec25",
    manufacturer="Quectel",
    model="EC25",
    revision="EC25AFAR05A07M4G",
    ati=("Quectel", "EC25", "Revision: EC25AFAR05A07M4G"),
    iccid_command="+QCCID",
    iccid_prefix="+QCCID: ",
    iccid_swapped=False,
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    cnmi_allowed=_CNMI_LTE,
    cnmi_default=(2, 1, 0, 0, 0),
    cpms_test='+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")',
    operator_act=7,
    boot_urcs=("RDY",),
    cpin_urc=True,
    sim_ready_urcs=("+QUSIM: 1",),
    sms_ready_urcs=("+QIND: SMS DONE",),
    cmgr_empty_error=True,
    unknown_answer="ERROR",
    busy_code=14,
    has_cereg=True,
    ussd_packed=False,
    lte=True,
)
E3372: Final = SimFamily(
    name="e3372",
    manufacturer="huawei",
    model="E3372",
    revision="21.180.01.00.00",
    ati=(
        "Manufacturer: huawei",
        "Model: E3372",
        "Revision: 21.180.01.00.00",
        "IMEI: {imei}",
        "+GCAP: +CGSM,+DS,+ES",
    ),
    iccid_command="^ICCID",
    iccid_prefix="^ICCID: ",
    iccid_swapped=True,
    cnmi_test="+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
    cnmi_allowed=_CNMI_LTE,
    cnmi_default=(0, 0, 0, 0, 0),
    cpms_test='+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',
    operator_act=7,
    boot_urcs=("^SYSSTART",),
    cpin_urc=False,
    sim_ready_urcs=("^SIMST: 1",),
    sms_ready_urcs=(),
    cmgr_empty_error=True,
    unknown_answer="COMMAND NOT SUPPORT",
    busy_code=14,
    has_cereg=False,
    ussd_packed=True,
    periodic_urc="^RSSI: {rssi}",
    lte=True,
)

FAMILIES: Final = {f.name: f for f in (SIM800, SIM7600, EC25, E3372)}


def get_family(name: str) -> SimFamily:
    """The family called `name`; ValueError listing the known ones otherwise."""
    try:
        return FAMILIES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown modem family {name!r}; known: {sorted(FAMILIES)}") from None
