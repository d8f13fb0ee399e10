"""A GSM modem: init, identity, signal, SMS send and receive, USSD — over one `AtChannel`.

Received messages stay on the SIM until the owner's callback has returned (the gateway commits
them first), so a crash between reading and committing loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from modem import gsm7
from modem.at import (
    DEFAULT_TIMEOUT,
    PRIORITY_CONTROL,
    PRIORITY_NORMAL,
    AtChannel,
    UrcHandler,
)
from modem.exceptions import (
    AtCommandError,
    ModemDisconnectedError,
    ModemError,
    PduError,
    SimBusyError,
)
from modem.families import GENERIC, Family, detect_family, parse_iccid
from modem.inbox import InboxReader
from modem.pdu import encode_submit, segment_info
from modem.types import (
    DeliveryReport,
    Identity,
    ModemState,
    ReceivedSms,
    Registration,
    SentPart,
    SentSms,
    Signal,
)
from modem.ussd import (
    DCS_GSM7,
    UssdAnswer,
    UssdError,
    UssdStatus,
    UssdTimeoutError,
    parse_cusd,
)
from modem.ussd import decode_answer as decode_cusd_answer
from modem.ussd import is_complete as ussd_complete

_LOGGER = logging.getLogger(__name__)

# After power-up a module answers +CME ERROR: 14 (SIM busy) or 515 for a few seconds.
INIT_BUSY_DELAYS: Final = (0.5, 1.0, 2.0, 4.0, 8.0)
# How many plain "AT" to try when syncing with a modem that may still be booting.
SYNC_ATTEMPTS: Final = 5
SYNC_TIMEOUT: Final = 2.0
# After AT+CFUN=1,1 a module is silent while it reboots: SIM800 ~5 s, EC25 up to ~15 s.
BOOT_TIMEOUT: Final = 40.0
# The network answers a USSD request in a few seconds; some carriers take up to ~20 s.
USSD_TIMEOUT: Final = 30.0
# Reading the whole SIM storage (CMGL) on a full 50-slot SIM can take several seconds.
LIST_TIMEOUT: Final = 30.0

SmsCallback = Callable[[ReceivedSms], Awaitable[None]]
ReportCallback = Callable[[DeliveryReport], Awaitable[None]]
BadPduCallback = Callable[[str, PduError], Awaitable[None]]
RegistrationCallback = Callable[[Registration], None]


@dataclass(frozen=True)
class ModemConfig:
    port: str
    name: str = ""
    baudrate: int = 115200
    rtscts: bool = False  # off by default: a bare SIM800 UART breaks with it on
    pin: str | None = None
    storage: str = "SM"
    reassembly_timeout_s: float = 600.0
    # The module's second serial port for call audio (PCM frames), where the family has one.
    audio_port: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.port


@dataclass
class ModemCallbacks:
    """What the owner wants to hear about; every callback is optional."""

    on_sms: SmsCallback | None = None
    on_report: ReportCallback | None = None
    on_bad_pdu: BadPduCallback | None = None
    on_registration: RegistrationCallback | None = None
    on_disconnect: Callable[[], None] | None = None


class Modem:
    """One modem; `open()` runs the init sequence, `close()` stops everything it started."""

    def __init__(self, config: ModemConfig, callbacks: ModemCallbacks | None = None) -> None:
        self.config = config
        self.name = config.label
        self.callbacks = callbacks or ModemCallbacks()
        self.state = ModemState.CLOSED
        self.family: Family = GENERIC
        self.identity: Identity | None = None
        self.registration = Registration(4)
        self._channel = AtChannel(self.name)
        self._inbox = InboxReader(self)
        self._concat_refs: dict[str, int] = {}
        self._ussd_waiter: asyncio.Future[UssdAnswer] | None = None
        self._rebooted = False
        self._install_urcs()

    # ---- lifecycle

    async def open(self) -> None:
        """Open the port and initialise; raises `ModemError` if the modem cannot be brought up."""
        self.state = ModemState.INITIALISING
        await self.open_port()
        try:
            await self.initialise()
        except BaseException:
            await self.close()
            raise

    async def open_port(self) -> None:
        """Only the serial port, no init sequence: for a survey that changes nothing."""
        await self._channel.open(
            self.config.port, baudrate=self.config.baudrate, rtscts=self.config.rtscts
        )
        self._channel.on_disconnect(self._on_port_lost)

    async def close(self) -> None:
        await self._inbox.stop()
        await self._channel.close()
        self.state = ModemState.CLOSED

    async def initialise(self) -> None:
        """The init sequence; safe to run again after the module rebooted."""
        self.state = ModemState.INITIALISING
        self._rebooted = False
        await self.sync()
        await self.at("ATE0", priority=PRIORITY_CONTROL)
        await self.at("AT+CMEE=1", priority=PRIORITY_CONTROL)
        manufacturer = _info(await self.at("AT+CGMI"))
        model = _info(await self.at("AT+CGMM"))
        revision = _info(await self.at("AT+CGMR"))
        revision = revision.removeprefix("+CGMR:").removeprefix("Revision:").strip()
        imei = _info(await self.at("AT+CGSN"))
        self.family = detect_family(manufacturer, model)
        await self._unlock_sim()
        imsi = _info(await self._retry_busy("AT+CIMI")) or None
        iccid: str | None = None
        with contextlib.suppress(AtCommandError):
            iccid = parse_iccid(await self._retry_busy(self.family.iccid_command), self.family)
        self.identity = Identity(manufacturer, model, revision, imei, imsi, iccid, self.family.name)
        await self.at("AT+CMGF=0")
        storage = self.config.storage
        await self._retry_busy(f'AT+CPMS="{storage}","{storage}","{storage}"')
        await self._set_cnmi()
        await self.at("AT+CREG=2")
        if self.family.has_cereg:
            with contextlib.suppress(AtCommandError):
                await self.at("AT+CEREG=2")
        with contextlib.suppress(AtCommandError):
            await self.at("AT+COPS=3,0")
        self.registration = await self.query_registration()
        self.state = ModemState.READY
        _LOGGER.info(
            "%s: ready (%s %s, IMEI %s, %s)",
            self.name,
            manufacturer,
            model,
            imei,
            self.registration.name,
        )
        self._inbox.start()

    async def sync(self) -> None:
        """Get an OK to a plain AT, leaving any half-typed state (a `> ` prompt) first."""
        last: Exception | None = None
        for _ in range(SYNC_ATTEMPTS):
            self._channel.escape()
            try:
                await self._channel.command("AT", timeout=SYNC_TIMEOUT, priority=PRIORITY_CONTROL)
                return
            except (AtCommandError, TimeoutError) as exc:
                last = exc
        raise ModemError(f"{self.name}: no answer to AT ({last})")

    async def reset(self) -> None:
        """Reboot the module (AT+CFUN=1,1) and initialise it again."""
        await self._inbox.stop()
        with contextlib.suppress(ModemError):
            await self.at("AT+CFUN=1,1", priority=PRIORITY_CONTROL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOOT_TIMEOUT
        while True:
            if not self._channel.is_open:
                with contextlib.suppress(ModemDisconnectedError):
                    await self._channel.open(
                        self.config.port, baudrate=self.config.baudrate, rtscts=self.config.rtscts
                    )
                    self._channel.on_disconnect(self._on_port_lost)
            try:
                if self._channel.is_open:
                    await self.initialise()
                    return
            except (ModemError, TimeoutError) as exc:
                if loop.time() > deadline:
                    raise ModemError(f"{self.name}: did not come back after reset: {exc}") from exc
            await asyncio.sleep(0.5)

    # ---- for other layers on the same channel (voice calls)

    def add_urc(self, prefix: str, handler: UrcHandler) -> None:
        """Let a layer above (modem.voice) hear its own unsolicited lines on this channel."""
        self._channel.add_urc(prefix, handler)

    # ---- plain commands

    async def at(
        self, command: str, *, timeout: float = DEFAULT_TIMEOUT, priority: int = PRIORITY_NORMAL
    ) -> list[str]:
        """Run one AT command on this modem's channel."""
        return await self._channel.command(command, timeout=timeout, priority=priority)

    async def ping(self, timeout: float = SYNC_TIMEOUT) -> None:
        """The watchdog's probe: raises if the modem does not answer AT."""
        await self._channel.command("AT", timeout=timeout, priority=PRIORITY_CONTROL)

    async def signal(self) -> Signal:
        lines = await self.at("AT+CSQ")
        match = re.search(r"\+CSQ:\s*(\d+)", " ".join(lines))
        return Signal.from_csq(int(match.group(1)) if match else 99)

    async def query_registration(self) -> Registration:
        lines = await self.at("AT+CREG?")
        for line in lines:
            if line.startswith("+CREG:"):
                return parse_creg(line, query=True)
        return Registration(4)

    async def operator(self) -> str | None:
        lines = await self.at("AT+COPS?")
        match = re.search(r'\+COPS:\s*\d+,\d+,"([^"]*)"', " ".join(lines))
        return match.group(1) if match else None

    async def probe(self) -> dict[str, object]:
        """Everything an installer wants to see about this modem, as JSON-ready values."""
        assert self.identity is not None
        signal = await self.signal()
        registration = await self.query_registration()
        return {
            "port": self.config.port,
            "family": self.identity.family,
            "manufacturer": self.identity.manufacturer,
            "model": self.identity.model,
            "revision": self.identity.revision,
            "imei": self.identity.imei,
            "imsi": self.identity.imsi,
            "iccid": self.identity.iccid,
            "operator": await self.operator(),
            "registration": registration.name,
            "registered": registration.registered,
            "signal": {"rssi": signal.rssi, "dbm": signal.dbm, "bars": signal.bars},
        }

    async def ussd(self, code: str, timeout: float = USSD_TIMEOUT) -> str:
        """Send a USSD code (e.g. the SIM balance, `*100#`) and return the network's answer.

        Raises `UssdError` (no usable answer), `UssdTimeoutError`, or the `CmeError` the
        module gave (no network, SIM trouble)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[UssdAnswer] = loop.create_future()
        self._ussd_waiter = waiter
        argument = code
        if self.family.ussd_packed:
            argument = gsm7.pack_septets(gsm7.encode(code)).hex().upper()
        try:
            await self.at(f'AT+CUSD=1,"{argument}",{DCS_GSM7}', timeout=timeout)
            async with asyncio.timeout(timeout):
                answer = await waiter
        except TimeoutError:
            await self._end_ussd_session()
            raise UssdTimeoutError(f"{self.name}: no USSD answer within {timeout:g} s") from None
        finally:
            self._ussd_waiter = None
        if answer.status is UssdStatus.MORE:
            # A menu waits for our reply; leaving it open blocks the next request.
            await self._end_ussd_session()
        try:
            return decode_cusd_answer(answer)
        except UssdError as exc:
            raise UssdError(f"{self.name}: {exc}") from None

    # ---- SMS

    async def send_sms(
        self,
        destination: str,
        text: str,
        *,
        status_report: bool = True,
        validity_minutes: int | None = 24 * 60,
        priority: int = PRIORITY_NORMAL,
        on_part_sent: Callable[[SentPart], None] | None = None,
    ) -> SentSms:
        """Send `text` (GSM-7 or UCS-2, concatenated if long); one +CMGS reference per part.

        `on_part_sent` hears of each part as the network accepts it, so that a failure on
        part 3 of 4 still leaves the owner knowing which parts went out.
        """
        reference = self._concat_refs.get(destination, random.randrange(256))
        parts = encode_submit(
            destination,
            text,
            reference=reference,
            status_report=status_report,
            validity_minutes=validity_minutes,
        )
        if len(parts) > 1:
            self._concat_refs[destination] = (reference + 1) % 256
        sent: list[SentPart] = []
        for sequence, part in enumerate(parts, start=1):
            lines = await self._channel.command(
                f"AT+CMGS={part.tpdu_length}",
                data=part.pdu,
                timeout=self.family.cmgs_timeout,
                priority=priority,
            )
            match = re.search(r"\+CMGS:\s*(\d+)", " ".join(lines))
            if match is None:
                raise AtCommandError("AT+CMGS", "no +CMGS reference in the answer", lines)
            result = SentPart(sequence, int(match.group(1)))
            sent.append(result)
            if on_part_sent is not None:
                on_part_sent(result)
        return SentSms(destination, segment_info(text).encoding, tuple(sent))

    async def delete_stored(self, index: int) -> None:
        await self.at(f"AT+CMGD={index}")

    # ---- internals

    async def _unlock_sim(self) -> None:
        lines = await self._retry_busy("AT+CPIN?")
        state = _info(lines, "+CPIN:").removeprefix("+CPIN:").strip()
        if state == "READY":
            return
        if state == "SIM PIN":
            if not self.config.pin:
                raise ModemError(f"{self.name}: the SIM wants a PIN and none is configured")
            await self.at(f'AT+CPIN="{self.config.pin}"', priority=PRIORITY_CONTROL)
            await self._retry_busy("AT+CPIN?")
            return
        raise ModemError(f"{self.name}: SIM not usable: {state or lines}")

    async def _retry_busy(self, command: str) -> list[str]:
        """Run a SIM-touching command, waiting out 'SIM busy' right after boot."""
        for delay in (*INIT_BUSY_DELAYS, None):
            try:
                return await self.at(command)
            except SimBusyError:
                if delay is None:
                    raise
                _LOGGER.info("%s: SIM busy on %s, retrying in %g s", self.name, command, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _set_cnmi(self) -> None:
        try:
            await self.at(self.family.cnmi)
        except AtCommandError:
            # Unknown module that refuses ds=2: status reports inline instead.
            fallback = "AT+CNMI=2,1,0,1,0"
            if self.family.cnmi == fallback:
                raise
            _LOGGER.info("%s: %s refused, using %s", self.name, self.family.cnmi, fallback)
            await self.at(fallback)

    def _install_urcs(self) -> None:
        channel = self._channel
        channel.add_urc("+CMTI:", self._inbox.on_stored_urc)
        channel.add_urc("+CDSI:", self._inbox.on_stored_urc)
        channel.add_urc("+CMT:", self._inbox.on_inline_urc, two_lines=True)
        channel.add_urc("+CDS:", self._inbox.on_inline_urc, two_lines=True)
        channel.add_urc("+CUSD:", self._on_cusd, complete=ussd_complete)
        for prefix in ("+CREG:", "+CEREG:", "+CGREG:"):
            channel.add_urc(prefix, self._on_creg)
        for prefix in ("RDY", "^SYSSTART"):
            channel.add_urc(prefix, self._on_boot)
        for prefix in (
            "+CPIN:",
            "+CFUN:",
            "Call Ready",
            "SMS Ready",
            "SMS DONE",
            "PB DONE",
            "+QIND:",
            "+QUSIM:",
            "^SIMST:",
            "^RSSI:",
            "^MODE:",
            "^BOOT:",
            "^SRVST:",
            "+CPMS:",
        ):
            channel.add_urc(prefix, self._on_info)

    def _on_creg(self, line: str, _body: str | None) -> None:
        registration = parse_creg(line, query=False)
        if registration != self.registration:
            _LOGGER.info("%s: registration %s", self.name, registration.name)
        self.registration = registration
        if self.callbacks.on_registration is not None:
            self.callbacks.on_registration(registration)

    def _on_cusd(self, line: str, _body: str | None) -> None:
        waiter = self._ussd_waiter
        if waiter is None or waiter.done():
            _LOGGER.info("%s: USSD answer with nobody waiting", self.name)
            return
        try:
            waiter.set_result(parse_cusd(line, packed=self.family.ussd_packed))
        except ModemError as exc:
            waiter.set_exception(exc)

    async def _end_ussd_session(self) -> None:
        with contextlib.suppress(ModemError, TimeoutError):
            await self.at("AT+CUSD=2")

    def _on_boot(self, line: str, _body: str | None) -> None:
        # A command in flight was lost with the old boot; without this it holds the channel
        # until its timeout (30 s for the inbox's AT+CMGL) and initialise() waits behind it.
        self._channel.abort_pending(f"the modem restarted ({line})")
        if self.state is ModemState.READY:
            # The module rebooted on its own (brown-out, watchdog): its settings are gone.
            _LOGGER.warning("%s: modem restarted by itself (%s)", self.name, line)
            self._rebooted = True

    @property
    def rebooted(self) -> bool:
        """True after an unrequested reboot: the owner should call `initialise()` again."""
        return self._rebooted

    def _on_info(self, line: str, _body: str | None) -> None:
        _LOGGER.debug("%s: %s", self.name, line)

    def _on_port_lost(self, exc: Exception | None) -> None:
        self.state = ModemState.DISCONNECTED
        self._inbox.stop_soon()
        if self._ussd_waiter is not None and not self._ussd_waiter.done():
            self._ussd_waiter.set_exception(ModemDisconnectedError(f"{self.name}: port lost"))
        if self.callbacks.on_disconnect is not None:
            self.callbacks.on_disconnect()


def _info(lines: list[str], prefix: str = "") -> str:
    """The first information line of an answer, or "" (identity commands answer one line).

    A line without any ASCII letter or digit ("~", "é") is noise the framer let through, not an
    answer: taken as the first line it became the IMEI, or made AT+CPIN? fail the whole init.
    """
    answers = [line.strip() for line in lines if any(c.isascii() and c.isalnum() for c in line)]
    preferred = [line for line in answers if prefix and line.startswith(prefix)]
    return (preferred or answers or [""])[0]


def parse_creg(line: str, *, query: bool) -> Registration:
    """`+CREG: 2,1,"1A2B","0C3D"` (query) or `+CREG: 1,"1A2B","0C3D"` (URC) → Registration."""
    fields = [f.strip().strip('"') for f in line.split(":", 1)[1].split(",")]
    # A query always leads with <n>; a URC leads with <stat>, unless the module echoes the
    # query form as its URC (some do): then the second field is a bare number too.
    looks_like_query = len(fields) >= 2 and fields[1].isdigit()
    if query or looks_like_query:
        fields = fields[1:]
    try:
        status = int(fields[0])
    except (ValueError, IndexError):
        return Registration(4)
    lac = fields[1] if len(fields) > 1 and fields[1] else None
    cell = fields[2] if len(fields) > 2 and fields[2] else None
    return Registration(status, lac, cell)
