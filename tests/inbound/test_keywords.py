"""Keywords are recognised however they are typed, and only when they are the whole message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.keywords import Keyword, match_keyword, normalise, reply_text
from modem.pdu import segment_info


@pytest.mark.parametrize(
    ("text", "keyword", "language"),
    [
        ("stop", Keyword.STOP, None),
        ("STOP", Keyword.STOP, None),
        (" Arrêt!", Keyword.STOP, "fr"),
        ("ARRET", Keyword.STOP, "fr"),
        ("arrêt.", Keyword.STOP, "fr"),
        ("Unsubscribe", Keyword.STOP, "en"),
        ("END", Keyword.STOP, "en"),
        ("cancel", Keyword.STOP, "en"),
        ("Quit", Keyword.STOP, "en"),
        ("start", Keyword.START, "en"),
        ("Reprendre", Keyword.START, "fr"),
        ("AIDE", Keyword.HELP, "fr"),
        ("a i d e", Keyword.HELP, "fr"),
        ("help?", Keyword.HELP, "en"),
        ("Info", Keyword.HELP, None),
    ],
)
def test_keywords(text: str, keyword: Keyword, language: str | None) -> None:
    found = match_keyword(text)
    assert found is not None
    assert found.keyword is keyword
    assert found.language == language


@pytest.mark.parametrize(
    "text", ["stop the truck on Main St", "arrêtez de klaxonner", "", "!!!", "helpdesk", "STOPP"]
)
def test_not_keywords(text: str) -> None:
    assert match_keyword(text) is None


@given(st.text(max_size=40))
def test_normalise_never_fails_and_is_plain_ascii(text: str) -> None:
    result = normalise(text)
    assert result == result.lower()
    assert result.isascii()
    assert all(ch.isalnum() for ch in result)


@pytest.mark.parametrize("keyword", list(Keyword))
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("town", ["Terrebonne", "Saint-Jean-sur-Richelieu et ses environs"])
def test_replies_fit_one_sms(keyword: Keyword, language: str, town: str) -> None:
    text = reply_text(keyword, language, town=town, contact="450 961-2001")
    assert segment_info(text).parts == 1
    assert len(text) <= 160
    assert town[:8] in text
    if keyword is Keyword.HELP:
        assert "450 961-2001" in text
        assert ("ARRET" if language == "fr" else "STOP") in text
