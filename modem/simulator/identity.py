"""Identifiers a real SIM and module carry (IMEI, ICCID, IMSI), valid enough to pass checks."""

from __future__ import annotations

import random

MCC_CANADA = "302"
MNC_DEFAULT = "720"  # Rogers; any Canadian MNC would do, the gateway never interprets it
PHONE_PREFIX = "+1514555"


def luhn_digit(digits: str) -> str:
    """The Luhn check digit that makes `digits + check` valid (IMEI and ICCID both use it)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the last digit is the Luhn check digit of the others."""
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def make_imei(rng: random.Random) -> str:
    """15-digit IMEI: an 8-digit TAC, a 6-digit serial, the Luhn digit."""
    body = "35" + "".join(str(rng.randrange(10)) for _ in range(12))
    return body + luhn_digit(body)


def make_iccid(rng: random.Random, mnc: str = MNC_DEFAULT) -> str:
    """20-digit ICCID: 89 (telecom), country code 302, issuer, account, Luhn digit."""
    body = "89" + MCC_CANADA + mnc[:2] + "".join(str(rng.randrange(10)) for _ in range(12))
    return body + luhn_digit(body)


def make_imsi(rng: random.Random, mnc: str = MNC_DEFAULT) -> str:
    """15-digit IMSI: MCC 302 (Canada), the MNC, the subscriber number."""
    return MCC_CANADA + mnc + "".join(str(rng.randrange(10)) for _ in range(15 - 3 - len(mnc)))


def swap_nibbles(digits: str) -> str:
    """BCD order as stored on the SIM (and shown by Huawei): each digit pair swapped, F-padded."""
    padded = digits + "F" * (len(digits) % 2)
    return "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))


def phone_number(index: int) -> str:
    """Number of the `index`-th simulated phone (0 → +15145550101)."""
    return f"{PHONE_PREFIX}{101 + index:04d}"


def modem_number(index: int) -> str:
    """Number of the `index`-th simulated modem's SIM (0 → +15145559001)."""
    return f"{PHONE_PREFIX}{9001 + index:04d}"


def number_key(number: str) -> str:
    """Digits of a number with the NANP country code, so "5145550101" matches "+15145550101"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return "1" + digits if len(digits) == 10 else digits
