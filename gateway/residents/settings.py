"""Resident-facing settings, with documented defaults, until gateway/config.py declares them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# Keys the composition root reads from gateway.config (once declared there) into this class.
CONFIG_KEYS: dict[str, str] = {
    "town.name": "town_name",
    "town.region": "regions",
    "town.language": "default_language",
    "town.contact_number": "contact_number",
    "residents.city": "city",
    "residents.otp_valid_s": "otp_lifetime",
    "residents.otp_max_tries": "otp_max_tries",
    "residents.voice_fallback_s": "voice_fallback",
    "residents.budget_number_15min": "budget_number_15min",
    "residents.budget_number_day": "budget_number_day",
    "residents.budget_ip_hour": "budget_ip_hour",
    "residents.budget_global_hour": "budget_global_hour",
    "residents.session_idle_s": "session_idle",
    "residents.session_absolute_s": "session_absolute",
    "residents.captcha_max_number": "captcha_max_number",
    "residents.signin_number_failures": "signin_number_failures",
    "residents.signin_client_failures": "signin_client_failures",
    "residents.signin_lock_s": "signin_lock",
}


@dataclass(frozen=True)
class ResidentSettings:
    """Every knob of registration, codes, budgets and sessions, in one place for tests."""

    town_name: str = "Ville de Démo"
    # ISO 3166 regions whose numbers residents may register (the first one parses local input).
    regions: tuple[str, ...] = ("CA",)
    default_language: str = "fr"
    contact_number: str = ""
    # The city preselected on the profile page.
    city: str = "Ville de Démo"
    # A code's life: long enough to walk to the phone, short enough to limit guessing.
    otp_lifetime: timedelta = timedelta(minutes=10)
    otp_max_tries: int = 5
    # A code sent by SMS and not used this long after is also spoken in a call (zero: never).
    voice_fallback: timedelta = timedelta(0)
    # Codes and account notices sent to one number: a person asks again once or twice.
    budget_number_15min: int = 3
    budget_number_day: int = 10
    # Per client address: a household or office may register several people.
    budget_ip_hour: int = 20
    # All codes per hour, town-wide: a bot farm must not drain the SIMs' credit.
    budget_global_hour: int = 300
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    # ALTCHA work factor: about 0.5 s on a cheap phone at the default.
    captcha_max_number: int = 100_000
    # Failed sign-ins before a lock: a person mistypes a few times; a guesser tries thousands.
    # An address is shared by a household or the town hall's wifi, hence the higher limit.
    signin_number_failures: int = 5
    signin_client_failures: int = 20
    signin_lock: timedelta = timedelta(minutes=1)
    password_min_length: int = 8
    password_max_length: int = 128

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> ResidentSettings:
        """Build from gateway config values (dotted keys); absent keys keep their default."""
        kwargs: dict[str, Any] = {}
        for key, name in CONFIG_KEYS.items():
            if key not in values or values[key] is None:
                continue
            value = values[key]
            if name == "regions":
                value = tuple(r.strip().upper() for r in str(value).split(",") if r.strip())
            elif name in {
                "otp_lifetime",
                "voice_fallback",
                "session_idle",
                "session_absolute",
                "signin_lock",
            }:
                value = timedelta(seconds=float(value))
            kwargs[name] = value
        return cls(**kwargs)
