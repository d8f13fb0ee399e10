"""One simulated GSM module: a pty, an AT interpreter loop, its SIM storage and its faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modem.simulator import at
from modem.simulator.at import CommandTable
from modem.simulator.commands import build_table, registration_line
from modem.simulator.families import SimFamily, get_family
from modem.simulator.faults import Faults, Garbage, random_bytes
from modem.simulator.identity import make_iccid, make_imei, make_imsi, modem_number
from modem.simulator.port import PtyPort
from modem.simulator.storage import REC_UNREAD, MessageStore, StoredMessage
from modem.simulator.timing import LatencyModel
from modem.simulator.ussd import UssdService
from modem.simulator.voice import SimVoice, voice_commands

if TYPE_CHECKING:
    from modem.simulator.network import SimNetwork

log = logging.getLogger(__name__)

INPUT_CAP = 16384  # bytes of unread input kept; a real module's UART buffer is smaller
CTRL_Z = 0x1A
ESC = 0x1B
PIN_ATTEMPTS = 3
REG_HOME = 1


@dataclass
class Session:
    """Settings the module forgets when it reboots."""

    cnmi: tuple[int, int, int, int, int]
    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    mem: list[str] = field(default_factory=lambda: ["SM", "SM", "SM"])
    creg_n: int = 0
    cereg_n: int = 0
    cfun: int = 1
    pin_state: str = "READY"  # "READY", "SIM PIN" or "SIM PUK", as +CPIN prints it
    sms_ready: bool = False


class SimulatedModem:
    """A module the gateway opens at `port`; tests and the CLI drive its faults."""

    def __init__(
        self,
        *,
        port: Path | str,
        family: str | SimFamily = "sim800",
        number: str | None = None,
        seed: int | str = 0,
        scale: float = 1.0,
        cmgs_latency_s: float | None = None,
        imei: str | None = None,
        imsi: str | None = None,
        iccid: str | None = None,
        sm_slots: int = 30,
        me_slots: int = 100,
        pin: str | None = None,
        puk: str = "12345678",
        balance: float = 12.50,
        rssi: int = 20,
        operator: str = "Rogers Wireless",
        periodic_urc_s: float | None = None,
    ) -> None:
        self.profile = family if isinstance(family, SimFamily) else get_family(family)
        self.family = self.profile.name
        self.port = str(port)
        self.number = number or modem_number(0)
        self._rng = random.Random(f"modem:{seed}:{self.number}")
        self.latency = LatencyModel(self._rng, scale)
        if cmgs_latency_s is not None:
            self.latency.cmgs_mean_s = cmgs_latency_s
        self.imei = imei or make_imei(self._rng)
        self.imsi = imsi or make_imsi(self._rng)
        self.iccid = iccid or make_iccid(self._rng)
        self.storages = {"SM": MessageStore("SM", sm_slots), "ME": MessageStore("ME", me_slots)}
        self.pin = pin
        self.puk = puk
        self.pin_attempts_left = PIN_ATTEMPTS  # counted by the SIM, so it survives reboots
        self.balance = balance
        self.rssi = rssi
        self.operator = operator
        self.periodic_urc_s = periodic_urc_s
        self.network: SimNetwork | None = None
        self.faults = Faults(busy_code=self.profile.busy_code)
        self.ussd = UssdService()  # what the network answers to USSD (balance text, failures)
        self.session = Session(cnmi=self.profile.cnmi_default)
        self.command_log: list[str] = []
        self.next_mr = 0  # TP-MR of the next submit; lives on the SIM (EF_SMSS), survives reboots
        self.plugged = False
        self._table: CommandTable = build_table(self.profile)
        self._table.update(voice_commands(self.profile.name))
        self.voice = SimVoice(self)  # calls, DTMF, the audio port
        self._port = PtyPort(Path(self.port), self._on_data)
        self._inbuf = bytearray()
        self._input = asyncio.Event()
        self._booting = False
        self._booted = asyncio.Event()
        self._deregistered: int | None = None
        self._reported_reg = 0
        self._reboot_requested = False
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Plug the module in: open the pty, boot, print the boot URCs."""
        self._port.open()
        self.voice.start()
        self.plugged = True
        self._worker = asyncio.get_running_loop().create_task(
            self._serve(), name=f"modem {self.port}"
        )
        self._power_cycle()

    async def stop(self) -> None:
        """Cancel every task of this module and close its pty."""
        await self._cancel_worker()
        await self._cancel_tasks()
        await self.voice.stop()
        await self._port.close()
        self.plugged = False

    async def unplug(self) -> None:
        """Pull the USB plug: the pty vanishes, the client's open port fails with EIO."""
        log.info("%s: unplugged", self.port)
        await self.stop()

    async def replug(self) -> None:
        """Plug back in: a new pty behind the same symlink, then a fresh boot."""
        log.info("%s: replugged", self.port)
        if self.plugged:
            await self.stop()
        await self.start()

    async def reboot(self) -> None:
        """Power-cycle without unplugging (the port stays, the module boots again)."""
        await self._cancel_worker()
        self._port.discard_output()
        self._worker = asyncio.get_running_loop().create_task(self._serve())
        self._power_cycle()

    async def wait_booted(self, timeout: float = 10.0) -> None:
        """Until the module answers commands again after a boot."""
        await asyncio.wait_for(self._booted.wait(), timeout)

    def describe(self) -> dict[str, object]:
        """What a client needs to find and recognise this module."""
        described: dict[str, object] = {
            "kind": "modem",
            "port": self.port,
            "number": self.number,
            "family": self.family,
            "imei": self.imei,
        }
        if self.voice.audio_path is not None:  # families with PCM over a second tty
            described["audio_port"] = str(self.voice.audio_path)
        return described

    # -- faults -------------------------------------------------------------------------------

    def hang(self) -> None:
        """Firmware stuck: swallow all input, answer nothing until `resume()`."""
        self.faults.hung = True

    def resume(self) -> None:
        """Undo `hang()`; input received while hung stays lost."""
        self.faults.hung = False
        self._notify_network()

    def set_garbage(
        self, mode: Garbage | str = Garbage.INTERLEAVE, probability: float = 0.5
    ) -> None:
        """Corrupt output: random bytes between lines ("interleave") or instead of them."""
        self.faults.garbage = Garbage(mode)
        self.faults.garbage_probability = probability

    def noise_burst(self, size: int = 64) -> None:
        """Write random bytes now, NUL and 0xFF included, as a glitching USB link would."""
        self._write_raw(b"\x00\xff" + random_bytes(self._rng, max(0, size - 2)))

    def fail_next_sends(self, count: int, code: int = 38) -> None:
        """The next `count` sends answer +CMS ERROR: `code` (38, 42 transient; 21, 50 final)."""
        self.faults.failing_sends.extend([code] * count)

    def set_no_credit(self, enabled: bool = True, code: int = 8) -> None:
        """Prepaid credit exhausted: every send fails with `code`, USSD balance says 0.00."""
        self.faults.no_credit = enabled
        self.faults.no_credit_code = code

    def deregister(self, stat: int = 3) -> None:
        """Lose the network (+CREG stat 3 "denied" by default): sends fail with CMS 331."""
        self._deregistered = stat
        self._update_registration()

    def register(self) -> None:
        """Back on the network; messages held by the SMSC are delivered."""
        self._deregistered = None
        self._update_registration()
        self._notify_network()

    def require_pin(self, pin: str = "1234") -> None:
        """The SIM asks for `pin` now and after every boot."""
        self.pin = pin
        self.session.pin_state = "SIM PIN"
        self.session.sms_ready = False
        self._update_registration()

    def busy_after_boot(self, count: int, code: int | None = None) -> None:
        """The first `count` SIM-touching commands after each boot (and from now) are "busy"."""
        self.faults.busy_after_boot = self.faults.busy_remaining = count
        self.faults.busy_code = code if code is not None else self.profile.busy_code

    def inject_urc(self, line: str, when: str = "now") -> None:
        """Print a URC "now", before the final result of the next command ("mid_response"),
        or right after the next "> " prompt ("at_prompt")."""
        if when == "now":
            self.emit(line)
        elif when == "mid_response":
            self.faults.mid_response_urcs.append(line)
        elif when == "at_prompt":
            self.faults.prompt_urcs.append(line)
        else:
            raise ValueError(f"unknown moment {when!r}")

    def set_trickle(self, gap_s: float | None = 0.001) -> None:
        """Write output one byte at a time with `gap_s` between bytes; None turns it off."""
        self._port.trickle_gap_s = gap_s

    def set_signal(self, rssi: int) -> None:
        """Signal quality shown by +CSQ (0-31)."""
        self.rssi = rssi

    def clear_faults(self) -> None:
        """Back to a healthy module (registration and PIN are left as they are)."""
        self.faults = Faults(busy_code=self.profile.busy_code)
        self._port.trickle_gap_s = None
        self._notify_network()

    # -- used by the command handlers and the network ----------------------------------------

    @property
    def registration(self) -> int:
        """+CREG <stat>: 1 home, or 0 while off / booting / SIM locked, or the fault's stat."""
        s = self.session
        if not self.plugged or self._booting or s.cfun != 1 or s.pin_state != "READY":
            return 0
        return self._deregistered if self._deregistered is not None else REG_HOME

    @property
    def can_receive(self) -> bool:
        """Whether the network can hand this module an SMS right now."""
        return (
            self.registration == REG_HOME
            and self.session.sms_ready
            and not self.faults.hung
            and self._port.is_open
        )

    def emit(self, *lines: str) -> None:
        """Print unsolicited lines, each framed as its own URC."""
        self._write_chunks([at.frame(line) for line in lines])

    def emit_raw(self, data: bytes) -> None:
        """Print bytes framed the firmware's own way (e.g. SIM7600's CR CR LF around +RXDTMF)."""
        self._write_chunks([data])

    def emit_block(self, *lines: str) -> None:
        """Print lines as one unit (e.g. "+CMT: ,23" and its PDU line)."""
        self._write_chunks([at.frame("\r\n".join(lines))])

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine that dies with this boot of the module."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, delay: float, *lines: str) -> None:
        """Print URC lines after `delay` seconds (unless the module reboots first)."""
        self.spawn(self._emit_later(delay, lines))

    def request_reboot(self) -> None:
        """Reboot once the current answer is out (AT+CFUN=1,1)."""
        self._reboot_requested = True

    def unlock_sim(self) -> list[str]:
        """The SIM became ready: URCs to print now; the SMS stack follows a little later."""
        self.session.pin_state = "READY"
        urcs = ["+CPIN: READY"] if self.profile.cpin_urc else []
        self.spawn(self._sms_stack_up())
        return urcs + list(self.profile.sim_ready_urcs)

    def set_functionality(self, cfun: int) -> None:
        """AT+CFUN=0/1/4: radio off or on."""
        self.session.cfun = cfun
        self._update_registration()
        self._notify_network()

    async def read_pdu(self) -> str | None:
        """Print the "> " prompt and read hex up to Ctrl-Z; None if ESC cancelled."""
        self._write_raw(b"\r\n> ")
        if self.faults.prompt_urcs:
            self.emit(*self.faults.prompt_urcs)
            self.faults.prompt_urcs.clear()
        while True:
            for index, byte in enumerate(self._inbuf):
                if byte in (CTRL_Z, ESC):
                    text = bytes(self._inbuf[:index]).decode("latin-1")
                    del self._inbuf[: index + 1]
                    if self.session.echo:
                        self._write_raw(text.encode("latin-1"))
                    return text.strip() if byte == CTRL_Z else None
            self._input.clear()
            await self._input.wait()

    def offer(self, pdu: str, *, status_report: bool, tpdu_len: int) -> bool:
        """The network hands over an SMS-DELIVER or status report; False = try again later."""
        if not self.can_receive:
            return False
        _mode, mt, _bm, ds, _bfr = self.session.cnmi
        if (ds == 1) if status_report else (mt == 2):
            self.emit_block(f"+CDS: {tpdu_len}" if status_report else f"+CMT: ,{tpdu_len}", pdu)
            return True
        mem = self.session.mem[2]
        index = self.storages[mem].add(StoredMessage(pdu, REC_UNREAD, tpdu_len, status_report))
        if index is None:
            return False
        if (ds == 2) if status_report else (mt in (1, 3)):
            self.emit(f'+{"CDSI" if status_report else "CMTI"}: "{mem}",{index}')
        return True

    def slot_freed(self) -> None:
        """A message was deleted: the SMSC may now deliver what it held back."""
        self._notify_network()

    # -- internals ----------------------------------------------------------------------------

    def _power_cycle(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.voice.reset()  # a call does not survive a power cut
        self._booting = True
        self._booted.clear()
        self._inbuf.clear()
        self._reported_reg = 0
        self.session = Session(cnmi=self.profile.cnmi_default)
        if self.pin is not None:
            self.session.pin_state = "SIM PIN"
        self.spawn(self._boot())

    async def _boot(self) -> None:
        await asyncio.sleep(self.latency.boot())
        self._booting = False
        self.faults.busy_remaining = self.faults.busy_after_boot
        urcs = list(self.profile.boot_urcs)
        if self.session.pin_state == "READY":
            urcs += self.unlock_sim()
        elif self.profile.cpin_urc:
            urcs.append(f"+CPIN: {self.session.pin_state}")
        self.emit(*urcs)
        self._booted.set()
        if self.periodic_urc_s and self.profile.periodic_urc:
            self.spawn(self._periodic(self.periodic_urc_s, self.profile.periodic_urc))

    async def _sms_stack_up(self) -> None:
        await asyncio.sleep(self.latency.sms_ready())
        self.session.sms_ready = True
        self.emit(*self.profile.sms_ready_urcs)
        self._update_registration()
        self._notify_network()

    async def _periodic(self, period: float, template: str) -> None:
        while True:
            await asyncio.sleep(period)
            self.emit(template.format(rssi=self.rssi if self.registration else 99))

    async def _emit_later(self, delay: float, lines: tuple[str, ...]) -> None:
        await asyncio.sleep(delay)
        self.emit(*lines)

    async def _serve(self) -> None:
        while True:
            line = await self._next_line()
            try:
                await self._execute(line)
            except Exception:  # a bug in one handler must not kill the module
                log.exception("%s: command %r failed", self.port, line)
                self._send_reply(at.error())

    async def _next_line(self) -> str:
        while True:
            end = self._inbuf.find(b"\r")
            if end >= 0:
                raw = bytes(self._inbuf[:end])
                del self._inbuf[: end + 1]
                text = "".join(ch for ch in raw.decode("latin-1") if ch >= " ").strip()
                start = text.upper().find("AT")  # like firmware: skip noise (ESC...) before AT
                if start > 0:
                    text = text[start:]
                if text:
                    return text
                continue
            self._input.clear()
            await self._input.wait()

    async def _execute(self, line: str) -> None:
        if self.session.echo:
            self._write_raw((line + "\r").encode("latin-1"))
        command = at.parse(line)
        if command is None:
            return
        self.command_log.append(line)
        await asyncio.sleep(self.latency.command())
        reply = await self._dispatch(command)
        self._send_reply(reply)
        if self._reboot_requested:
            self._reboot_requested = False
            self._power_cycle()

    async def _dispatch(self, command: at.AtCommand) -> at.Reply:
        spec = self._table.get(command.name)
        if spec is None:
            return at.Reply(final=self.profile.unknown_answer)
        if spec.needs_sim:
            if self.faults.busy_remaining > 0:
                self.faults.busy_remaining -= 1
                return at.cme(self.faults.busy_code)
            if self.session.pin_state == "SIM PIN":
                return at.cme(11)
            if self.session.pin_state == "SIM PUK":
                return at.cme(12)
        try:
            return await spec.handler(self, command)
        except ValueError:  # malformed arguments
            return at.error()

    def _send_reply(self, reply: at.Reply) -> None:
        chunks = [at.frame("\r\n".join(reply.lines))] if reply.lines else []
        if self.faults.mid_response_urcs:
            chunks += [at.frame(urc) for urc in self.faults.mid_response_urcs]
            self.faults.mid_response_urcs.clear()
        chunks.append(at.frame(at.final_text(reply, self.session.cmee)))
        chunks += [at.frame(line) for line in reply.after]
        self._write_chunks(chunks)

    def _write_chunks(self, chunks: list[bytes]) -> None:
        if self._booting or self.faults.hung:
            return
        self._port.write(self.faults.garble(chunks, self._rng))

    def _write_raw(self, data: bytes) -> None:
        if not self._booting and not self.faults.hung:
            self._port.write(data)

    def _on_data(self, data: bytes) -> None:
        if self._booting or self.faults.hung:
            return
        if len(self._inbuf) + len(data) > INPUT_CAP:
            log.warning("%s: input overflow, %d bytes dropped", self.port, len(data))
            return
        self._inbuf += data
        self._input.set()

    def _update_registration(self) -> None:
        stat = self.registration
        if stat == self._reported_reg:
            return
        self._reported_reg = stat
        s = self.session
        if s.creg_n:
            self.emit(registration_line("CREG", stat, s.creg_n, lte=self.profile.lte))
        if s.cereg_n and self.profile.has_cereg:
            self.emit(registration_line("CEREG", stat, s.cereg_n, lte=self.profile.lte))

    def _notify_network(self) -> None:
        if self.network is not None and self.can_receive:
            self.network.modem_ready(self)

    async def _cancel_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
