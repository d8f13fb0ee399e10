"""A scripted modem on a real pseudo-terminal: the test writes exact bytes, reads what came in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty


class PtyPeer:
    """The far end of a pty: `port` is what the code under test opens."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        # Keep our slave fd open: with no slave open the master reads EIO in a tight loop.
        self.port = os.ttyname(self._slave)
        os.set_blocking(self.master, False)
        self._received = bytearray()
        self._data = asyncio.Event()
        asyncio.get_running_loop().add_reader(self.master, self._on_readable)
        self.closed = False

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            chunk = b""
        if chunk:
            self._received.extend(chunk)
            self._data.set()

    async def expect(self, data: bytes, timeout: float = 5.0) -> None:
        """Wait until `data` was written by the client, and consume up to it."""
        async with asyncio.timeout(timeout):
            while data not in self._received:
                self._data.clear()
                await self._data.wait()
        end = self._received.index(data) + len(data)
        del self._received[:end]

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    async def trickle(self, data: bytes, gap: float = 0.0) -> None:
        """Send one byte at a time (the engine must not care how bytes are split)."""
        for i in range(len(data)):
            os.write(self.master, data[i : i + 1])
            await asyncio.sleep(gap)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.master)
            os.close(self.master)
            os.close(self._slave)
