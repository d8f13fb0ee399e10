"""systemd's service notification protocol (sd_notify), so `Type=notify` and the watchdog work.

Hand-written: the protocol is one datagram per message on the $NOTIFY_SOCKET unix socket, and
the only pure-Python package for it (sdnotify, last released 2017) is unmaintained; python3-systemd
would tie the virtualenv to a Debian build. Without NOTIFY_SOCKET (a terminal, a test, the demo)
every call does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Final

_LOGGER = logging.getLogger(__name__)

# systemd sets WATCHDOG_USEC; half of it is the interval its documentation recommends.
_WATCHDOG_FRACTION: Final = 0.5


class Notifier:
    """Sends READY=1, WATCHDOG=1, STATUS=… and STOPPING=1 to the service manager, if any."""

    def __init__(self, address: str | None = None) -> None:
        self._address = _socket_address(
            address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        )
        self._socket: socket.socket | None = None
        self._failing = False
        if self._address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # Never block the event loop: a manager that stops reading (its queue full) must
            # not freeze the service it supervises; a dropped STATUS= line is harmless.
            self._socket.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, *fields: str) -> None:
        """Send one datagram of KEY=VALUE lines; a lost manager is logged, never fatal."""
        if self._socket is None or self._address is None:
            return
        try:
            self._socket.sendto("\n".join(fields).encode(), self._address)
        except BlockingIOError:
            _LOGGER.debug("sd_notify: the manager's queue is full; %s dropped", fields[0])
            return
        except OSError as exc:
            if not self._failing:  # once, not at every status change
                _LOGGER.warning("sd_notify to %r failed: %s", self._address, exc)
            self._failing = True
            return
        if self._failing:
            _LOGGER.info("sd_notify to %r works again", self._address)
        self._failing = False

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def stopping(self, status: str = "stopping") -> None:
        self.notify("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def watchdog(self, interval_s: float | None = None) -> None:
        """Ping the watchdog from the event loop until cancelled: a blocked loop stops the pings.

        The interval is half of WATCHDOG_USEC, or `interval_s`; with neither, nothing runs."""
        interval = interval_s if interval_s is not None else watchdog_interval()
        if interval is None or not self.enabled:
            return
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(interval)


def watchdog_interval() -> float | None:
    """Seconds between pings from WATCHDOG_USEC (None when systemd asked for no watchdog)."""
    raw = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (a wrapper that exec'd us would reset it)
    with contextlib.suppress(ValueError):
        usec = int(raw)
        if usec > 0:
            return usec / 1_000_000 * _WATCHDOG_FRACTION
    return None


def _socket_address(raw: str) -> str | None:
    """A filesystem path, or an abstract name given with a leading '@' (sent as a NUL byte)."""
    if not raw:
        return None
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    _LOGGER.warning("NOTIFY_SOCKET=%r is neither a path nor an abstract name; ignored", raw)
    return None
