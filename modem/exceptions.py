"""One exception family for everything the modem layer can raise.

Callers catch `ModemError` for "the modem could not do it", or a subclass when the reason
changes what they do next (a CMS error decides retry vs fail; a SIM PIN error stops init).
"""

from __future__ import annotations


class ModemError(Exception):
    """Base of every error raised by the modem layer."""


class ModemDisconnectedError(ModemError, ConnectionError):
    """The serial port closed or vanished (USB unplugged, pty closed)."""


class PortClosedError(ModemDisconnectedError):
    """The port was already closed when a command was attempted: nothing was written."""


class AtTimeoutError(ModemError, TimeoutError):
    """No final result code arrived within the command's timeout."""

    def __init__(self, command: str, timeout: float) -> None:
        super().__init__(f"no answer to {command!r} within {timeout:g} s")
        self.command = command
        self.timeout = timeout


class PromptTimeoutError(AtTimeoutError):
    """No `> ` prompt came: the message body was never written, so nothing was sent."""


class AtCommandError(ModemError):
    """The modem answered a command with a failure result code (ERROR, BUSY, ...)."""

    def __init__(self, command: str, result: str, lines: list[str] | None = None) -> None:
        super().__init__(f"{command!r} failed: {result}")
        self.command = command
        self.result = result
        self.lines = lines or []


class CmeError(AtCommandError):
    """`+CME ERROR: <n>`: an equipment/SIM error (3GPP TS 27.007 §9.2)."""

    def __init__(self, command: str, code: int, lines: list[str] | None = None) -> None:
        super().__init__(command, f"+CME ERROR: {code}", lines)
        self.code = code


class SimNotInsertedError(CmeError):
    """CME 10: no SIM in the slot."""


class SimPinRequiredError(CmeError):
    """CME 11: the SIM wants its PIN (and none, or a wrong one, was configured)."""


class SimPukRequiredError(CmeError):
    """CME 12: the SIM is locked after wrong PINs; a person must enter the PUK."""


class SimFailureError(CmeError):
    """CME 13: the SIM does not answer."""


class SimBusyError(CmeError):
    """CME 14 (or 515 on some modules): the SIM or module is still starting; retry soon."""


class IncorrectPasswordError(CmeError):
    """CME 16: the PIN given was wrong."""


class CmsError(AtCommandError):
    """`+CMS ERROR: <n>`: a message service error (3GPP TS 27.005 §3.2.5)."""

    def __init__(self, command: str, code: int, lines: list[str] | None = None) -> None:
        super().__init__(command, f"+CMS ERROR: {code}", lines)
        self.code = code


class PduError(ModemError, ValueError):
    """A PDU could not be encoded or decoded; the only error the codec lets escape."""


_CME_SUBCLASSES: dict[int, type[CmeError]] = {
    10: SimNotInsertedError,
    11: SimPinRequiredError,
    12: SimPukRequiredError,
    13: SimFailureError,
    14: SimBusyError,
    16: IncorrectPasswordError,
    515: SimBusyError,  # SIMCom/Quectel: "please wait, init or command processing in progress"
}


def cme_error(command: str, code: int, lines: list[str] | None = None) -> CmeError:
    """The most specific `CmeError` subclass for a code."""
    return _CME_SUBCLASSES.get(code, CmeError)(command, code, lines)
