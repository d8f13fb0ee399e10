"""Reading what a modem receives: stored and inline SMS, status reports, multipart reassembly.

One worker per modem handles announcements in order. A stored message is deleted from the
SIM only after the owner's callback returned: the callback commits it, so a crash in between
means the message is read again at the next start, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Coroutine, Hashable
from typing import TYPE_CHECKING, Any, Final

from modem.exceptions import CmsError, ModemDisconnectedError, ModemError, PduError
from modem.pdu import Deliver, StatusReport, decode
from modem.reassembly import AssembledSms, Reassembler
from modem.types import DeliveryReport, ReceivedSms

if TYPE_CHECKING:
    from modem.modem import Modem

_LOGGER = logging.getLogger(__name__)

# 3GPP TS 27.005 §3.2.5: "invalid memory index" — Quectel/Huawei's answer for an empty slot.
CMS_INVALID_INDEX: Final = 321
LIST_TIMEOUT: Final = 30.0

_STORED_RE: Final = re.compile(r'^\+C(?:MTI|DSI):\s*"?([A-Z_]*)"?\s*,\s*(\d+)')
_LIST_HEADER_RE: Final = re.compile(r"^\+CMGL:\s*(\d+)\s*,")
_PDU_RE: Final = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")

_Item = tuple[str, int | None, str | None]  # (kind, storage index, pdu)


class InboxReader:
    """The receive side of one modem."""

    def __init__(self, modem: Modem) -> None:
        self._modem = modem
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._reassembler = Reassembler(modem.config.reassembly_timeout_s)
        self._pdus: dict[Hashable, str] = {}
        self._inline_keys = itertools.count()
        self._unreadable: set[int] = set()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Read what is already stored, then follow the announcements."""
        if self._worker is None or self._worker.done():
            self._queue.put_nowait(("list", None, None))
            self._worker = asyncio.get_running_loop().create_task(
                self._run(), name=f"inbox {self._modem.name}"
            )

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def stop_soon(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    # ---- URC handlers (called by the AT channel; must not block)

    def on_stored_urc(self, line: str, _body: str | None) -> None:
        match = _STORED_RE.match(line)
        if match is None:
            _LOGGER.warning("%s: unreadable announcement %r", self._modem.name, line)
            return
        self._queue.put_nowait(("read", int(match.group(2)), None))

    def on_inline_urc(self, line: str, body: str | None) -> None:
        if body is None:
            _LOGGER.error("%s: %r lost its PDU line", self._modem.name, line)
            return
        self._queue.put_nowait(("pdu", None, body))

    # ---- worker

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            deadline = self._reassembler.next_deadline()
            try:
                if deadline is None:
                    item = await self._queue.get()
                else:
                    async with asyncio.timeout_at(deadline):
                        item = await self._queue.get()
            except TimeoutError:
                for message in self._reassembler.expire(loop.time()):
                    if not await self._step("expire", self._deliver(message)):
                        return
                continue
            if not await self._step(item[0], self._handle(item)):
                return

    async def _step(self, kind: str, step: Coroutine[Any, Any, None]) -> bool:
        """Run one receive step; False when the port is gone and the worker must end."""
        try:
            await step
        except ModemDisconnectedError:
            return False  # the owner reopens; stored messages are listed again then
        except ModemError as exc:
            _LOGGER.warning("%s: receive step %s failed: %s", self._modem.name, kind, exc)
        except Exception:
            # The owner's callback failed (its database is down...). The message stays on the
            # SIM and is read again at the next start; the worker must live on for the next
            # ones, and must not hand the error to whoever later stops it.
            _LOGGER.exception("%s: receive step %s failed", self._modem.name, kind)
        return True

    async def _handle(self, item: _Item) -> None:
        kind, index, pdu = item
        if kind == "list":
            for stored_index, stored_pdu in await self._list_stored():
                await self._process(stored_pdu, stored_index)
        elif kind == "read" and index is not None:
            stored = await self._read(index)
            if stored is not None:
                await self._process(stored, index)
        elif kind == "pdu" and pdu is not None:
            await self._process(pdu, None)

    async def _list_stored(self) -> list[tuple[int, str]]:
        lines = await self._modem.at("AT+CMGL=4", timeout=LIST_TIMEOUT)
        stored: list[tuple[int, str]] = []
        index: int | None = None
        for line in lines:
            match = _LIST_HEADER_RE.match(line)
            if match:
                index = int(match.group(1))
            elif index is not None and _PDU_RE.match(line):
                stored.append((index, line))
                index = None
            # Anything else is noise that survived the framer (a stray "~" or "é" line): taking
            # it for the PDU made a good message "undecodable" and left it stuck on the SIM.
        if stored:
            _LOGGER.info("%s: %d message(s) stored on the SIM", self._modem.name, len(stored))
        return stored

    async def _read(self, index: int) -> str | None:
        try:
            lines = await self._modem.at(f"AT+CMGR={index}")
        except CmsError as exc:
            if exc.code == CMS_INVALID_INDEX:
                return None  # already read and deleted (an announcement seen twice)
            raise
        body = [line for line in lines if _PDU_RE.match(line)]  # not noise: see _list_stored
        return body[0] if body else None

    async def _process(self, pdu: str, index: int | None) -> None:
        if index is not None and index in self._unreadable:
            return
        try:
            decoded = decode(pdu)
        except PduError as exc:
            await self._bad_pdu(pdu, index, exc)
            return
        if isinstance(decoded, StatusReport):
            await self._report(decoded)
            await self._delete(index)
        elif isinstance(decoded, Deliver):
            key: Hashable = index if index is not None else ("inline", next(self._inline_keys))
            self._pdus[key] = pdu
            message = self._reassembler.add(decoded, key, asyncio.get_running_loop().time())
            if message is not None:
                await self._deliver(message)
        else:
            _LOGGER.info("%s: stored SMS-SUBMIT at %s ignored", self._modem.name, index)

    async def _deliver(self, message: AssembledSms) -> None:
        pdus = tuple(self._pdus.pop(key, "") for key in message.keys)
        reference: int | None = None
        if message.parts_expected > 1 and pdus and pdus[0]:
            with contextlib.suppress(PduError):
                first = decode(pdus[0])
                if isinstance(first, Deliver) and first.concat is not None:
                    reference = first.concat.reference
        received = ReceivedSms(
            modem=self._modem.name,
            sender=message.sender,
            text=message.text,
            timestamp=message.timestamp,
            parts_expected=message.parts_expected,
            parts_received=message.parts_received,
            complete=message.complete,
            concat_reference=reference,
            pdus=pdus,
        )
        callback = self._modem.callbacks.on_sms
        if callback is not None:
            await callback(received)  # if this raises, nothing is deleted: read again later
        for key in message.keys:
            await self._delete(key if isinstance(key, int) else None)

    async def _report(self, report: StatusReport) -> None:
        callback = self._modem.callbacks.on_report
        if callback is not None:
            await callback(
                DeliveryReport(
                    modem=self._modem.name,
                    message_reference=report.message_reference,
                    recipient=report.recipient,
                    status=report.status,
                    discharge_time=report.discharge_time,
                )
            )

    async def _bad_pdu(self, pdu: str, index: int | None, error: PduError) -> None:
        _LOGGER.error("%s: undecodable PDU at %s: %s (%s)", self._modem.name, index, error, pdu)
        callback = self._modem.callbacks.on_bad_pdu
        if callback is None:
            if index is not None:
                self._unreadable.add(index)  # keep it on the SIM for a person to look at
            return
        await callback(pdu, error)
        await self._delete(index)

    async def _delete(self, index: int | None) -> None:
        if index is not None:
            await self._modem.delete_stored(index)
