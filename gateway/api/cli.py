"""`tocsin api token create|list|revoke`: API tokens from the command line (audited)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from gateway.api.tokens import ApiToken, ApiTokens, TokenError
from gateway.campaigns.admins import AuditLog
from gateway.campaigns.models import Role
from gateway.config import DEFAULT_CONFIG_PATH, ConfigError
from gateway.config import load as load_config
from gateway.storage.database import Database

_REASONS = {
    "name": "give a name of 1 to 64 printable characters",
    "role": "the role must be operator or viewer",
    "taken": "a live token already has that name (revoke it first, or pick another)",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `api` command and its sub-commands."""
    api = commands.add_parser("api", help="tokens of the HTTP API")
    api_commands = api.add_subparsers(title="api commands", metavar="ACTION")
    token = api_commands.add_parser("token", help="create, list or revoke API tokens")
    token_commands = token.add_subparsers(title="token commands", metavar="ACTION")
    create = token_commands.add_parser("create", help="a new token, printed once")
    create.add_argument("name", help="what uses it, e.g. 'travaux-publics'")
    create.add_argument("--role", choices=("operator", "viewer"), default="viewer")
    create.set_defaults(run=create_token)
    listing = token_commands.add_parser("list", help="every token (never the secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(run=list_tokens)
    revoke = token_commands.add_parser("revoke", help="stop a token at once")
    revoke.add_argument("name", help="the token's name (or #ID)")
    revoke.set_defaults(run=revoke_token)
    for sub in (create, listing, revoke):
        sub.add_argument(
            "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML configuration file"
        )
        sub.add_argument(
            "--database", type=Path, default=None, help="the SQLite file (overrides the config's)"
        )


async def create_token(args: argparse.Namespace) -> int:
    """Print the secret once, on its own line (easy to pipe into a secret store)."""
    db = await _open(args)
    if db is None:
        return 1
    try:
        made = await ApiTokens(db).create(args.name, Role(args.role), created_by="cli")
        await AuditLog(db).record("api.token.create", username="cli", detail=_describe(made.token))
    except TokenError as exc:
        return _fail(_REASONS.get(exc.code, exc.code))
    finally:
        await db.close()
    print(
        f"created {made.token.role.value} token {made.token.name!r} (#{made.token.id});"
        " it is shown only now:",
        file=sys.stderr,
    )
    print(made.secret, flush=True)
    return 0


async def list_tokens(args: argparse.Namespace) -> int:
    """One line per token: id, name, role, prefix, created, last used, revoked."""
    db = await _open(args)
    if db is None:
        return 1
    try:
        tokens = await ApiTokens(db).all()
    finally:
        await db.close()
    for token in tokens:
        row = {
            "id": token.id,
            "name": token.name,
            "role": token.role.value,
            "prefix": token.prefix,
            "created_by": token.created_by,
            "created_at": token.created_at.isoformat(timespec="seconds"),
            "last_used_at": _when(token.last_used_at),
            "revoked_at": _when(token.revoked_at),
        }
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            state = f"revoked {row['revoked_at']}" if token.revoked_at else "live"
            print(
                f"#{token.id}\t{token.name}\t{token.role.value}\t{token.prefix}…\t"
                f"created {row['created_at']}\tlast used {row['last_used_at'] or 'never'}\t{state}"
            )
    return 0


async def revoke_token(args: argparse.Namespace) -> int:
    """By name (the live token of that name) or #ID."""
    db = await _open(args)
    if db is None:
        return 1
    tokens = ApiTokens(db)
    try:
        name: str = args.name
        found = (
            await tokens.get(int(name[1:]))
            if name.startswith("#") and name[1:].isdigit()
            else await tokens.find_live(name)
        )
        revoked = await tokens.revoke(found.id) if found is not None else None
        if revoked is None:
            return _fail(f"no live token {name!r}")
        await AuditLog(db).record("api.token.revoke", username="cli", detail=_describe(revoked))
    finally:
        await db.close()
    print(f"revoked token {revoked.name!r} (#{revoked.id})")
    return 0


def _describe(token: ApiToken) -> str:
    return f"#{token.id} {token.name!r} ({token.role.value}, {token.prefix}…)"


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


async def _open(args: argparse.Namespace) -> Database | None:
    if args.database is not None:
        path = args.database
    else:
        try:
            path = load_config(args.config).get_str("storage.path")
        except ConfigError as exc:
            _fail(f"bad configuration: {exc} (or pass --database)")
            return None
    return await Database.open(path)


def _fail(message: str) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return 1
