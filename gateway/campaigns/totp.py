"""The optional second factor of staff accounts: RFC 6238 codes, enrolment, replay and lockout.

pyotp computes the codes (HMAC-SHA1, 30 s, 6 digits: what every authenticator app expects) and
the otpauth:// URI; this module keeps what pyotp leaves to its caller: which 30-second step was
last accepted (a code is good once), how many wrong codes in a row (then a lockout), and that
the factor turns on only after a first code proves the app holds the secret.
"""

from __future__ import annotations

import enum
import hmac
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno

from gateway.storage.database import Database
from gateway.storage.times import opt_from_ms, to_ms, utc_now

STEP_S = 30  # RFC 6238's default, the only one authenticator apps all accept
DIGITS = 6
# One step either side: a phone clock off by up to ~30 s, or a code typed as it changed.
WINDOW_STEPS = 1
# Defaults of admin.totp_max_failures and admin.totp_lockout_s: 5 guesses at a window of three
# codes in 10^6 give a guesser ~1.5e-5 per lockout.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
ISSUER = "Tocsin"


class CodeResult(enum.StrEnum):
    """What checking a code found."""

    OK = "ok"
    WRONG = "wrong"  # not a code of the window (counted)
    REPLAYED = "replayed"  # a code of a step already used (counted)
    LOCKED = "locked"  # too many wrong codes lately: not even checked
    NOT_ENROLLED = "not_enrolled"  # no secret to check against


@dataclass(frozen=True, slots=True)
class TotpStatus:
    """An account's second factor as the account page shows it."""

    enabled: bool
    pending: bool  # a secret was issued but no code has confirmed it yet
    locked_until: datetime | None


def clean_code(raw: str) -> str:
    """Digits only ('123 456' as apps show it is fine); '' when it cannot be a code."""
    digits = "".join(ch for ch in raw if not ch.isspace() and ch != "-")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else ""


def provisioning_uri(secret: str, username: str, town: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=username, issuer_name=f"{ISSUER} {town}".strip()
    )


def qr_svg(uri: str, title: str) -> str:
    """The URI as an inline SVG QR code (dark on white, so it scans on any page theme)."""
    code = segno.make(uri, error="m")
    svg: str = code.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, omitsize=True
    )
    return svg.replace("<svg ", '<svg role="img" class="qr" ', 1)


class TotpFactor:
    """The TOTP columns of the admin table; the only code that reads the secret."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_failures: int = MAX_FAILURES,
        lockout: timedelta = LOCKOUT,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_failures = max(1, max_failures)
        self._lockout_ms = int(lockout.total_seconds() * 1000)

    async def status(self, admin_id: int) -> TotpStatus:
        """Enabled, pending enrolment, lockout."""
        row = await self._row(admin_id)
        if row is None:
            return TotpStatus(False, False, None)
        locked = opt_from_ms(row["totp_locked_until"])
        if locked is not None and locked <= self._clock():
            locked = None
        enabled = bool(row["totp_enabled"])
        return TotpStatus(enabled, not enabled and row["totp_secret"] is not None, locked)

    async def begin(self, admin_id: int) -> str:
        """A new secret for an account without the factor; it is off until `confirm`."""
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        changed = await self._db.write_fn(
            lambda conn: (
                conn.execute(
                    "UPDATE admin SET totp_secret = ?, totp_last_step = NULL, totp_failures = 0"
                    " WHERE id = ? AND totp_enabled = 0",
                    (secret, admin_id),
                ).rowcount
            )
        )
        if changed != 1:
            raise ValueError("the second factor is already on")
        return secret

    async def pending_secret(self, admin_id: int) -> str | None:
        """The secret being enrolled (to show it again), None when none or already on."""
        row = await self._row(admin_id)
        if row is None or row["totp_enabled"] or row["totp_secret"] is None:
            return None
        return str(row["totp_secret"])

    async def confirm(self, admin_id: int, code: str) -> CodeResult:
        """Turn the factor on when `code` matches the pending secret."""
        return await self.check(admin_id, code, enrolling=True)

    async def check(self, admin_id: int, code: str, *, enrolling: bool = False) -> CodeResult:
        """A sign-in (or enrolment) code: window ±1 step, never the same step twice."""
        now = self._clock()
        now_ms = to_ms(now)

        def verify(conn: sqlite3.Connection) -> CodeResult:
            row = conn.execute(
                "SELECT totp_secret, totp_enabled, totp_last_step, totp_failures,"
                " totp_locked_until FROM admin WHERE id = ?",
                (admin_id,),
            ).fetchone()
            if row is None or row[0] is None or bool(row[1]) == enrolling:
                return CodeResult.NOT_ENROLLED
            if row[4] is not None and int(row[4]) > now_ms:
                return CodeResult.LOCKED
            step = _matching_step(str(row[0]), clean_code(code), now)
            last = None if row[2] is None else int(row[2])
            if step is not None and (last is None or step > last):
                conn.execute(
                    "UPDATE admin SET totp_last_step = ?, totp_failures = 0,"
                    " totp_locked_until = NULL, totp_enabled = 1 WHERE id = ?",
                    (step, admin_id),
                )
                return CodeResult.OK
            failures = int(row[3]) + 1
            lock = failures >= self._max_failures
            conn.execute(
                "UPDATE admin SET totp_failures = ?, totp_locked_until = ? WHERE id = ?",
                (0 if lock else failures, now_ms + self._lockout_ms if lock else None, admin_id),
            )
            return CodeResult.WRONG if step is None else CodeResult.REPLAYED

        return await self._db.write_fn(verify)

    async def disable(self, admin_id: int) -> bool:
        """Remove the secret (the CLI's recovery, or the account page after a code)."""
        return await self._db.write_fn(
            lambda conn: (
                conn.execute(
                    "UPDATE admin SET totp_secret = NULL, totp_enabled = 0, totp_last_step = NULL,"
                    " totp_failures = 0, totp_locked_until = NULL WHERE id = ?",
                    (admin_id,),
                ).rowcount
                == 1
            )
        )

    async def _row(self, admin_id: int) -> sqlite3.Row | None:
        rows = await self._db.read_fn(
            lambda conn: conn.execute(
                "SELECT totp_secret, totp_enabled, totp_locked_until FROM admin WHERE id = ?",
                (admin_id,),
            ).fetchall()
        )
        return rows[0] if rows else None


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step of the window whose code equals `code` (constant-time compare), or None."""
    if not code:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    found = None
    for offset in range(-WINDOW_STEPS, WINDOW_STEPS + 1):
        moment = now + timedelta(seconds=offset * STEP_S)
        # Every candidate is compared, so timing does not tell which step matched.
        if hmac.compare_digest(totp.at(moment), code):
            found = totp.timecode(moment)
    return found
