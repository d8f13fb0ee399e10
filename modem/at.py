"""The AT channel: one command in flight, its answer matched to it, URCs routed at all times.

A response ends only at a final result code matched as a whole line, never at a pause. Every
line is first checked against the URC table, also while a command is pending and while the
modem waits at the `> ` prompt, so a `+CMTI` arriving mid-command is never folded into (or lost
with) the command's answer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from modem.exceptions import (
    AtCommandError,
    AtTimeoutError,
    CmsError,
    ModemDisconnectedError,
    ModemError,
    PortClosedError,
    PromptTimeoutError,
    cme_error,
)
from modem.transport import Event, Line, Prompt, SerialLink

_LOGGER = logging.getLogger(__name__)

# Most commands answer within a few hundred ms; SIM access (CIMI, CPMS) can take a couple of s.
DEFAULT_TIMEOUT: Final = 10.0
# How long the modem may take to show the `> ` prompt after AT+CMGS=<n>.
PROMPT_TIMEOUT: Final = 10.0
# SIM800 manual: +CMGS max response time 60 s. Quectel EC25 manual: 120 s.
CMGS_TIMEOUT_SIMCOM: Final = 60.0
CMGS_TIMEOUT_QUECTEL: Final = 120.0
# A command its caller cancelled (shutdown, reset) is still answered by the modem. The next
# command first waits this long at most for that answer, so that it is not taken as its own.
ABANDONED_GRACE: Final = 5.0
# A command in flight when the module announces a reboot (RDY) was lost with it, unless it was
# written just as the module came up; the next command waits this long for such an answer.
REBOOT_GRACE: Final = 0.5
# A URC whose text may span lines (a USSD menu) is gathered for at most this many lines: a
# closing quote lost to noise must not swallow the rest of the conversation.
MAX_URC_LINES: Final = 24

CTRL_Z: Final = "\x1a"
ESC: Final = "\x1b"

# Command priorities: lower runs first when several wait for the channel.
PRIORITY_CONTROL: Final = 0  # watchdog, reset, init
PRIORITY_URGENT: Final = 10  # OTP sends
PRIORITY_NORMAL: Final = 50  # receive handling, probes
PRIORITY_BULK: Final = 90  # campaign sends

_FINAL_OK: Final = frozenset({"OK"})
_FINAL_ERROR: Final = frozenset(
    {"ERROR", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS", "NO DIALTONE"}
)
# These end a dial or answer; on any other command they are unsolicited (the call ended).
_CALL_RESULTS: Final = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "CONNECT"})
_HEX_RE: Final = re.compile(r"^[0-9A-Fa-f]+$")
_CME_RE: Final = re.compile(r"^\+CME ERROR: *(.+)$")
_CMS_RE: Final = re.compile(r"^\+CMS ERROR: *(.+)$")

# Verbose CME texts seen before AT+CMEE=1 takes effect, mapped to their numeric codes.
_CME_TEXTS: Final = {
    "phone failure": 0,
    "operation not allowed": 3,
    "operation not supported": 4,
    "sim not inserted": 10,
    "sim pin required": 11,
    "sim puk required": 12,
    "sim failure": 13,
    "sim busy": 14,
    "sim wrong": 15,
    "incorrect password": 16,
    "memory full": 20,
    "invalid index": 21,
    "not found": 22,
    "no network service": 30,
    "network timeout": 31,
}

UrcHandler = Callable[[str, str | None], None]
"""Called with the URC's line and, for two-line URCs (+CMT, +CDS), the line that follows."""


@dataclass(slots=True)
class _Urc:
    handler: UrcHandler
    two_lines: bool
    # For URCs whose text may hold line breaks: True once the gathered text is whole.
    complete: Callable[[str], bool] | None = None


