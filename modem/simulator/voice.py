"""Voice calls in a simulated module: ATD/ATH/CLCC, DTMF reports, PCM audio port, module TTS.

Each family prints the call's progress its own way (SimCallStyle); the person at the other end
is a SimPhone whose PhoneVoice decides to answer, be busy, or let it ring, and records what it
hears frame by frame.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from modem.audio import FRAME_BYTES, split_frames, stream_frames
from modem.simulator.at import AtCommand, CommandSpec, CommandTable, Kind, Reply, cme, error, ok
from modem.simulator.call_phone import RING_S, Answer, CallBehaviour, PhoneCall, PhoneVoice
from modem.simulator.identity import number_key
from modem.simulator.port import PtyPort

if TYPE_CHECKING:
    from modem.simulator.modem import SimulatedModem
    from modem.simulator.phone import SimPhone

log = logging.getLogger(__name__)

SETUP_S: Final = 1.5  # ATD until the callee's phone rings (scaled)
NO_ANSWER_S: Final = 30.0  # the network's alerting timer (scaled)
BUSY_S: Final = 1.0  # the network's busy answer after setup (scaled)
TTS_CHARS_PER_S: Final = 13.0  # how fast module TTS speaks: sets the length of its audio
TTS_TONE_HZ: Final = 440.0  # what the simulated TTS "says": a tone, loud enough to be heard
TTS_AMPLITUDE: Final = 6000
CME_NOT_ALLOWED: Final = 3
CAUSE_NORMAL: Final = 16  # 24.008 cause values, for Huawei ^CEND
CAUSE_BUSY: Final = 17
CAUSE_NO_ANSWER: Final = 19
CAUSE_FAILED: Final = 1  # unassigned number


@dataclass(frozen=True)
class SimCallStyle:
    """How one family reports a call, as its firmware prints it."""

    clcc_urcs: bool  # honours AT+CLCC=1
    clcc_alpha: bool  # SIMCom adds an <alpha> field to +CLCC
    clcc_released: bool  # SIMCom prints stat 6 when the call is released
    simcom_voice_call: bool  # SIM7600: "VOICE CALL: BEGIN" / "VOICE CALL: END: <hhmmss>"
    huawei: bool  # ^ORIG / ^CONF / ^CONN / ^CEND instead of +CLCC
    # With AT+COLP=1, ATD answers only once the callee picked up (SIM800 manual; 27.007 7.8);
    # with COLP off (every module's default) it answers OK as soon as it dials.
    colp: bool
    dtmf_command: str | None  # enables DTMF reports; None: always on (Huawei)
    dtmf_urc: str  # "{key}" and "{code}" (ASCII) are filled in
    pcm_command: str | None  # switches PCM to the audio port
    tts: bool = False
    dtmf_framing: str = "\r\n"  # SIM7600 firmware frames +RXDTMF with CR CR LF


STYLES: Final = {
    "sim800": SimCallStyle(
        clcc_urcs=True,
        clcc_alpha=True,
        clcc_released=True,
        simcom_voice_call=False,
        huawei=False,
        colp=True,
        dtmf_command="+DDET",
        dtmf_urc="+DTMF: {key}",
        pcm_command=None,
        tts=True,
    ),
    "sim7600": SimCallStyle(
        clcc_urcs=True,
        clcc_alpha=True,
        clcc_released=True,
        simcom_voice_call=True,
        huawei=False,
        colp=False,
        dtmf_command="+DDET",
        dtmf_urc="+RXDTMF: {key}",
        dtmf_framing="\r\r\n",
        pcm_command="+CPCMREG",
    ),
    "ec25": SimCallStyle(
        clcc_urcs=True,
        clcc_alpha=False,
        clcc_released=False,
        simcom_voice_call=False,
        huawei=False,
        colp=False,
        dtmf_command="+QTONEDET",
        dtmf_urc="+QTONEDET: {code}",
        pcm_command="+QPCMV",
    ),
    "e3372": SimCallStyle(
        clcc_urcs=False,
        clcc_alpha=False,
        clcc_released=False,
        simcom_voice_call=False,
        huawei=True,
        colp=False,
        dtmf_command=None,
        dtmf_urc="^DDTMF: {key}",
        pcm_command="^DDSETEX",
    ),
}


def audio_port_path(port: Path | str) -> Path:
    """Where a module's second (audio) tty appears: next to its AT port."""
    path = Path(port)
    return path.with_name(path.name + "-audio")


