"""Plain values the modem layer hands to its users (the gateway, the CLI)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ModemState(enum.Enum):
    CLOSED = "closed"  # not opened yet, or closed on purpose
    INITIALISING = "initialising"  # port open, init sequence running
    READY = "ready"  # initialised; commands and URCs flow
    DISCONNECTED = "disconnected"  # the port went away; the owner decides when to reopen


@dataclass(frozen=True)
class Identity:
    manufacturer: str
    model: str
    revision: str
    imei: str
    imsi: str | None
    iccid: str | None
    family: str


@dataclass(frozen=True)
class Signal:
    rssi: int  # AT+CSQ raw value: 0..31, 99 = unknown
    dbm: int | None
    bars: int  # 0..4, as a phone shows them

    @classmethod
    def from_csq(cls, rssi: int) -> Signal:
        """3GPP TS 27.007 §8.5: rssi 0 = -113 dBm … 31 = -51 dBm or more, 99 = unknown."""
        if rssi == 99 or not 0 <= rssi <= 31:
            return cls(rssi, None, 0)
        dbm = -113 + 2 * rssi
        bars = 0 if rssi < 2 else 1 if rssi < 10 else 2 if rssi < 15 else 3 if rssi < 20 else 4
        return cls(rssi, dbm, bars)


REGISTRATION_NAMES = {
    0: "not registered",
    1: "home",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "roaming",
}


@dataclass(frozen=True)
class Registration:
    status: int  # 27.007 <stat>
    lac: str | None = None
    cell: str | None = None

    @property
    def registered(self) -> bool:
        return self.status in (1, 5)

    @property
    def name(self) -> str:
        return REGISTRATION_NAMES.get(self.status, f"status {self.status}")


@dataclass(frozen=True)
class SentPart:
    sequence: int  # 1-based part number
    message_reference: int  # the TP-MR the modem answered with in +CMGS


@dataclass(frozen=True)
class SentSms:
    destination: str
    encoding: str
    parts: tuple[SentPart, ...]


@dataclass(frozen=True)
class ReceivedSms:
    """A whole received message (parts reassembled), not yet deleted from the modem."""

    modem: str
    sender: str
    text: str
    timestamp: datetime  # the network's (SMSC) timestamp of the first part
    parts_expected: int
    parts_received: int
    complete: bool
    concat_reference: int | None
    pdus: tuple[str, ...]  # raw PDUs in part order, for duplicate detection and audit


@dataclass(frozen=True)
class DeliveryReport:
    modem: str
    message_reference: int
    recipient: str
    status: int  # TP-ST (3GPP TS 23.040 §9.2.3.15)
    discharge_time: datetime

    @property
    def delivered(self) -> bool:
        return self.status < 0x20

    @property
    def pending(self) -> bool:
        """The SC is still trying (temporary error, 0x20–0x3F)."""
        return 0x20 <= self.status < 0x40

    @property
    def failed(self) -> bool:
        """Permanent error (0x40–0x5F) or a temporary one the SC gave up on (0x60–0x7F)."""
        return self.status >= 0x40
