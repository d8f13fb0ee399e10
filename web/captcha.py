"""ALTCHA proof of work, self-hosted: `altcha` makes and checks challenges, our JS solves them.

The `altcha` PyPI package has no widget, and the npm widget injects inline styles that our CSP
forbids, so web/static/altcha.js is a small solver of our own (SHA-256 via WebCrypto). Without
JavaScript the form cannot be sent; the page says so and gives the town office's number.
Spent solutions are kept in SQLite (gateway.residents.spent), so a restart replays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from altcha import v1 as altcha_v1

from gateway.residents.spent import SpentSolutions

# Long enough to fill the form slowly; a solved challenge is accepted once.
CHALLENGE_LIFETIME = timedelta(minutes=20)
_MAX_PAYLOAD = 2000


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the page hands to the solver (as data- attributes)."""

    algorithm: str
    challenge: str
    salt: str
    signature: str
    max_number: int


class Captcha:
    """Makes challenges and accepts each solution once, until it expires."""

    def __init__(self, hmac_key: str, max_number: int, spent: SpentSolutions) -> None:
        self._key = hmac_key
        self._max_number = max_number
        self._spent = spent

    def challenge(self) -> Challenge:
        """A fresh challenge for one form."""
        made = altcha_v1.create_challenge(
            altcha_v1.ChallengeOptions(
                hmac_key=self._key,
                max_number=self._max_number,
                expires=datetime.now(UTC) + CHALLENGE_LIFETIME,
            )
        )
        return Challenge(
            algorithm=made.algorithm,
            challenge=made.challenge,
            salt=made.salt,
            signature=made.signature,
            max_number=made.max_number,
        )

    async def verify(self, payload: str) -> bool:
        """True for a valid, unexpired solution not seen before (then it is spent)."""
        if not payload or len(payload) > _MAX_PAYLOAD:
            return False
        try:
            decoded = altcha_v1.Payload.from_base64(payload)
            ok, _error = altcha_v1.verify_solution(decoded, self._key, check_expires=True)
        except (ValueError, TypeError, KeyError, AttributeError):
            return False
        if not ok or decoded.algorithm != "SHA-256":
            return False
        # The challenge carries its own expiry; a spent row is kept at least as long.
        until = datetime.now(UTC) + CHALLENGE_LIFETIME
        return await self._spent.spend(decoded.signature, until)