class SimCall:
    """The one call in progress on a simulated module."""

    def __init__(self, voice: SimVoice, number: str, phone: SimPhone | None) -> None:
        self.voice = voice
        self.number = number
        self.phone = phone
        self.record: PhoneCall | None = None
        self.active = False
        self.ended = False
        self.started_at = _now()
        self.answered_at: float | None = None
        # SIM800: the ATD handler waits on this; None = answered, else the final code.
        self.atd_waiter: asyncio.Future[str | None] | None = None

    @property
    def phone_voice(self) -> PhoneVoice | None:
        return self.phone.voice if self.phone is not None else None

    async def run(self, behaviour: CallBehaviour) -> None:
        """Dialling → alerting → answered or busy / no answer, with the family's URCs."""
        m, style = self.voice.modem, self.voice.style
        self.voice.progress(self, 2, "^ORIG: 1,0")
        await asyncio.sleep(m.latency.fixed(SETUP_S))
        fail_after = self.voice.take_dial_failure()
        if self.phone is None or not self.phone.powered_on or fail_after is not None:
            self.finish(fail_after or "NO CARRIER", CAUSE_FAILED, outcome="unreachable")
            return
        pv = self.phone.voice
        self.record = pv.ring(m.number, _now())
        if behaviour.answer is Answer.BUSY:
            await asyncio.sleep(m.latency.fixed(BUSY_S))
            self.finish("BUSY", CAUSE_BUSY, outcome="busy")
            return
        self.voice.progress(self, 3, "^CONF: 1")
        if behaviour.answer is Answer.NO_ANSWER:
            await asyncio.sleep(m.latency.fixed(NO_ANSWER_S))
            self.finish("NO ANSWER", CAUSE_NO_ANSWER, outcome="no_answer")
            return
        ring = behaviour.ring_s if behaviour.ring_s is not None else m.latency.fixed(RING_S)
        await asyncio.sleep(ring)
        self.active = True
        self.answered_at = self.record.answered_at = _now()
        pv.changed()
        if style.simcom_voice_call:
            m.emit("VOICE CALL: BEGIN")
        self.voice.progress(self, 0, "^CONN: 1,0")
        if self.atd_waiter is not None and not self.atd_waiter.done():
            self.atd_waiter.set_result(None)
        for at_s, key in behaviour.keys:
            m.spawn(self._press(at_s, key))
        drop = self.voice.drop_after_s
        hangup_after = behaviour.hangup_after_s
        if drop is not None and (hangup_after is None or drop < hangup_after):
            m.spawn(self._remote_hangup(drop, "network_drop"))
        elif hangup_after is not None:
            m.spawn(self._remote_hangup(hangup_after, "hung_up_by_phone"))

    def hear(self, frame: bytes) -> bool:
        """A 20 ms frame reached the phone's ear; False when no call is up to carry it."""
        if not self.active or self.record is None:
            return False
        self.record.frames.append((_now(), frame))
        return True

    def finish(self, final: str, cause: int, *, outcome: str, local: bool = False) -> None:
        """End the call with the family's release URCs; the final code unless hung up by us."""
        if self.ended:
            return
        self.ended = True
        self.active = False
        m, style = self.voice.modem, self.voice.style
        duration = int(_now() - self.answered_at) if self.answered_at is not None else 0
        lines: list[str] = []
        if style.clcc_released and self.voice.clcc_urcs:
            lines.append(self.voice.clcc_line(self, 6))
        if style.simcom_voice_call:
            hours, rest = divmod(duration, 3600)
            lines.append(f"VOICE CALL: END: {hours:02d}{rest // 60:02d}{rest % 60:02d}")
        if style.huawei:
            lines.append(f"^CEND: 1,{duration},{0 if local else 104},{cause}")
        if self.atd_waiter is not None and not self.atd_waiter.done():
            self.atd_waiter.set_result(final)  # ends the pending ATD (SIM800) instead of a URC
        elif not local:
            lines.append(final)
        if lines:
            m.emit(*lines)
        pv = self.phone_voice
        if pv is not None and self.record is not None:
            pv.ended(self.record, outcome, _now(), self.phone.number if self.phone else "")
        self.voice.call_ended(self)

    async def _press(self, at_s: float, key: str) -> None:
        await asyncio.sleep(at_s)
        if not self.active or self.record is None:
            return
        self.record.keys_pressed.append((at_s, key))
        self.voice.key(key)

    async def _remote_hangup(self, after_s: float, outcome: str) -> None:
        await asyncio.sleep(after_s)
        if self.active:
            self.finish("NO CARRIER", CAUSE_NORMAL, outcome=outcome)


