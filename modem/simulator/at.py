"""Parsing of AT command lines and formatting of answers, with 27.007 result-code rules."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem

CRLF = "\r\n"

# Verbose texts for AT+CMEE=2 (27.007 §9.2, 27.005 §3.2.5); other codes fall back to numbers.
CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    14: "SIM busy",
    16: "incorrect password",
    30: "no network service",
    100: "unknown",
}
CMS_TEXT = {
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
}


class Kind(enum.Enum):
    """The four forms of an extended command (27.007 §4.1)."""

    EXEC = "exec"  # AT+CMD
    READ = "read"  # AT+CMD?
    TEST = "test"  # AT+CMD=?
    SET = "set"  # AT+CMD=<args>


@dataclass(frozen=True)
class AtCommand:
    """One command from a command line: its name (upper case), form and raw arguments."""

    line: str
    name: str
    kind: Kind
    args: str = ""

    def params(self) -> list[str]:
        """Comma-separated arguments with surrounding quotes removed (commas in quotes kept)."""
        out: list[str] = []
        current: list[str] = []
        quoted = False
        for char in self.args:
            if char == '"':
                quoted = not quoted
            elif char == "," and not quoted:
                out.append("".join(current).strip())
                current = []
            else:
                current.append(char)
        out.append("".join(current).strip())
        return out

    def int_params(self) -> list[int | None]:
        """Arguments as integers; empty ones are None. ValueError if one is not a number."""
        return [int(p) if p else None for p in self.params()]


def parse(line: str) -> AtCommand | None:
    """The command on a line like "AT+CMGS=23"; None when the line is not an AT command."""
    text = line.strip()
    if len(text) < 2 or text[:2].upper() != "AT":
        return None
    body = text[2:]
    if not body:
        return AtCommand(text, "", Kind.EXEC)
    if body[0] in "+^$&":
        end = 1
        while end < len(body) and (body[end].isalnum() or body[end] == "_"):
            end += 1
        name, rest = body[:end].upper(), body[end:]
    else:  # basic command: one letter and an optional number, e.g. E0, I, Z
        name, rest = body[0].upper(), body[1:]
        return AtCommand(text, name, Kind.SET if rest else Kind.EXEC, rest)
    if rest == "?":
        return AtCommand(text, name, Kind.READ)
    if rest == "=?":
        return AtCommand(text, name, Kind.TEST)
    if rest.startswith("="):
        return AtCommand(text, name, Kind.SET, rest[1:])
    return AtCommand(text, name, Kind.EXEC, rest)


@dataclass(frozen=True)
class Reply:
    """Information lines and the final result of one command."""

    lines: tuple[str, ...] = ()
    final: str = "OK"  # "OK", "ERROR", or a family's own word (Huawei "COMMAND NOT SUPPORT")
    cme: int | None = None
    cms: int | None = None
    after: tuple[str, ...] = field(default=())  # URC-like lines printed right after the final


def ok(*lines: str) -> Reply:
    """Success with information lines."""
    return Reply(lines=lines)


def error() -> Reply:
    """A bare ERROR."""
    return Reply(final="ERROR")


def cme(code: int) -> Reply:
    """An equipment error (+CME ERROR), shown per AT+CMEE."""
    return Reply(final="ERROR", cme=code)


def cms(code: int) -> Reply:
    """A message service error (+CMS ERROR), shown per AT+CMEE."""
    return Reply(final="ERROR", cms=code)


def final_text(reply: Reply, cmee: int) -> str:
    """The final result code line, honouring AT+CMEE (0 bare ERROR, 1 numeric, 2 verbose)."""
    for prefix, code, texts in (("+CME", reply.cme, CME_TEXT), ("+CMS", reply.cms, CMS_TEXT)):
        if code is None:
            continue
        if cmee == 0:
            return "ERROR"
        if cmee == 2 and code in texts:
            return f"{prefix} ERROR: {texts[code]}"
        return f"{prefix} ERROR: {code}"
    return reply.final


def frame(line: str) -> bytes:
    """One response line as the module sends it (verbose mode, V1): CR LF line CR LF."""
    return (CRLF + line + CRLF).encode("latin-1", errors="replace")


Handler = Callable[["SimulatedModem", AtCommand], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """A handler and whether it needs an unlocked, initialised SIM."""

    handler: Handler
    needs_sim: bool = False


CommandTable = dict[str, CommandSpec]
