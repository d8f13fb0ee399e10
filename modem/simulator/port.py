"""A pseudo-terminal that a client opens through a stable symlink, as if it were a USB modem."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tty
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

READ_SIZE = 4096
# A client that stops reading fills the pty buffer; a real USB modem then drops data, so do we
# after this long rather than queueing forever.
WRITE_STALL_S = 2.0


class PtyPort:
    """Owns the master side of a pty; the slave stays open here so the master never hangs up."""

    def __init__(self, link: Path, on_data: Callable[[bytes], None]) -> None:
        self.link = link
        self.trickle_gap_s: float | None = None
        self._on_data = on_data
        self._master = -1
        self._slave = -1
        self._slave_path = ""
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._master >= 0

    @property
    def slave_path(self) -> str:
        """The /dev/pts/N the symlink points to."""
        return self._slave_path

    def open(self) -> None:
        """Create the pty, point the symlink at it and start serving it on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._slave_path = os.ttyname(self._slave)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(self._slave_path, tmp)
        os.replace(tmp, self.link)
        self._queue = asyncio.Queue()
        self._loop.add_reader(self._master, self._on_readable)
        self._writer = self._loop.create_task(self._write_loop(), name=f"pty-writer {self.link}")
        log.debug("%s: pty open at %s", self.link, self._slave_path)

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; dropped silently when the port is closed (unplugged)."""
        if self.is_open and data:
            self._queue.put_nowait(data)

    def discard_output(self) -> None:
        """Forget bytes not yet written (the module lost power)."""
        while not self._queue.empty():
            self._queue.get_nowait()

    async def close(self) -> None:
        """Stop serving, close both fds (the client's reads fail) and remove the symlink."""
        if not self.is_open:
            return
        assert self._loop is not None
        self._loop.remove_reader(self._master)
        self._loop.remove_writer(self._master)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        os.close(self._master)
        os.close(self._slave)
        self._master = self._slave = -1
        with contextlib.suppress(FileNotFoundError):
            if os.readlink(self.link) == self._slave_path:
                self.link.unlink()
        log.debug("%s: pty %s closed", self.link, self._slave_path)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EIO cannot happen while we hold the slave, but never spin
            log.debug("%s: read failed: %s", self.link, exc)
            return
        if data:
            log.debug("%s: <- %r", self.link, data)
            self._on_data(data)

    async def _write_loop(self) -> None:
        while True:
            data = await self._queue.get()
            gap = self.trickle_gap_s
            if gap is None:
                await self._write_all(data)
                continue
            for offset in range(len(data)):
                await self._write_all(data[offset : offset + 1])
                await asyncio.sleep(gap)

    async def _write_all(self, data: bytes) -> None:
        log.debug("%s: -> %r", self.link, data)
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                if not await self._wait_writable():
                    log.warning("%s: client not reading, dropped %d bytes", self.link, len(view))
                    return
                continue
            except OSError as exc:
                log.debug("%s: write failed: %s", self.link, exc)
                return
            view = view[written:]

    async def _wait_writable(self) -> bool:
        assert self._loop is not None
        ready: asyncio.Future[None] = self._loop.create_future()
        self._loop.add_writer(self._master, _resolve, ready)
        try:
            await asyncio.wait_for(ready, WRITE_STALL_S)
        except TimeoutError:
            return False
        finally:
            self._loop.remove_writer(self._master)
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