class SimVoice:
    """Voice state of one simulated module (forgotten at reboot) and its audio port."""

    def __init__(self, modem: SimulatedModem) -> None:
        self.modem = modem
        self.style = STYLES[modem.profile.name]
        self.audio_path = audio_port_path(modem.port) if self.style.pcm_command else None
        self._audio = PtyPort(self.audio_path, self._on_audio) if self.audio_path else None
        self._audio_buffer = bytearray()
        self.call: SimCall | None = None
        self.clcc_urcs = False
        self.colp_on = False
        self.dtmf_reports = self.style.dtmf_command is None
        self.pcm_on = False
        self.dropped_frames = 0  # audio that arrived with PCM off or no call up
        self.tts_played: list[str] = []
        self.tts_stopped = False  # AT+CTTS=0 during speech: the module stops speaking
        # fault hooks
        self.failing_dials: deque[str] = deque()
        self.drop_after_s: float | None = None
        self.refused_hangups: set[str] = set()  # "H", "+CHUP": answered ERROR (firmware quirk)

    # -- life cycle (driven by SimulatedModem)

    def start(self) -> None:
        if self._audio is not None:
            self._audio.open()

    async def stop(self) -> None:
        self.reset()
        if self._audio is not None:
            await self._audio.close()

    def reset(self) -> None:
        """The module lost power: the call drops, settings are forgotten."""
        call = self.call
        if call is not None and not call.ended:
            call.ended = True
            call.active = False
            pv = call.phone_voice
            if pv is not None and call.record is not None:
                pv.ended(call.record, "module_reset", _now(), call.number)
            if call.atd_waiter is not None and not call.atd_waiter.done():
                call.atd_waiter.set_result("NO CARRIER")
        self.call = None
        self.clcc_urcs = False
        self.colp_on = False
        self.dtmf_reports = self.style.dtmf_command is None
        self.pcm_on = False
        self._audio_buffer.clear()

    # -- fault hooks

    def fail_next_dials(self, count: int, result: str = "NO DIALTONE") -> None:
        """The next `count` calls fail after setup with `result` (NO DIALTONE, NO CARRIER)."""
        self.failing_dials.extend([result] * count)

    def drop_calls_after(self, seconds: float | None) -> None:
        """The network drops every answered call after `seconds` (NO CARRIER); None: never."""
        self.drop_after_s = seconds

    def refuse_hangup(self, *commands: str) -> None:
        """These hang-up commands ("H" for ATH, "+CHUP") answer ERROR, as on some firmware."""
        self.refused_hangups = set(commands)

    def take_dial_failure(self) -> str | None:
        return self.failing_dials.popleft() if self.failing_dials else None

    # -- used by SimCall

    def progress(self, call: SimCall, stat: int, huawei_line: str) -> None:
        if self.style.huawei:
            self.modem.emit(huawei_line)
        elif self.clcc_urcs:
            self.modem.emit(self.clcc_line(call, stat))

    def clcc_line(self, call: SimCall, stat: int) -> str:
        kind = 145 if call.number.startswith("+") else 129
        line = f'+CLCC: 1,0,{stat},0,0,"{call.number}",{kind}'
        return line + ',""' if self.style.clcc_alpha else line

    def key(self, key: str) -> None:
        if self.dtmf_reports:
            line = self.style.dtmf_urc.format(key=key, code=ord(key))
            crlf = self.style.dtmf_framing
            self.modem.emit_raw(f"{crlf}{line}{crlf}".encode("ascii"))

    def call_ended(self, call: SimCall) -> None:
        if self.call is call:
            self.pcm_on = False

    # -- audio port

    def _on_audio(self, data: bytes) -> None:
        self._audio_buffer += data
        while len(self._audio_buffer) >= FRAME_BYTES:
            frame = bytes(self._audio_buffer[:FRAME_BYTES])
            del self._audio_buffer[:FRAME_BYTES]
            call = self.call
            if not self.pcm_on or call is None or not call.hear(frame):
                self.dropped_frames += 1

    async def play_tts(self, call: SimCall, text: str) -> None:
        """Speak `text` into the call in real time (as a tone), then report the end."""
        seconds = len(text) / TTS_CHARS_PER_S
        frames = split_frames(tone(seconds))
        self.tts_stopped = False
        await stream_frames(
            _CallEar(call), frames, should_stop=lambda: call.ended or self.tts_stopped
        )
        self.modem.emit("+CTTS: 0")


