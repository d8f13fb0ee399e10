"""`tocsin admin create`, `reset-password` and `disable-totp`: staff accounts, with a password
typed, piped in or (for a reset) made up and printed once; `disable-totp` is the recovery when
a staff member lost their authenticator."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys

from gateway.campaigns.admins import AdminAccounts, AdminError, AuditLog
from gateway.campaigns.models import Role
from gateway.campaigns.totp import TotpFactor
from gateway.config import ConfigError
from gateway.config import load as load_config
from gateway.storage.database import Database

# 16 URL-safe characters (96 bits): above the 12-character policy, easy to read out.
_TEMPORARY_BYTES = 12

_REASONS = {
    "username": "use letters, digits and . _ - @ only (64 at most)",
    "taken": "that username is taken",
    "too_short": "the password needs 12 characters or more",
    "too_long": "the password may have 128 characters at most",
    "common": "that password is too common",
}


async def create_admin(args: argparse.Namespace) -> int:
    """Ask or read the password, then create the account (no default password exists)."""
    path = _database_path(args)
    if path is None:
        return 1
    password = await asyncio.to_thread(_read_password, args.password_stdin)
    if password is None:
        return _fail("the two passwords differ")
    db = await Database.open(path)
    try:
        admin = await AdminAccounts(db).create(args.username, password, Role(args.role))
        await AuditLog(db).record(
            "admin.create", username="cli", detail=f"{admin.username} ({admin.role.value})"
        )
    except AdminError as exc:
        return _fail(_REASONS.get(exc.code, exc.code))
    finally:
        await db.close()
    print(f"created {admin.role.value} {admin.username!r}")
    return 0


async def reset_password(args: argparse.Namespace) -> int:
    """A new password for a staff account (a locked-out admin); their sessions end."""
    path = _database_path(args)
    if path is None:
        return 1
    temporary = not (args.prompt or args.password_stdin)
    if temporary:
        password: str | None = secrets.token_urlsafe(_TEMPORARY_BYTES)
    else:
        password = await asyncio.to_thread(_read_password, args.password_stdin)
    if password is None:
        return _fail("the two passwords differ")
    db = await Database.open(path)
    try:
        if not await AdminAccounts(db).set_password(args.username, password):
            return _fail(f"no staff account {args.username!r}")
        await db.write_fn(
            lambda conn: conn.execute(
                "DELETE FROM admin_session WHERE admin_id ="
                " (SELECT id FROM admin WHERE username = ?)",
                (args.username,),
            )
        )
        await AuditLog(db).record("admin.reset_password", username="cli", detail=args.username)
    except AdminError as exc:
        return _fail(_REASONS.get(exc.code, exc.code))
    finally:
        await db.close()
    if temporary:
        print(f"temporary password for {args.username!r}: {password}")
        print("give it by hand; `tocsin admin reset-password --prompt` sets one of their choice")
    else:
        print(f"password of {args.username!r} changed")
    return 0


async def disable_totp(args: argparse.Namespace) -> int:
    """Turn the second factor off for one account (audited); its password is unchanged."""
    path = _database_path(args)
    if path is None:
        return 1
    db = await Database.open(path)
    try:
        found = await db.read_fn(
            lambda conn: conn.execute(
                "SELECT id, totp_secret IS NOT NULL FROM admin WHERE username = ?",
                (args.username.strip(),),
            ).fetchone()
        )
        if found is None:
            return _fail(f"no staff account named {args.username!r}")
        if not found[1]:
            print(f"{args.username!r} has no second factor; nothing to do")
            return 0
        await TotpFactor(db).disable(int(found[0]))
        await AuditLog(db).record("totp.disable", username="cli", detail=args.username.strip())
    finally:
        await db.close()
    print(f"second factor disabled for {args.username!r}; they can enrol again after signing in")
    return 0


def _database_path(args: argparse.Namespace) -> str | None:
    """--database, or storage.path of --config (None after printing why not)."""
    if args.database is not None:
        return str(args.database)
    try:
        return load_config(args.config).get_str("storage.path")
    except ConfigError as exc:
        _fail(f"bad configuration: {exc} (or pass --database)")
        return None


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password again: ")
    return first if first == second else None


def _fail(message: str) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return 1
