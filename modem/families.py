"""Per-family quirks of the modules we support, in one place.

Everything else in `modem/` speaks standard 3GPP TS 27.005/27.007; where a family differs (how
it announces status reports, where its ICCID lives, how long +CMGS may take), the difference is
a field here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from modem.at import CMGS_TIMEOUT_QUECTEL, CMGS_TIMEOUT_SIMCOM


@dataclass(frozen=True)
class Family:
    """What differs between module families."""

    name: str
    # New SMS stored on the SIM and announced (+CMTI): the gateway commits before deleting.
    # ds=2 stores status reports (+CDSI) too; SIM800 rejects ds=2, so it gets them inline (+CDS).
    cnmi: str
    iccid_command: str
    # Huawei answers ^ICCID with each pair of BCD digits swapped, as stored on the SIM.
    iccid_nibble_swapped: bool
    # Huawei takes and returns USSD strings as packed GSM-7 hex instead of text.
    ussd_packed: bool
    cmgs_timeout: float
    has_cereg: bool


GENERIC: Final = Family(
    name="generic",
    cnmi="AT+CNMI=2,1,0,1,0",
    iccid_command="AT+CCID",
    iccid_nibble_swapped=False,
    ussd_packed=False,
    cmgs_timeout=CMGS_TIMEOUT_QUECTEL,
    has_cereg=False,
)
SIM800: Final = Family(
    name="sim800",
    cnmi="AT+CNMI=2,1,0,1,0",
    iccid_command="AT+CCID",
    iccid_nibble_swapped=False,
    ussd_packed=False,
    cmgs_timeout=CMGS_TIMEOUT_SIMCOM,
    has_cereg=False,
)
SIM7600: Final = Family(
    name="sim7600",
    cnmi="AT+CNMI=2,1,0,2,0",
    iccid_command="AT+CICCID",
    iccid_nibble_swapped=False,
    ussd_packed=False,
    cmgs_timeout=CMGS_TIMEOUT_SIMCOM,
    has_cereg=True,
)
EC25: Final = Family(
    name="ec25",
    cnmi="AT+CNMI=2,1,0,2,0",
    iccid_command="AT+QCCID",
    iccid_nibble_swapped=False,
    ussd_packed=False,
    cmgs_timeout=CMGS_TIMEOUT_QUECTEL,
    has_cereg=True,
)
E3372: Final = Family(
    name="e3372",
    cnmi="AT+CNMI=2,1,0,2,0",
    iccid_command="AT^ICCID?",
    iccid_nibble_swapped=True,
    ussd_packed=True,
    cmgs_timeout=CMGS_TIMEOUT_QUECTEL,
    has_cereg=False,
)

FAMILIES: Final = {f.name: f for f in (GENERIC, SIM800, SIM7600, EC25, E3372)}


def detect_family(manufacturer: str, model: str) -> Family:
    """Pick the family from AT+CGMI / AT+CGMM answers."""
    maker = manufacturer.lower()
    model_l = model.lower()
    if "simcom" in maker or "simcom" in model_l:
        if "sim800" in model_l or "sim900" in model_l:
            return SIM800
        return SIM7600
    if "quectel" in maker:
        return EC25
    if "huawei" in maker:
        return E3372
    return GENERIC


def parse_iccid(lines: list[str], family: Family) -> str | None:
    """The ICCID digits from whichever form the family answers in."""
    for line in lines:
        value = line.split(":", 1)[1] if ":" in line else line
        value = value.strip().strip('"').upper()
        if len(value) < 18 or not all(ch.isdigit() or ch == "F" for ch in value):
            continue
        if family.iccid_nibble_swapped:
            value = "".join(value[i + 1 : i + 2] + value[i] for i in range(0, len(value), 2))
        digits = value.rstrip("F")
        if digits.isdigit():
            return digits
    return None
