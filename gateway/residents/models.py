"""What the residents repositories return: plain frozen dataclasses, no rows."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from gateway.residents.errors import InvalidField

# Canada Post: letter digit letter, space optional, digit letter digit; D F I O Q U never
# appear, and W Z never lead.
_POSTAL_CODE = re.compile(r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]) ?(\d[ABCEGHJ-NPRSTV-Z]\d)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LANGUAGES = ("fr", "en")
_SHORT = 80
_LONG = 200


class ContactKind(enum.StrEnum):
    """How a contact point is reached (the seed's Voix / SMS)."""

    VOICE = "voice"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class Street:
    """One entry of the town's street list."""

    id: int
    city: str
    name: str
    zone: str | None


@dataclass(frozen=True, slots=True)
class Contact:
    """A number alerts reach; active only once verified."""

    id: int
    resident_id: int
    kind: ContactKind
    number: str
    description: str
    active: bool
    verified: bool


@dataclass(frozen=True, slots=True)
class Profile:
    """The fields a resident edits on the profile page (validated by `clean_profile`)."""

    last_name: str = ""
    first_name: str = ""
    language: str = "fr"
    city: str = ""
    civic_number: str = ""
    street_id: int | None = None
    apartment: str = ""
    postal_code: str = ""
    email: str = ""
    consent_sms_alerts: bool = False
    consent_voice_alerts: bool = False
    consent_neighbour_alerts: bool = False
    hide_my_number: bool = True


@dataclass(frozen=True, slots=True)
class Resident:
    """A registered person; `phone` is the login number."""

    id: int
    phone: str
    password_hash: str
    profile: Profile
    sms_prompt_done: bool
    created_at: datetime
    updated_at: datetime
    # False once staff deactivated them: no alert reaches them and they cannot sign in.
    active: bool = True

    @property
    def has_password(self) -> bool:
        """False for residents imported from another system until they reset it."""
        return self.password_hash.startswith("$argon2")


def clean_postal_code(raw: str) -> str:
    """'j6w1t6' → 'J6W 1T6'; empty stays empty; InvalidField otherwise."""
    text = raw.strip().upper()
    if not text:
        return ""
    match = _POSTAL_CODE.match(text)
    if match is None:
        raise InvalidField("postal_code")
    return f"{match.group(1)} {match.group(2)}"


def clean_profile(profile: Profile, *, required: bool) -> Profile:
    """Trim and check every field; `required`: names, civic number and postal code needed."""
    values = {
        "last_name": profile.last_name.strip(),
        "first_name": profile.first_name.strip(),
        "city": profile.city.strip(),
        "civic_number": profile.civic_number.strip(),
        "apartment": profile.apartment.strip(),
        "email": profile.email.strip(),
    }
    for name, value in values.items():
        if len(value) > (_LONG if name == "email" else _SHORT):
            raise InvalidField(name, "too_long")
    if required:
        for name in ("last_name", "first_name", "civic_number"):
            if not values[name]:
                raise InvalidField(name, "required")
    if values["civic_number"] and not re.fullmatch(r"\d{1,6}[A-Za-z]?", values["civic_number"]):
        raise InvalidField("civic_number")
    if values["email"] and not _EMAIL.match(values["email"]):
        raise InvalidField("email")
    if profile.language not in LANGUAGES:
        raise InvalidField("language")
    postal_code = clean_postal_code(profile.postal_code)
    if required and not postal_code:
        raise InvalidField("postal_code", "required")
    return Profile(
        last_name=values["last_name"],
        first_name=values["first_name"],
        language=profile.language,
        city=values["city"],
        civic_number=values["civic_number"],
        street_id=profile.street_id,
        apartment=values["apartment"],
        postal_code=postal_code,
        email=values["email"],
        consent_sms_alerts=profile.consent_sms_alerts,
        consent_voice_alerts=profile.consent_voice_alerts,
        consent_neighbour_alerts=profile.consent_neighbour_alerts,
        hide_my_number=profile.hide_my_number,
    )
