"""Targeting, consent, STOP and deduplication; the plain-GSM variant; the streets CSV parser."""

from __future__ import annotations

import pytest

from gateway.campaigns.reference import parse_streets_csv
from gateway.campaigns.settings import CampaignSettings, parse_networks
from gateway.campaigns.targeting import ContactPoint, Target, TargetError, TargetKind, plan
from gateway.campaigns.texts import plain_gsm, segments


def point(rid: int, kind: str, number: str, **kw: object) -> ContactPoint:
    values: dict[str, object] = {
        "resident_id": rid,
        "name": f"R{rid}",
        "language": "fr",
        "consent_sms": True,
        "consent_voice": True,
        "kind": kind,
        "number": number,
    }
    values.update(kw)
    return ContactPoint(**values)  # type: ignore[arg-type]


def test_a_household_number_gets_one_message_per_channel() -> None:
    points = [
        point(1, "sms", "+15145550101"),
        point(2, "sms", "+15145550101"),
        point(2, "voice", "+15145550101"),
        point(3, "sms", "+15145550103"),
    ]
    result = plan(points, ("sms", "voice"), override_consent=False)
    assert sorted((r.channel, r.number) for r in result.recipients) == [
        ("sms", "+15145550101"),
        ("sms", "+15145550103"),
        ("voice", "+15145550101"),
    ]
    shared = next(r for r in result.recipients if r.channel == "sms" and r.number.endswith("101"))
    assert shared.residents == ("R1", "R2")
    assert result.duplicates_merged == 1
    assert result.residents_reached == 3


def test_consent_is_per_channel_and_emergencies_may_override() -> None:
    points = [
        point(1, "sms", "+15145550101", consent_sms=False),
        point(1, "voice", "+15145550101", consent_voice=True),
        point(2, "voice", "+15145550102", consent_voice=False),
    ]
    result = plan(points, ("sms", "voice"), override_consent=False)
    assert [(r.channel, r.number) for r in result.recipients] == [("voice", "+15145550101")]
    assert result.without_consent == 2
    forced = plan(points, ("sms", "voice"), override_consent=True)
    assert len(forced.recipients) == 3
    assert forced.without_consent == 0


def test_stop_is_honoured_even_in_an_emergency() -> None:
    points = [point(1, "sms", "+15145550101", opted_out=True), point(1, "voice", "+15145550101")]
    result = plan(points, ("sms", "voice"), override_consent=True)
    assert [r.channel for r in result.recipients] == ["voice"]
    assert result.opted_out == 1


def test_channel_choice_filters_contacts() -> None:
    points = [point(1, "sms", "+15145550101"), point(1, "voice", "+15145550101")]
    assert [r.channel for r in plan(points, ("voice",), override_consent=False).recipients] == [
        "voice"
    ]


def test_mixed_languages_on_one_number_use_the_town_default() -> None:
    points = [point(1, "sms", "+15145550101", language="en"), point(2, "sms", "+15145550101")]
    [recipient] = plan(points, ("sms",), override_consent=False, default_language="fr").recipients
    assert recipient.language == "fr"
    [alone] = plan(points[:1], ("sms",), override_consent=False).recipients
    assert alone.language == "en"


def test_targets_validate_and_round_trip() -> None:
    with pytest.raises(TargetError):
        Target(TargetKind.ZONES)
    with pytest.raises(TargetError):
        Target(TargetKind.RANGE, street_id=1, civic_from=20, civic_to=10)
    target = Target(TargetKind.RANGE, street_id=3, civic_from=10, civic_to=99)
    assert Target.from_json(target.to_json()) == target
    where, params = target.where()
    assert "BETWEEN" in where
    assert params == [3, 10, 99]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Ça coûte être naïf, ç", "Ça coute etre naif, c"),
        ("l’eau « potable » — déjà", 'l\'eau " potable " - déjà'),
        ("cœur", "coeur"),
        ("emoji 🚒", "emoji ?"),
    ],
)
def test_plain_gsm_variant(text: str, plain: str) -> None:
    assert plain_gsm(text) == plain
    assert segments(plain_gsm(text)).encoding == "gsm7"


def test_one_accent_doubles_the_cost() -> None:
    text = "Fermeture de la rue Principale demain de 8 h à 17 h pour travaux d'aqueduc. " * 2
    assert segments(text).parts == 1
    assert segments(text + "ê").parts == 3
    assert segments(text + "ê").forcing_chars == "ê"


def test_streets_csv_parser_reports_rejected_rows() -> None:
    rows, rejected = parse_streets_csv("\ufeffName,Zone\nRUE A,Nord\n\nRUE B\n ,Est\nrue a,Sud\n")
    assert rows == [("RUE A", "Nord")]
    assert rejected == [(4, "columns"), (5, "name"), (6, "duplicate")]
    assert parse_streets_csv("street;zone\n") == ([], [(1, "header")])


def test_lan_networks() -> None:
    settings = CampaignSettings(allowed_networks=parse_networks(["10.0.0.0/8", "::1/128"]))
    assert settings.allows("10.1.2.3")
    assert settings.allows("::ffff:10.1.2.3")
    assert settings.allows("::1")
    assert not settings.allows("192.168.1.1")
    assert not settings.allows(None)
    assert not settings.allows("not an address")
    assert CampaignSettings().allows("192.168.1.1")
    with pytest.raises(ValueError, match="allowed_networks"):
        parse_networks(["nope"])
