"""Proof that a resident reads the email address their neighbour-alert copies would go to.

A link with a random token is mailed to the address; opening it and confirming marks that
address verified (`neighbour_preference.verified_email`). Copies go only to a verified address
that is still the profile's (store._EMAIL_RECIPIENTS); changing the profile's email clears the
proof (Residents.update_profile), so a new address needs a new link. The token is stored as a
SHA-256 and lives a day; at most one link per resident every few minutes, so the page cannot
be used to flood someone's mailbox.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Final

import aiosmtplib

from gateway.inbound.settings import InboundSettings
from gateway.storage.database import Database
from gateway.storage.times import to_ms, utc_now

_LOGGER = logging.getLogger(__name__)
TOKEN_LIFETIME: Final = timedelta(days=1)
# A second link within this time is not sent (the first one is on its way).
RESEND_AFTER: Final = timedelta(minutes=5)
_MAX_TOKEN: Final = 100

_SUBJECT: Final[dict[str, str]] = {
    "fr": "{town} : confirmez votre adresse courriel",
    "en": "{town}: confirm your email address",
}
_BODY: Final[dict[str, str]] = {
    "fr": "Bonjour,\n\nPour recevoir par courriel les alertes de vos voisins, confirmez cette"
    " adresse en ouvrant ce lien (valide 24 heures) :\n\n{link}\n\nSi vous n'avez rien demandé,"
    " ignorez ce message : aucune copie ne vous sera envoyée.\n\n-- \n{town}\n",
    "en": "Hello,\n\nTo receive your neighbours' alerts by email, confirm this address by opening"
    " this link (valid 24 hours):\n\n{link}\n\nIf you did not ask for this, ignore this message:"
    " no copy will be sent to you.\n\n-- \n{town}\n",
}


class EmailState(enum.StrEnum):
    """Where the profile's address stands."""

    NONE = "none"  # no address in the profile
    UNVERIFIED = "unverified"
    PENDING = "pending"  # a link was sent to it and not used yet
    VERIFIED = "verified"


class LinkOutcome(enum.StrEnum):
    """What asking for a link did."""

    SENT = "sent"
    TOO_SOON = "too_soon"
    NO_EMAIL = "no_email"
    DISABLED = "disabled"  # no SMTP server configured
    FAILED = "failed"  # the SMTP server refused or could not be reached


Send = Callable[[EmailMessage], Awaitable[object]]


class EmailVerification:
    """Sends verification links and accepts their tokens."""

    def __init__(
        self,
        db: Database,
        settings: InboundSettings,
        send: Send,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = db
        self._settings = settings
        self._send = send
        self._clock = clock

    async def state(self, resident_id: int) -> EmailState:
        """Verified, pending, unverified, or none, for the profile's current address."""
        now_ms = to_ms(self._clock())

        def read(conn: sqlite3.Connection) -> EmailState:
            row = conn.execute(
                "SELECT r.email, p.verified_email, p.pending_email, p.token_expires_at"
                " FROM resident r LEFT JOIN neighbour_preference p ON p.resident_id = r.id"
                " WHERE r.id = ?",
                (resident_id,),
            ).fetchone()
            if row is None or not row[0]:
                return EmailState.NONE
            email = str(row[0]).lower()
            if str(row[1] or "").lower() == email:
                return EmailState.VERIFIED
            if str(row[2] or "").lower() == email and int(row[3] or 0) > now_ms:
                return EmailState.PENDING
            return EmailState.UNVERIFIED

        return await self._db.read_fn(read)

    async def send_link(self, resident_id: int, link_base: str) -> LinkOutcome:
        """Mail a fresh link to the profile's address (`link_base` + /neighbours/email/verify)."""
        if not self._settings.email_enabled:
            return LinkOutcome.DISABLED
        token = secrets.token_urlsafe(32)
        now = self._clock()

        def store(conn: sqlite3.Connection) -> tuple[LinkOutcome, str, str]:
            row = conn.execute(
                "SELECT r.email, r.language, p.token_expires_at, p.pending_email"
                " FROM resident r LEFT JOIN neighbour_preference p ON p.resident_id = r.id"
                " WHERE r.id = ?",
                (resident_id,),
            ).fetchone()
            if row is None or not row[0]:
                return LinkOutcome.NO_EMAIL, "", ""
            email, language = str(row[0]), str(row[1])
            sent_at = int(row[2] or 0) - to_ms_span(TOKEN_LIFETIME)
            same = str(row[3] or "").lower() == email.lower()
            if same and to_ms(now) - sent_at < to_ms_span(RESEND_AFTER):
                return LinkOutcome.TOO_SOON, "", ""
            conn.execute(
                "INSERT INTO neighbour_preference (resident_id, pending_email, token_hash,"
                " token_expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (resident_id) DO UPDATE SET"
                " pending_email = excluded.pending_email, token_hash = excluded.token_hash,"
                " token_expires_at = excluded.token_expires_at",
                (resident_id, email, _hash(token), to_ms(now + TOKEN_LIFETIME)),
            )
            return LinkOutcome.SENT, email, language

        outcome, email, language = await self._db.write_fn(store)
        if outcome is not LinkOutcome.SENT:
            return outcome
        lang = language if language in _BODY else "fr"
        town = self._settings.town_name
        message = EmailMessage()
        message["From"] = self._settings.email_from
        message["To"] = email
        message["Subject"] = _SUBJECT[lang].format(town=town)
        # The language first: the link may be opened on a device without the language cookie.
        link = f"{link_base.rstrip('/')}/neighbours/email/verify?lang={lang}&token={token}"
        message.set_content(_BODY[lang].format(link=link, town=town))
        try:
            await self._send(message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            _LOGGER.warning("verification link for resident %d not sent: %s", resident_id, exc)
            await self._db.write_fn(lambda conn: _clear_token(conn, resident_id))
            return LinkOutcome.FAILED
        _LOGGER.info("verification link sent for resident %d", resident_id)
        return LinkOutcome.SENT

    async def confirm(self, token: str) -> int | None:
        """The resident whose address the token proves (now verified); None if it does not."""
        if not token or len(token) > _MAX_TOKEN:
            return None
        now_ms = to_ms(self._clock())

        def confirm(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT p.resident_id, p.pending_email, r.email FROM neighbour_preference p"
                " JOIN resident r ON r.id = p.resident_id"
                " WHERE p.token_hash = ? AND p.token_expires_at > ?",
                (_hash(token), now_ms),
            ).fetchone()
            if row is None or str(row[1]).lower() != str(row[2]).lower():
                return None  # unknown, expired, or the profile's address changed since
            conn.execute(
                "UPDATE neighbour_preference SET verified_email = pending_email,"
                " pending_email = '', token_hash = '', token_expires_at = 0"
                " WHERE resident_id = ?",
                (int(row[0]),),
            )
            return int(row[0])

        return await self._db.write_fn(confirm)


def to_ms_span(span: timedelta) -> int:
    """A duration in whole milliseconds."""
    return span // timedelta(milliseconds=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _clear_token(conn: sqlite3.Connection, resident_id: int) -> None:
    # The link never left: let the resident ask again at once.
    conn.execute(
        "UPDATE neighbour_preference SET pending_email = '', token_hash = '', token_expires_at = 0"
        " WHERE resident_id = ?",
        (resident_id,),
    )
