"""SIM balances: the amount read out of a carrier's free-text USSD answer, checked on a schedule.

Carriers answer in prose ("Votre solde est de 12,34 $. Valide jusqu'au 2026-12-31.", "Your
balance is $1,234.56", "Crédit: 3 €"): `parse_amount` finds the money in it whatever the decimal
mark, and ignores dates, times and phone-menu numbers. A text it cannot read gives None (the
page shows the text itself), never a wrong amount.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, Protocol

from modem.exceptions import ModemError

_LOGGER = logging.getLogger(__name__)

# A number: digits with optional thousands groups (space, no-break space, dot, comma, or
# apostrophe as in Switzerland) and an optional decimal part; a sign may lead.
_NUMBER: Final = re.compile(
    r"(?<![\w.,/:-])(-\s?)?"  # not inside a date, a time or a word; maybe negative
    r"(\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+|\d+)"  # the units, maybe grouped by thousands
    r"(?:[.,](\d{1,2}))?"  # cents
    r"(?![\w/:-]|[.,]\d)"
)
_CURRENCY: Final = re.compile(
    r"[$€£¥]|\b(?:CAD|USD|EUR|GBP|CHF|XOF|XAF|MAD|TND|DZD|dollars?|euros?|francs?|FCFA|DH)\b",
    re.IGNORECASE,
)
_KEYWORD: Final = re.compile(r"solde|balance|cr[ée]dit|montant|reste|restant", re.IGNORECASE)
_MENU_ITEM: Final = re.compile(r"[.)]\s+[^\W\d_]")
# Currency within this many characters of a number makes it the balance.
_NEAR: Final = 3


@dataclass(frozen=True, slots=True)
class BalanceReading:
    """The latest balance check of one SIM."""

    checked_at: datetime
    text: str | None = None  # the carrier's answer
    amount: Decimal | None = None  # None: unreadable, or the check failed
    error: str | None = None


def parse_amount(text: str) -> Decimal | None:
    """The balance in a carrier's answer, or None when no amount can be told apart."""
    candidates = list(_candidates(text))
    if not candidates:
        return None
    near_currency = [c for c in candidates if _currency_near(text, c[1], c[2])]
    if near_currency:
        return near_currency[0][0]
    keyword = _KEYWORD.search(text)
    if keyword is not None:
        after = [c for c in candidates if c[1] >= keyword.end()]
        if after:
            return after[0][0]
    return candidates[0][0] if len(candidates) == 1 else None


def _candidates(text: str) -> Iterable[tuple[Decimal, int, int]]:
    for match in _NUMBER.finditer(text):
        sign, whole, fraction = match.group(1), match.group(2), match.group(3)
        if not sign and not fraction and _MENU_ITEM.match(text, match.end()) and len(whole) <= 2:
            continue  # "1. Solde 2. Forfaits": menu entries, not money
        value = _to_decimal(whole, fraction)
        if value is None:
            continue
        yield (-value if sign else value), match.start(), match.end()


def _to_decimal(whole: str, fraction: str | None) -> Decimal | None:
    """'1 234' / '1.234' / '1,234' are thousands (three digits after the mark); '12' and the
    one- or two-digit fraction already split off by the pattern are the rest."""
    digits = re.sub(r"[ \u00a0\u202f.,'’]", "", whole)
    marks = set(re.sub(r"\d", "", whole))
    if len(marks) > 1:
        return None  # "1.234,567,8": not a number a carrier writes
    try:
        return Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:
        return None


def _currency_near(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _NEAR - 3) : start]
    after = text[end : end + _NEAR + 7]
    hit_before = [m for m in _CURRENCY.finditer(before) if m.end() >= len(before) - _NEAR]
    hit_after = [m for m in _CURRENCY.finditer(after) if m.start() <= _NEAR]
    return bool(hit_before or hit_after)


class UssdModem(Protocol):
    """What the checker needs of a modem (modem.modem.Modem has it)."""

    async def ussd(self, code: str, timeout: float = ...) -> str: ...


@dataclass(frozen=True, slots=True)
class BalanceTarget:
    """One modem whose SIM has a balance code; `usable()` is false while it is down."""

    name: str
    code: str
    modem: UssdModem
    usable: Callable[[], bool]


# How soon a failed balance check is tried again.
RETRY_S: Final = 60.0


class BalanceChecker:
    """Asks each SIM its balance by USSD, every `interval_s` and on demand."""

    def __init__(
        self,
        targets: Iterable[BalanceTarget],
        *,
        interval_s: float,
        retry_s: float = RETRY_S,
        on_reading: Callable[[str, BalanceReading], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.targets = {t.name: t for t in targets}
        self.readings: dict[str, BalanceReading] = {}
        self._interval = interval_s
        self._retry = retry_s
        self._on_reading = on_reading
        self._clock = clock
        self._locks = {name: asyncio.Lock() for name in self.targets}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0 and self.targets:
            self._task = asyncio.create_task(self._run(), name="balance checks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def check(self, name: str) -> BalanceReading:
        """Ask one SIM now (one request per SIM at a time: a second caller waits for it)."""
        target = self.targets[name]
        async with self._locks[name]:
            now = self._clock()
            if not target.usable():
                reading = BalanceReading(now, error="modem not available")
            else:
                try:
                    text = await target.modem.ussd(target.code)
                except ModemError as exc:
                    _LOGGER.warning("%s: balance check failed: %s", name, exc)
                    reading = BalanceReading(now, error=str(exc))
                else:
                    amount = parse_amount(text)
                    if amount is None:
                        _LOGGER.warning("%s: no amount found in the balance answer", name)
                    else:
                        _LOGGER.info("%s: SIM balance %s", name, amount)
                    reading = BalanceReading(now, text=text, amount=amount)
            self.readings[name] = reading
        if self._on_reading is not None:
            self._on_reading(name, reading)
        return reading

    async def check_all(self) -> None:
        """Every SIM, one after the other (USSD sessions are per network, not per modem)."""
        for name in self.targets:
            await self.check(name)

    async def _run(self) -> None:
        while True:
            await self.check_all()
            # A failed check (modem still starting, network busy) is retried soon, not in hours.
            failed = any(r.error for r in self.readings.values())
            await asyncio.sleep(min(self._interval, self._retry) if failed else self._interval)