class _CallEar:
    """An AudioSink that hands frames to the call's phone."""

    def __init__(self, call: SimCall) -> None:
        self.call = call

    def write(self, frame: bytes) -> None:
        self.call.hear(frame)


def tone(seconds: float) -> bytes:
    """A steady tone as 8 kHz s16le PCM: the sound of the simulated module TTS."""
    count = int(seconds * 8000)
    return b"".join(
        int(TTS_AMPLITUDE * math.sin(2 * math.pi * TTS_TONE_HZ * i / 8000)).to_bytes(
            2, "little", signed=True
        )
        for i in range(count)
    )


def _now() -> float:
    return asyncio.get_running_loop().time()


# -- commands ---------------------------------------------------------------------------------


def voice_commands(family: str) -> CommandTable:
    """The call commands `family` knows, to merge into its command table."""
    style = STYLES[family]
    table: CommandTable = {
        "D": CommandSpec(_atd, needs_sim=True),
        "H": CommandSpec(_ath),
        "+CHUP": CommandSpec(_ath),
        "+CLCC": CommandSpec(_clcc),
    }
    if style.colp:
        table["+COLP"] = CommandSpec(_colp)
    if style.dtmf_command is not None:
        table[style.dtmf_command] = CommandSpec(_dtmf_detect)
    if style.pcm_command is not None:
        table[style.pcm_command] = CommandSpec(_pcm)
    if style.tts:
        table["+CTTS"] = CommandSpec(_ctts)
    return table


async def _atd(m: SimulatedModem, cmd: AtCommand) -> Reply:
    voice = m.voice
    number = cmd.args.strip()
    if not number.endswith(";"):
        return Reply(final="NO CARRIER")  # a data call: no data service on this SIM
    number = number[:-1]
    if voice.call is not None and not voice.call.ended:
        return cme(CME_NOT_ALLOWED)
    if m.registration not in (1, 5):
        return Reply(final="NO CARRIER")
    network = m.network
    phone = network.phones.get(number_key(number)) if network is not None else None
    behaviour = CallBehaviour()
    if phone is not None:
        rates = network.call_rates if network is not None else None
        behaviour = phone.voice.behaviour or (rates.draw() if rates else CallBehaviour())
    call = SimCall(voice, number, phone)
    voice.call = call
    if voice.colp_on:
        call.atd_waiter = asyncio.get_running_loop().create_future()
    m.spawn(call.run(behaviour))
    if call.atd_waiter is None:
        return ok()
    final = await call.atd_waiter
    return ok() if final is None else Reply(final=final)


