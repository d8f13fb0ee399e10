"""Phone numbers as residents type them → E.164, refusing numbers a gateway must never text."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from gateway.residents.errors import InvalidNumber

# Numbers a resident's handset answers on; everything else (toll-free, premium, shared cost,
# pagers, UAN, voicemail) costs the town money or reaches a service, not a person.
_ALLOWED_TYPES = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.VOIP,
    }
)
_MAX_INPUT = 40


def normalize(raw: str, regions: tuple[str, ...]) -> str:
    """E.164 form of `raw`, or InvalidNumber; local input is read in the first region."""
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT or not regions:
        raise InvalidNumber(raw)
    try:
        number = phonenumbers.parse(text, regions[0])
    except NumberParseException:
        raise InvalidNumber(raw) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(raw)
    if phonenumbers.region_code_for_number(number) not in regions:
        raise InvalidNumber(raw)
    if phonenumbers.number_type(number) not in _ALLOWED_TYPES:
        raise InvalidNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """The national form residents recognise (514 555-0101), for pages and messages."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def spellings(e164: str) -> list[str]:
    """The ways a number may be written in stored text: E.164, without +, national forms."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return [e164]
    national = str(number.national_number)
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    forms = [e164, e164.lstrip("+"), national, "0" + national, shown]
    forms.append(shown.replace("(", "").replace(") ", " "))  # as the neighbour relay shows it
    return list(dict.fromkeys(forms))


def display_for(e164: str, region: str) -> str:
    """National form for the town's own region (514 555-0101), international for others."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
