"""Passwords: argon2id hashes, a length rule and a common-passwords list, no composition rules."""

from __future__ import annotations

import asyncio
import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.residents.errors import WeakPassword

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (64 MiB, t=3):
# ~50 ms on a Raspberry Pi 4, so a login is not a denial-of-service lever.
_HASHER = PasswordHasher()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased; read once."""
    text = (
        resources.files("gateway.residents")
        .joinpath("data/common-passwords.txt")
        .read_text("utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_policy(password: str, *, min_length: int, max_length: int) -> None:
    """Raise WeakPassword(code) with code too_short, too_long or common."""
    if len(password) < min_length:
        raise WeakPassword("too_short")
    if len(password) > max_length:
        raise WeakPassword("too_long")
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        raise WeakPassword("common")


async def hash_password(password: str) -> str:
    """argon2id PHC string, computed off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash (no account enumeration by timing)."""
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the number has no account, so both paths take as long."""
    return _HASHER.hash("tocsin-no-such-account")


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