async def _ath(m: SimulatedModem, cmd: AtCommand) -> Reply:
    if cmd.name in m.voice.refused_hangups:
        return error()
    call = m.voice.call
    if call is not None and not call.ended:
        outcome = "hung_up_by_caller" if call.active else "cancelled"
        call.finish("NO CARRIER", CAUSE_NORMAL, outcome=outcome, local=True)
    return ok()


async def _clcc(m: SimulatedModem, cmd: AtCommand) -> Reply:
    voice = m.voice
    if cmd.kind is Kind.TEST:
        return ok("+CLCC: (0,1)") if voice.style.clcc_urcs else ok()
    if cmd.kind is Kind.READ:
        return ok(f"+CLCC: {int(voice.clcc_urcs)}")
    if cmd.kind is Kind.SET:
        if not voice.style.clcc_urcs:
            return Reply(final=m.profile.unknown_answer)
        if cmd.args not in ("0", "1"):
            return error()
        voice.clcc_urcs = cmd.args == "1"
        return ok()
    call = voice.call
    if call is None or call.ended:
        return ok()
    return ok(voice.clcc_line(call, 0 if call.active else 3))


async def _colp(m: SimulatedModem, cmd: AtCommand) -> Reply:
    voice = m.voice
    if cmd.kind is Kind.TEST:
        return ok("+COLP: (0,1)")
    if cmd.kind is Kind.READ:
        return ok(f"+COLP: {int(voice.colp_on)},1")
    if cmd.kind is not Kind.SET or cmd.args not in ("0", "1"):
        return error()
    voice.colp_on = cmd.args == "1"
    return ok()


async def _dtmf_detect(m: SimulatedModem, cmd: AtCommand) -> Reply:
    voice = m.voice
    if cmd.kind is Kind.READ:
        return ok(f"{cmd.name}: {int(voice.dtmf_reports)}")
    if cmd.kind is Kind.TEST:
        return ok(f"{cmd.name}: (0,1)")
    mode = cmd.params()[0]
    if mode not in ("0", "1"):
        return error()
    voice.dtmf_reports = mode == "1"
    return ok()


async def _pcm(m: SimulatedModem, cmd: AtCommand) -> Reply:
    """CPCMREG=1, ^DDSETEX=2, QPCMV=1,0 switch PCM on; only during a call (like the modules)."""
    voice = m.voice
    if cmd.kind is not Kind.SET:
        return ok() if cmd.kind is Kind.TEST else ok(f"{cmd.name}: {int(voice.pcm_on)}")
    params = cmd.params()
    on = {"+CPCMREG": ("1",), "^DDSETEX": ("2",), "+QPCMV": ("1",)}[cmd.name]
    if params[0] in on:
        if cmd.name == "+QPCMV" and (len(params) < 2 or params[1] != "0"):
            return error()  # only the USB serial variant is simulated (port 0)
        call = voice.call
        if call is None or not call.active:
            return cme(CME_NOT_ALLOWED)
        voice.pcm_on = True
        return ok()
    voice.pcm_on = False
    return ok()


async def _ctts(m: SimulatedModem, cmd: AtCommand) -> Reply:
    voice = m.voice
    if cmd.kind is Kind.TEST:
        return ok("+CTTS: (0-2),(1-65535)")
    params = cmd.params()
    if params[0] == "0":
        voice.tts_stopped = True  # what is speaking stops, then reports +CTTS: 0
        return ok()
    if params[0] != "2" or len(params) < 2:
        return error()
    voice.tts_played.append(params[1])
    call = voice.call
    if call is not None and call.active:
        m.spawn(voice.play_tts(call, params[1]))
    else:
        m.later(len(params[1]) / TTS_CHARS_PER_S, "+CTTS: 0")
    return ok()