@dataclass
class _Pending:
    command: str
    response_prefix: str | None
    call_command: bool
    echo: str
    data_echo: str | None = None
    lines: list[str] = field(default_factory=list)
    done: asyncio.Future[list[str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    prompt: asyncio.Future[None] | None = None


class _PriorityLock:
    """A lock whose waiters are served by priority, then arrival (priorities are data)."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    async def acquire(self, priority: int) -> None:
        if not self._locked and not self._waiters:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._counter), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release_to_next()  # we were handed the lock as we got cancelled
            raise

    def release(self) -> None:
        self._release_to_next()

    def _release_to_next(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._locked = False


def response_prefix(command: str) -> str | None:
    """`AT+CSQ` → `+CSQ:`; `AT^ICCID?` → `^ICCID:`: lines the command itself answers with."""
    match = re.match(r"^AT([+^$%][A-Z0-9]+)", command.upper())
    return f"{match.group(1)}:" if match else None


def classify_final(line: str, *, call_command: bool) -> str | None:
    """Return "ok", "error" or "call" if `line`, taken whole, is a final result code."""
    if line in _FINAL_OK:
        return "ok"
    if line in _FINAL_ERROR or _CME_RE.match(line) or _CMS_RE.match(line):
        return "error"
    if call_command and line in _CALL_RESULTS:
        return "call"
    return None


class AtChannel:
    """One serial port speaking AT; owns the URC table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._link: SerialLink | None = None
        self._lock = _PriorityLock()
        self._pending: _Pending | None = None
        self._abandoned: tuple[_Pending, float] | None = None  # and the loop time to give up
        self._urcs: dict[str, _Urc] = {}
        self._urc_awaiting_body: tuple[_Urc, str] | None = None
        self._urc_gathering: tuple[_Urc, str, int] | None = None  # urc, text so far, lines
        self._disconnect_listeners: list[Callable[[Exception | None], None]] = []
        self._closing = False
        self.timeouts = 0

    # ---- lifecycle

    async def open(self, port: str, *, baudrate: int = 115200, rtscts: bool = False) -> None:
        self._closing = False
        self._abandoned = None  # a new port: whatever the old one owed is gone with it
        self._link = await SerialLink.open(
            port,
            name=self.name,
            on_event=self._on_event,
            on_lost=self._on_lost,
            baudrate=baudrate,
            rtscts=rtscts,
        )

    async def close(self) -> None:
        self._closing = True
        link, self._link = self._link, None
        if link is not None:
            await link.close()
        self._fail_pending(ModemDisconnectedError(f"{self.name}: closed"))
        self._pending = self._abandoned = None

    @property
    def is_open(self) -> bool:
        return self._link is not None and self._link.is_open

    def on_disconnect(self, listener: Callable[[Exception | None], None]) -> None:
        """Be told once when the port goes away (unplugged, pty closed)."""
        self._disconnect_listeners.append(listener)

    def escape(self) -> None:
        """Send ESC: leaves a `> ` prompt left open by a crash or a timeout; ignored otherwise."""
        if self._link is not None and self._link.is_open:
            self._link.write(ESC.encode())

    def abort_pending(self, reason: str) -> None:
        """Fail the command in flight now: the module restarted, and most likely lost it."""
        pending = self._pending
        if pending is None or pending.done.done():
            return
        _LOGGER.info("%s: %r abandoned: %s", self.name, pending.command, reason)
        # Unless it was written just as the module came up: then its answer is still due, and
        # must not be taken for the next command's. A stand-in absorbs it, for a short while.
        stand_in = _Pending(
            command=pending.command,
            response_prefix=pending.response_prefix,
            call_command=pending.call_command,
            echo=pending.echo,
            data_echo=pending.data_echo,
        )
        self._fail_pending(AtCommandError(pending.command, reason))
        self._pending = stand_in
        stand_in.done.add_done_callback(_consume)
        self._abandoned = (stand_in, asyncio.get_running_loop().time() + REBOOT_GRACE)

    # ---- URC table

    def add_urc(
        self,
        prefix: str,
        handler: UrcHandler,
        *,
        two_lines: bool = False,
        complete: Callable[[str], bool] | None = None,
    ) -> None:
        """Route lines starting with `prefix` (e.g. "+CMTI:", "RING") to `handler`.

        With `complete`, the URC's text may span lines (a USSD answer with line breaks): the
        lines are joined with "\\n" until `complete(text)` is true, then handed over as one."""
        self._urcs[prefix] = _Urc(handler, two_lines, complete)

    # ---- commands

    async def command(
        self,
        command: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        data: str | None = None,
        prompt_timeout: float = PROMPT_TIMEOUT,
        priority: int = PRIORITY_NORMAL,
    ) -> list[str]:
        """Run one command; return its information lines, or raise its error.

        With `data`, wait for the `> ` prompt, then send `data` and Ctrl-Z (AT+CMGS).
        """
        await self._lock.acquire(priority)
        try:
            return await self._run(command, timeout, data, prompt_timeout)
        finally:
            self._lock.release()

    async def _run(
        self, command: str, timeout: float, data: str | None, prompt_timeout: float
    ) -> list[str]:
        await self._drain_abandoned()
        link = self._link
        if link is None or not link.is_open:
            raise PortClosedError(f"{self.name}: port is closed")
        upper = command.upper()
        pending = _Pending(
            command=command,
            response_prefix=response_prefix(command),
            call_command=upper.startswith(("ATD", "ATA")),
            echo=command.strip(),
            data_echo=data,
        )
        if data is not None:
            pending.prompt = asyncio.get_running_loop().create_future()
        self._pending = pending  # registered before the write: a fast answer is never missed
        abandoned = False
        try:
            link.write(command.encode("ascii") + b"\r")
            if pending.prompt is not None and data is not None:
                await self._await_prompt(pending, prompt_timeout)
                link.write(data.encode("ascii") + CTRL_Z.encode())
                pending.prompt = None  # the body is out: nothing to escape from any more
            async with asyncio.timeout(timeout):
                return await asyncio.shield(pending.done)
        except asyncio.CancelledError:
            # Without this, the answer still on its way would end the next command (a reset
            # cancels the inbox's AT+CMGL; AT+CFUN=1,1 then got CMGL's OK, and everything
            # after it was off by one).
            abandoned = self._abandon(pending, min(timeout, ABANDONED_GRACE))
            raise
        except PromptTimeoutError:
            # Already counted, and typed for the caller: "nothing was sent". The clause below
            # used to turn it into a plain AtTimeoutError ("maybe sent") as it is a TimeoutError.
            raise
        except TimeoutError:
            self.timeouts += 1
            # INFO, not WARNING: a timeout is often expected (syncing with a booting modem);
            # the caller decides whether it is a problem and logs it so.
            _LOGGER.info("%s: timeout after %g s on %r", self.name, timeout, command)
            # A slow modem may still answer: keep the command registered for a grace period so
            # that its late OK/ERROR is not taken as the answer of the next command.
            abandoned = self._abandon(pending, min(timeout, ABANDONED_GRACE))
            raise AtTimeoutError(command, timeout) from None
        finally:
            if not abandoned and self._pending is pending:  # not a stand-in (abort_pending)
                self._pending = None

    def _abandon(self, pending: _Pending, grace: float) -> bool:
        """Keep a cancelled command registered until its answer is in; False if none is due."""
        if pending.done.done() or self._link is None or not self._link.is_open:
            return False
        if pending.prompt is not None:
            self._link.write(ESC.encode())  # still at (or before) the > prompt: leave it
        pending.done.add_done_callback(_consume)
        self._abandoned = (pending, asyncio.get_running_loop().time() + grace)
        return True

    async def _drain_abandoned(self) -> None:
        """Let the answer of a cancelled command arrive before the next command is written."""
        if self._abandoned is None:
            return
        pending, deadline = self._abandoned
        try:
            async with asyncio.timeout_at(deadline):
                await asyncio.shield(pending.done)
        except asyncio.CancelledError:
            raise  # still abandoned: the next command drains it
        except TimeoutError:
            _LOGGER.info("%s: no answer to cancelled %r", self.name, pending.command)
        except ModemError:
            pass  # its failure concerns nobody any more
        if self._abandoned is not None and self._abandoned[0] is pending:
            self._abandoned = None
            if self._pending is pending:
                self._pending = None

    async def _await_prompt(self, pending: _Pending, timeout: float) -> None:
        assert pending.prompt is not None
        try:
            async with asyncio.timeout(timeout):
                # Whichever comes first: the prompt, or a final result (the modem refused).
                waiters: list[asyncio.Future[object]] = [pending.prompt, pending.done]  # type: ignore[list-item]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            # Leave the modem's text-entry state so the next command is read as a command.
            if self._link is not None and self._link.is_open:
                self._link.write(ESC.encode())
            self.timeouts += 1
            raise PromptTimeoutError(pending.command + " (prompt)", timeout) from None
        if pending.done.done():
            pending.done.result()  # raises the command's error
            raise AtCommandError(pending.command, "final result before the > prompt")

    # ---- incoming

    def _on_event(self, event: Event) -> None:
        pending = self._pending
        if pending is not None and pending.done.done():
            # The command already has its final result; its task just has not resumed yet.
            # Lines read in the same chunk (a +CUSD right after the OK of AT+CUSD) are URCs,
            # not part of the finished answer, where they would be silently lost.
            pending = None
        if isinstance(event, Prompt):
            if pending is not None and pending.prompt is not None and not pending.prompt.done():
                pending.prompt.set_result(None)
            else:
                _LOGGER.debug("%s: stray prompt ignored", self.name)
            return
        assert isinstance(event, Line)
        self._on_line(event.text, pending)

    def _on_line(self, line: str, pending: _Pending | None) -> None:
        if self._urc_gathering is not None and self._gather(line, pending):
            return
        if self._urc_awaiting_body is not None:
            urc, first = self._urc_awaiting_body
            self._urc_awaiting_body = None
            if _HEX_RE.match(line):
                self._dispatch_urc(urc, first, line)
                return
            # The body was lost to noise: hand over the header alone, then read this line as usual.
            _LOGGER.warning("%s: %r arrived without its PDU line", self.name, first)
            self._dispatch_urc(urc, first, None)
        if pending is not None:
            final = classify_final(line, call_command=pending.call_command)
            if final is not None:
                self._finish(pending, final, line)
                return
        matched = self._match_urc(line, pending)
        if matched is not None:
            if matched.complete is not None and not matched.complete(line):
                self._urc_gathering = (matched, line, 1)
            elif matched.two_lines:
                self._urc_awaiting_body = (matched, line)
            else:
                self._dispatch_urc(matched, line, None)
            return
        if pending is None:
            if classify_final(line, call_command=True) is None:
                _LOGGER.info("%s: unsolicited line without handler: %r", self.name, line)
            return
        if line in (pending.echo, pending.data_echo):
            return  # echo is on (before ATE0, or after a modem reboot)
        pending.lines.append(line)

    def _gather(self, line: str, pending: _Pending | None) -> bool:
        """One more line of a multi-line URC; False when `line` is not part of it."""
        assert self._urc_gathering is not None
        urc, text, count = self._urc_gathering
        ends_it = pending is not None and classify_final(line, call_command=pending.call_command)
        if ends_it or self._match_urc(line, pending) is not None:
            # The closing quote was lost: hand over what came; the line is read as usual.
            self._urc_gathering = None
            _LOGGER.warning("%s: %r ended without its closing line", self.name, text[:40])
            self._dispatch_urc(urc, text, None)
            return False
        text = f"{text}\n{line}"
        assert urc.complete is not None
        if urc.complete(text) or count + 1 >= MAX_URC_LINES:
            self._urc_gathering = None
            self._dispatch_urc(urc, text, None)
        else:
            self._urc_gathering = (urc, text, count + 1)
        return True

    def _match_urc(self, line: str, pending: _Pending | None) -> _Urc | None:
        for prefix, urc in self._urcs.items():
            if line.startswith(prefix):
                # A query answers with its own prefix (AT+CREG? → +CREG: ...); that is not a URC.
                if pending is not None and pending.response_prefix == prefix:
                    return None
                return urc
        return None

    def _dispatch_urc(self, urc: _Urc, line: str, body: str | None) -> None:
        try:
            urc.handler(line, body)
        except Exception:
            _LOGGER.exception("%s: URC handler failed on %r", self.name, line)

    def _finish(self, pending: _Pending, final: str, line: str) -> None:
        if pending.done.done():
            return
        if final == "ok" or line == "CONNECT":
            pending.done.set_result(pending.lines)
        else:  # an error code, or a call result such as BUSY or NO ANSWER
            pending.done.set_exception(self._error_for(pending, line))

    def _error_for(self, pending: _Pending, line: str) -> AtCommandError:
        for regex, make in ((_CME_RE, cme_error), (_CMS_RE, CmsError)):
            match = regex.match(line)
            if match:
                code = _error_code(match.group(1))
                return make(pending.command, code, pending.lines)
        return AtCommandError(pending.command, line, pending.lines)

    def _on_lost(self, exc: Exception | None) -> None:
        if self._closing:
            _LOGGER.debug("%s: port closed", self.name)
        else:
            _LOGGER.warning("%s: port lost (%s)", self.name, exc or "closed")
        self._link = None
        self._fail_pending(ModemDisconnectedError(f"{self.name}: port lost: {exc or 'closed'}"))
        listeners, self._disconnect_listeners = self._disconnect_listeners, []
        if self._closing:
            return  # a close we asked for is not news to anyone
        for listener in listeners:
            try:
                listener(exc)
            except Exception:
                _LOGGER.exception("%s: disconnect listener failed", self.name)

    def _fail_pending(self, error: Exception) -> None:
        pending = self._pending
        if pending is None:
            return
        for future in (pending.prompt, pending.done):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # mark retrieved: the awaiting side may be the other future


def _consume(future: asyncio.Future[list[str]]) -> None:
    """Mark the result of a command nobody awaits any more as retrieved."""
    if not future.cancelled():
        future.exception()


def _error_code(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return _CME_TEXTS.get(text.lower(), -1)
