"""The balance parser on carriers' prose: decimal comma or point, thousands, dates around."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.balance import BalanceChecker, BalanceTarget, parse_amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Votre solde est de 12,34 $", "12.34"),
        ("Solde: 12.50$. Valide jusqu'au 2026-12-31.", "12.50"),
        ("Your balance is $1,234.56. Expires 31/12/2026.", "1234.56"),
        ("Votre crédit: 1 234,56 € au 14:30 le 02/03", "1234.56"),
        ("Crédit restant 3 EUR", "3"),
        ("Le 2026-01-05, votre solde est de 0,00 $", "0.00"),
        ("Solde principal: -2,50 $", "-2.50"),
        ("Solde 7,5 dollars", "7.5"),
        ("Balance: 12.00 CAD. Dial *100# for more.", "12.00"),
        ("Votre solde: 42", "42"),
        ("Solde\nPrincipal: 8,00$\nBonus: 2,00$", "8.00"),
    ],
)
def test_real_answers(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    [
        "Code USSD inconnu.",
        "",
        "Service indisponible le 2026-12-31 à 14:30",
        "1. Solde 2. Forfaits",
    ],
)
def test_no_amount(text: str) -> None:
    assert parse_amount(text) is None


def _format(amount: Decimal, style: str) -> str:
    whole, _, fraction = f"{abs(amount):.2f}".partition(".")
    groups = f"{int(whole):,}"
    sign = "-" if amount < 0 else ""
    if style == "fr":
        return sign + groups.replace(",", "\u00a0") + "," + fraction
    if style == "en":
        return sign + groups + "." + fraction
    if style == "de":
        return sign + groups.replace(",", ".") + "," + fraction
    return sign + whole + "." + fraction  # plain


TEMPLATES = [
    "Votre solde est de {amount} $. Valide jusqu'au 2026-12-31.",
    "Your balance is ${amount}, valid until 31/12/2026 23:59.",
    "Le 05/06/2026 a 14:30, credit: {amount} EUR. Composez *123# pour recharger.",
    "{amount}$ restant",
]


@given(
    st.decimals(min_value=-999, max_value=99_999_999, places=2, allow_nan=False),
    st.sampled_from(["fr", "en", "de", "plain"]),
    st.sampled_from(TEMPLATES),
)
def test_formatted_amounts_round_trip(amount: Decimal, style: str, template: str) -> None:
    text = template.format(amount=_format(amount, style))
    assert parse_amount(text) == amount


@given(st.text())
def test_never_raises(text: str) -> None:
    parse_amount(text)


class _Ussd:
    """A modem whose USSD answers with a balance (the checker only calls `ussd`)."""

    def __init__(self) -> None:
        self.asked = 0

    async def ussd(self, code: str, timeout: float = 10.0) -> str:
        self.asked += 1
        return "Votre solde est de 12,34 $"


async def test_a_failed_check_is_retried_soon_not_at_the_next_interval() -> None:
    """At start-up the modems are not ready yet: the first check fails, the retry succeeds."""
    modem = _Ussd()
    ready = asyncio.Event()
    checker = BalanceChecker(
        [BalanceTarget("sim0", "*100#", modem, ready.is_set)],
        interval_s=3600.0,
        retry_s=0.05,
    )
    checker.start()
    try:
        await asyncio.sleep(0)  # the first check runs while the modem is not usable
        assert checker.readings["sim0"].error == "modem not available"
        ready.set()
        async with asyncio.timeout(10):
            while checker.readings["sim0"].amount is None:
                await asyncio.sleep(0.01)
        assert checker.readings["sim0"].amount == Decimal("12.34")
        assert modem.asked == 1
    finally:
        await checker.stop()
