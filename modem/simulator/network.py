"""The simulated operator: routes SMS between modems and phones, holds what cannot be delivered
yet (as an SMSC retries), sends status reports and keeps a ground-truth log of every message."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from modem.pdu import Submit, encode_deliver, encode_status_report, tpdu_length
from modem.simulator.call_phone import CallRates
from modem.simulator.identity import number_key
from modem.simulator.timing import LatencyModel

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem
    from modem.simulator.phone import SimPhone

log = logging.getLogger(__name__)

SMSC = "+15140000000"
TP_ST_DELIVERED = 0x00
# 23.040 §9.2.3.15: 0x41 "incompatible destination", a permanent error: the SC gives up. Real
# networks answer an unallocated number with one of the 0x4X permanent codes; this is the one
# the simulator uses.
TP_ST_UNKNOWN_DESTINATION = 0x41
RETRY_S = 0.5  # how soon the SMSC tries again once a modem can take messages


@dataclass
class _Pending:
    """A PDU waiting for its modem, and what to do once the modem took it."""

    pdu: str
    status_report: bool
    on_delivered: Callable[[], None] | None = None


@dataclass
class _Assembly:
    """Parts of one concatenated message seen so far."""

    parts: dict[int, str] = field(default_factory=dict)
    reports: list[tuple[int, str, datetime]] = field(default_factory=list)  # mr, to, submitted


class SimNetwork:
    """Connects simulated modems and phones by number."""

    def __init__(
        self, *, seed: int = 0, scale: float = 1.0, log_path: Path | None = None, smsc: str = SMSC
    ) -> None:
        self.smsc = smsc
        self.latency = LatencyModel(random.Random(f"network:{seed}"), scale)
        self.modems: dict[str, SimulatedModem] = {}
        self.phones: dict[str, SimPhone] = {}
        self.log: list[dict[str, object]] = []
        self.log_path = log_path
        self._log_file: TextIO | None = None
        self._pending: dict[str, deque[_Pending]] = {}
        self._assemblies: dict[tuple[str, str, int, int], _Assembly] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # How phones without a behaviour of their own react to calls (busy / no answer rates).
        self.call_rates = CallRates(seed=seed)

    def attach(self, modem: SimulatedModem) -> None:
        """Give `modem` its number on this network."""
        modem.network = self
        self.modems[number_key(modem.number)] = modem
        self._pending.setdefault(number_key(modem.number), deque())

    def add_phone(self, phone: SimPhone) -> None:
        """Give `phone` its number on this network."""
        self.phones[number_key(phone.number)] = phone

    async def close(self) -> None:
        """Cancel deliveries in flight and close the log file."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- from modems --------------------------------------------------------------------------

    def submit(self, modem: SimulatedModem, submit: Submit, mr: int) -> None:
        """A modem sent one SMS-SUBMIT part (its +CMGS answer was `mr`)."""
        now = datetime.now(UTC)
        concat = submit.concat
        sequence, total = (concat.sequence, concat.total) if concat else (1, 1)
        self.record(
            "submit",
            sender=modem.number,
            to=submit.destination,
            text=submit.text,
            modem=modem.port,
            mr=mr,
            part=sequence,
            parts=total,
            reference=concat.reference if concat else None,
            status_report=submit.status_report,
        )
        key = (
            modem.number,
            number_key(submit.destination),
            concat.reference if concat else -1,
            total,
        )
        assembly = self._assemblies.setdefault(key, _Assembly())
        assembly.parts[sequence] = submit.text
        if submit.status_report:
            assembly.reports.append((mr, submit.destination, now))
        known = self._known(submit.destination)
        if not known:
            for report in assembly.reports:
                self._report(modem, *report, TP_ST_UNKNOWN_DESTINATION)
            assembly.reports.clear()
        if len(assembly.parts) < total:
            return
        del self._assemblies[key]
        text = "".join(assembly.parts[i] for i in sorted(assembly.parts))
        if known:
            self.spawn(self._route(modem, submit.destination, text, total, assembly.reports))
        else:
            log.info("network: %s sent to unknown number %s", modem.number, submit.destination)

    def modem_ready(self, modem: SimulatedModem) -> None:
        """`modem` can take messages again: the SMSC retries soon."""
        if self._pending.get(number_key(modem.number)):
            self.spawn(self._retry(modem))

    # -- from phones --------------------------------------------------------------------------

    async def deliver_from_phone(
        self, phone: SimPhone, to: str, text: str, *, reference: int, out_of_order: bool
    ) -> bool:
        """Carry a phone's SMS to its destination; False when the number is unknown."""
        await asyncio.sleep(self.latency.network())
        key = number_key(to)
        if key in self.phones:
            self.phones[key].receive(phone.number, text, parts=1)
        elif key in self.modems:
            modem = self.modems[key]
            pdus = encode_deliver(
                phone.number, text, timestamp=_local_now(), reference=reference, smsc=self.smsc
            )
            if out_of_order:
                pdus.reverse()
            self._queue(modem, [_Pending(pdu, status_report=False) for pdu in pdus])
        else:
            self.record("undeliverable", sender=phone.number, to=to, text=text)
            return False
        self.record("message", sender=phone.number, to=to, text=text, modem=_port_of(self, key))
        return True

    # -- shared -------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a delivery task owned by the network (cancelled by close())."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def record(self, event: str, **fields: object) -> None:
        """Append to the log (and to the JSON-lines file, flushed, for other processes)."""
        entry: dict[str, object] = {"time": datetime.now(UTC).isoformat(), "event": event}
        entry.update({("from" if k == "sender" else k): v for k, v in fields.items()})
        self.log.append(entry)
        if self.log_path is not None:
            if self._log_file is None:
                self._log_file = self.log_path.open("a", encoding="utf-8")
            self._log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._log_file.flush()

    def _known(self, number: str) -> bool:
        key = number_key(number)
        return key in self.phones or key in self.modems

    async def _route(
        self,
        origin: SimulatedModem,
        to: str,
        text: str,
        parts: int,
        reports: list[tuple[int, str, datetime]],
    ) -> None:
        await asyncio.sleep(self.latency.network())
        key = number_key(to)

        def delivered() -> None:
            self.record(
                "message", sender=origin.number, to=to, text=text, modem=origin.port, parts=parts
            )
            for report in reports:
                self._report(origin, *report, TP_ST_DELIVERED)

        if key in self.phones:
            self.phones[key].receive(origin.number, text, parts=parts, on_delivered=delivered)
            return
        target = self.modems[key]
        pdus = encode_deliver(origin.number, text, timestamp=_local_now(), smsc=self.smsc)
        pending = [_Pending(pdu, status_report=False) for pdu in pdus]
        pending[-1].on_delivered = delivered
        self._queue(target, pending)

    def _report(
        self, origin: SimulatedModem, mr: int, to: str, submitted: datetime, status: int
    ) -> None:
        self.spawn(self._send_report(origin, mr, to, submitted, status))

    async def _send_report(
        self, origin: SimulatedModem, mr: int, to: str, submitted: datetime, status: int
    ) -> None:
        await asyncio.sleep(self.latency.report())
        pdu = encode_status_report(
            message_reference=mr,
            recipient=to,
            service_centre_time=submitted,
            discharge_time=datetime.now(UTC),
            status=status,
            smsc=self.smsc,
        )
        self.record("report", to=origin.number, modem=origin.port, mr=mr, status=status)
        self._queue(origin, [_Pending(pdu, status_report=True)])

    def _queue(self, modem: SimulatedModem, items: list[_Pending]) -> None:
        self._pending[number_key(modem.number)].extend(items)
        self._flush(modem)

    def _flush(self, modem: SimulatedModem) -> None:
        queue = self._pending[number_key(modem.number)]
        while queue:
            item = queue[0]
            length = tpdu_length(item.pdu)
            if not modem.offer(item.pdu, status_report=item.status_report, tpdu_len=length):
                return
            queue.popleft()
            if item.on_delivered is not None:
                item.on_delivered()

    async def _retry(self, modem: SimulatedModem) -> None:
        await asyncio.sleep(self.latency.fixed(RETRY_S))
        self._flush(modem)


def _local_now() -> datetime:
    return datetime.now(UTC).astimezone()


def _port_of(network: SimNetwork, key: str) -> str | None:
    modem = network.modems.get(key)
    return modem.port if modem is not None else None
