"""The +CUSD decoder against the forms real modules print, and hypothesis round trips."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modem import gsm7
from modem.ussd import (
    UssdError,
    UssdStatus,
    decode_cusd,
    is_complete,
    parse_cusd,
)

GSM_TEXT = st.text(
    alphabet=st.sampled_from(sorted(set(gsm7.DEFAULT_ALPHABET) - {"@", "\r", "\x1b"}))
)


def test_plain_text_with_commas_and_quotes() -> None:
    line = '+CUSD: 0,"Votre solde est de 12,34 $, valide jusqu\'au "31/12"",15'
    assert decode_cusd(line, packed=False) == 'Votre solde est de 12,34 $, valide jusqu\'au "31/12"'


def test_status_and_dcs_are_optional() -> None:
    assert parse_cusd("+CUSD: 2", packed=False).status is UssdStatus.TERMINATED
    assert decode_cusd('+CUSD: 0,"Solde 5$"', packed=False) == "Solde 5$"
    assert decode_cusd("+CUSD: 0,Solde 5$,15", packed=False) == "Solde 5$"


def test_ucs2_with_a_language_prefix() -> None:
    raw = ("fr".encode("ascii") + "Crédit: 3,00 €".encode("utf-16-be")).hex()
    assert decode_cusd(f'+CUSD: 0,"{raw}",17', packed=False) == "Crédit: 3,00 €"


def test_huawei_packed_hex() -> None:
    raw = gsm7.pack_septets(gsm7.encode("Solde: 1.00$")).hex().upper()
    assert decode_cusd(f'+CUSD: 0,"{raw}",15', packed=True) == "Solde: 1.00$"


@pytest.mark.parametrize(
    "line", ["+CUSD: 4", "+CUSD: 2", "+CUSD: 5", "+CUSD: 3", "+CUSD: 9", "+CUSD:", "CUSD: 0"]
)
def test_statuses_without_an_answer(line: str) -> None:
    with pytest.raises(UssdError):
        decode_cusd(line, packed=False)


def test_bad_ucs2_hex_is_a_clear_error() -> None:
    with pytest.raises(UssdError, match="unreadable"):
        decode_cusd('+CUSD: 0,"D800",72', packed=False)


def test_completeness_of_a_multi_line_answer() -> None:
    assert not is_complete('+CUSD: 0,"Solde: 5$')
    assert is_complete('+CUSD: 0,"Solde: 5$\nValide",15')
    assert is_complete("+CUSD: 4")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])), st.sampled_from([0, 1, 2]))
def test_ucs2_round_trip(text: str, status: int) -> None:
    line = f'+CUSD: {status},"{text.encode("utf-16-be").hex().upper()}",72'
    answer = parse_cusd(line, packed=False)
    assert answer.text == text
    assert answer.status == status


@given(GSM_TEXT)
def test_packed_gsm7_round_trip(text: str) -> None:
    raw = gsm7.pack_septets(gsm7.encode(text)).hex().upper()
    line = f'+CUSD: 0,"{raw}",15'
    if raw:
        assert decode_cusd(line, packed=True) == text


@given(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=1))
def test_plain_text_round_trip(text: str) -> None:
    line = f'+CUSD: 0,"{text}",15'
    answer = parse_cusd(line, packed=False)
    if not all(c in "0123456789abcdefABCDEF" for c in text):
        assert answer.text == text


@given(st.text())
def test_never_crashes_on_noise(line: str) -> None:
    with contextlib.suppress(UssdError):
        parse_cusd("+CUSD: " + line, packed=True)
