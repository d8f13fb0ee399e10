"""Voice calls over AT: dial, follow the call's state, hear DTMF keys, play audio, hang up.

The call itself (its state, keys and end, as the caller sees them) is modem/call.py.

Call state comes from whichever of a family's reports arrives: 27.007 `+CLCC` URCs
(`AT+CLCC=1`), SIMCom's `VOICE CALL: BEGIN/END`, Huawei's `^ORIG/^CONF/^CONN/^CEND`, and the
final codes BUSY / NO ANSWER / NO CARRIER, which end `ATD` on modules that answer it only once
the call is decided and arrive unsolicited on those that answer `OK` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from typing import Final

from modem.at import PRIORITY_URGENT
from modem.audio import PacingStats, SerialAudioPort, pcm_duration, split_frames, stream_paced
from modem.call import (
    RING_TIMEOUT,
    Call,
    CallEvent,
    CallState,
    DtmfKey,
    EndReason,
    StateChanged,
    VoiceError,
    VoiceUnsupportedError,
)
from modem.exceptions import AtCommandError, ModemError
from modem.modem import Modem
from modem.voice_profiles import PROFILES, AudioMode, VoiceProfile

__all__ = [
    "PROFILES",
    "RING_TIMEOUT",
    "AudioMode",
    "Call",
    "CallEvent",
    "CallState",
    "DtmfKey",
    "EndReason",
    "PacingStats",
    "StateChanged",
    "Voice",
    "VoiceError",
    "VoiceProfile",
    "VoiceUnsupportedError",
    "parse_dtmf",
]

_LOGGER = logging.getLogger(__name__)

# Networks give up on an unanswered call after 30-60 s and the module then answers ATD (or
# prints NO ANSWER); past this the module itself is stuck.
DIAL_TIMEOUT: Final = 90.0
# SIMCom prints `+CLCC: ...,6,...` (released) just before the final code that says why; if no
# final code follows within this, the call is ended as failed anyway.
RELEASE_GRACE: Final = 1.0
# Hang-up and PCM switching are local to the module: a few hundred ms.
CONTROL_TIMEOUT: Final = 10.0
# Module TTS speaks ~12-15 characters a second; allow a slow voice and the module's start-up.
TTS_SECONDS_PER_CHAR: Final = 0.15
TTS_EXTRA_S: Final = 10.0

DTMF_KEYS: Final = "0123456789*#ABCD"
_NUMBER_RE: Final = re.compile(r"^\+?[0-9*#]{1,40}$")
_CLCC_RE: Final = re.compile(r"^\+CLCC:\s*(\d+),(\d+),(\d+),(\d+),(\d+)(?:,\"([^\"]*)\")?")
_CEND_RE: Final = re.compile(r"^\^CEND:\s*(\d+),\s*(\d+),\s*(\d+)(?:,\s*(\d+))?")
_DIGITS_RE: Final = re.compile(r"(\d+)")

# 27.007 §7.18 <stat> of +CLCC; 6 ("released") is a SIMCom addition.
_CLCC_ACTIVE: Final = 0
_CLCC_DIALLING: Final = 2
_CLCC_ALERTING: Final = 3
_CLCC_RELEASED: Final = 6
# 24.008 cause values in Huawei's ^CEND <cc_cause>.
_CAUSE_BUSY: Final = 17
_CAUSE_NO_ANSWER: Final = frozenset({18, 19})
_CAUSE_NORMAL: Final = 16


class Voice:
    """Calls on one `Modem`: one at a time, since a module has one voice channel."""

    def __init__(self, modem: Modem, *, audio_port: str | None = None) -> None:
        self.modem = modem
        self.audio_port = audio_port if audio_port is not None else modem.config.audio_port
        self.call: Call | None = None
        self._installed = False
        self._hangup_command: str | None = None  # the one this module accepted last time

    @property
    def name(self) -> str:
        return self.modem.name

    @property
    def profile(self) -> VoiceProfile:
        return PROFILES.get(self.modem.family.name, PROFILES["generic"])

    @property
    def audio_mode(self) -> AudioMode:
        return self.profile.audio_mode

    async def enable(self) -> None:
        """Turn call reports and DTMF detection on; again after every modem (re)initialise."""
        if not self._installed:
            self._install_urcs()
            self._installed = True
        profile = self.profile
        if profile.clcc_urcs:
            await self.modem.at("AT+CLCC=1")
        if profile.dtmf_enable is not None:
            await self.modem.at(profile.dtmf_enable)

    async def dial(self, number: str, *, timeout: float = DIAL_TIMEOUT) -> Call:
        """Place a call. Returns once the module took it (or, on SIM800, once it is decided)."""
        if not _NUMBER_RE.match(number):
            raise ValueError(f"not a dialable number: {number!r}")
        if self.call is not None and not self.call.ended:
            raise VoiceError(f"{self.name}: a call to {self.call.number} is in progress")
        call = Call(self, number)
        self.call = call
        _LOGGER.info("%s: dialling %s", self.name, number)
        try:
            await self.modem.at(f"ATD{number};", timeout=timeout, priority=PRIORITY_URGENT)
        except AtCommandError as exc:
            self._on_final(exc.result)
            call._end(EndReason.FAILED)  # ERROR, CME: the module refused to dial
            return call
        except (ModemError, TimeoutError):
            call._end(EndReason.FAILED)
            with contextlib.suppress(ModemError, TimeoutError):
                await self._hang_up()
            raise
        if self.profile.ok_on_answer:
            call._set_state(CallState.ACTIVE)
        return call

    async def hangup(self, call: Call, *, reason: EndReason | None = None) -> None:
        """End `call` from our side; the end reason is set even if the module says nothing."""
        if call.ended:
            return
        call._hanging_up = True
        call._hangup_reason = reason
        try:
            await self._hang_up()
        finally:
            call._end_after_answer()  # unless the module's release report already ended it

    async def _hang_up(self) -> None:
        """The family's hang-up, or the other standard one if the module refuses it.

        27.007's AT+CHUP ends a voice call on SIM7600 and Huawei; V.250's ATH is what SIM800
        documents (and some firmware answers ERROR to the other); the one that worked is kept.
        """
        first = self._hangup_command or self.profile.hangup
        other = "AT+CHUP" if first == "ATH" else "ATH"
        try:
            await self.modem.at(first, timeout=CONTROL_TIMEOUT)
        except AtCommandError as exc:
            _LOGGER.warning("%s: %s refused (%s); hanging up with %s", self.name, first, exc, other)
            await self.modem.at(other, timeout=CONTROL_TIMEOUT)
            first = other
        self._hangup_command = first

    async def play(self, call: Call, pcm: bytes, *, stop_keys: str = "") -> PacingStats:
        """PCM into an active call over the audio port, paced on the 20 ms grid; cut short
        when the call ends or one of `stop_keys` is pressed."""
        profile = self.profile
        if profile.audio_mode is not AudioMode.PCM:
            raise VoiceUnsupportedError(f"{self.name}: {profile.name} takes no PCM audio")
        if self.audio_port is None:
            raise VoiceError(f"{self.name}: no audio_port configured")
        if call.state is not CallState.ACTIVE:
            raise VoiceError(f"{self.name}: the call is {call.state.value}, not active")
        interrupt = call._stop_on(stop_keys)
        port = await SerialAudioPort.open(self.audio_port, name=f"{self.name} audio")
        try:
            if profile.pcm_start is not None:
                await self.modem.at(profile.pcm_start, timeout=CONTROL_TIMEOUT)
            stats = await stream_paced(
                port, split_frames(pcm), should_stop=lambda: call.ended or interrupt.is_set()
            )
        finally:
            call._disarm()
            await port.close()
            if profile.pcm_stop is not None and not call.ended:
                with contextlib.suppress(ModemError):
                    await self.modem.at(profile.pcm_stop, timeout=CONTROL_TIMEOUT)
        _LOGGER.info(
            "%s: played %.1f s of %.1f s to %s",
            self.name,
            stats.seconds,
            pcm_duration(pcm),
            call.number,
        )
        return stats

    async def speak(
        self,
        call: Call,
        text: str,
        language: str,
        *,
        any_language: bool = False,
        stop_keys: str = "",
    ) -> bool:
        """Module TTS (AT+CTTS, ASCII mode); True once it has said everything, False when the
        call ended or one of `stop_keys` stopped it (AT+CTTS=0, the key stays unread).

        SIMCom's TTS speaks English and Chinese only. French text read by it is unintelligible,
        so another language is refused (VoiceUnsupportedError: the gateway falls back to SMS or
        to a PCM-capable modem) unless `any_language`, which plays it anyway with a warning.
        """
        profile = self.profile
        if profile.audio_mode is not AudioMode.MODULE_TTS:
            raise VoiceUnsupportedError(f"{self.name}: {profile.name} has no module TTS")
        if language not in profile.tts_languages:
            if not any_language:
                raise VoiceUnsupportedError(
                    f"{self.name}: {profile.name} TTS cannot speak {language!r}"
                )
            _LOGGER.warning("%s: %s TTS reading %r text anyway", self.name, profile.name, language)
        if call.state is not CallState.ACTIVE:
            raise VoiceError(f"{self.name}: the call is {call.state.value}, not active")
        spoken = tts_text(text)
        call._tts_done.clear()
        interrupt = call._stop_on(stop_keys)
        try:
            await self.modem.at(f'AT+CTTS=2,"{spoken}"', timeout=CONTROL_TIMEOUT)
            bound = len(spoken) * TTS_SECONDS_PER_CHAR + TTS_EXTRA_S
            try:
                async with asyncio.timeout(bound):
                    while not (call._tts_done.is_set() or interrupt.is_set()):
                        await call._wait_change()
            except TimeoutError:
                _LOGGER.warning("%s: TTS did not report its end within %.0f s", self.name, bound)
            if interrupt.is_set() and not call._tts_done.is_set() and not call.ended:
                await self.modem.at("AT+CTTS=0", timeout=CONTROL_TIMEOUT)  # stop speaking now
                return False
        finally:
            call._disarm()
        return not call.ended

    # ---- URCs

    def _install_urcs(self) -> None:
        add = self.modem.add_urc
        add("+CLCC:", self._on_clcc)
        add("VOICE CALL:", self._on_simcom_voice_call)
        for prefix in ("^ORIG:", "^CONF:", "^CONN:"):
            add(prefix, self._on_huawei_progress)
        add("^CEND:", self._on_cend)
        for code in ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"):
            add(code, lambda line, _body: self._on_final(line))
        for profile in PROFILES.values():
            for prefix in profile.dtmf_prefixes:
                add(prefix, self._on_dtmf)
        add("+CTTS:", self._on_ctts)

    def _on_clcc(self, line: str, _body: str | None) -> None:
        match = _CLCC_RE.match(line)
        call = self.call
        if match is None or call is None:
            return
        direction, stat, mode = int(match.group(2)), int(match.group(3)), int(match.group(4))
        if direction != 0 or mode != 0:
            return  # an incoming call, or data/fax: not ours
        if stat == _CLCC_DIALLING:
            call._set_state(CallState.DIALLING)
        elif stat == _CLCC_ALERTING:
            call._set_state(CallState.ALERTING)
        elif stat == _CLCC_ACTIVE:
            call._set_state(CallState.ACTIVE)
        elif stat == _CLCC_RELEASED:
            self._released(call)

    def _on_simcom_voice_call(self, line: str, _body: str | None) -> None:
        call = self.call
        if call is None:
            return
        if "BEGIN" in line:
            call._set_state(CallState.ACTIVE)
        elif "END" in line:
            match = _DIGITS_RE.search(line)
            if match:
                call.modem_duration_s = float(int(match.group(1)))
            self._released(call)

    def _on_huawei_progress(self, line: str, _body: str | None) -> None:
        call = self.call
        if call is None:
            return
        state = {
            "^ORIG:": CallState.DIALLING,
            "^CONF:": CallState.ALERTING,
            "^CONN:": CallState.ACTIVE,
        }[line[:6]]
        call._set_state(state)

    def _on_cend(self, line: str, _body: str | None) -> None:
        call = self.call
        match = _CEND_RE.match(line)
        if call is None or match is None:
            return
        call.modem_duration_s = float(match.group(2))
        cause = int(match.group(4)) if match.group(4) else _CAUSE_NORMAL
        if cause == _CAUSE_BUSY and not call.answered:
            call._end(EndReason.BUSY)
        elif cause in _CAUSE_NO_ANSWER and not call.answered:
            call._end(EndReason.NO_ANSWER)
        else:
            call._end_after_answer()

    def _on_final(self, line: str) -> None:
        call = self.call
        if call is None or call.ended:
            return
        if line.startswith("BUSY"):
            call._end(EndReason.BUSY)
        elif line.startswith("NO ANSWER"):
            call._end(EndReason.NO_ANSWER)
        elif line.startswith("NO CARRIER"):
            call._end_after_answer()
        else:  # NO DIALTONE, ERROR
            call._end(EndReason.FAILED)

    def _released(self, call: Call) -> None:
        """Released: answered calls end now; otherwise wait briefly for the final code's why."""
        if call.answered or call._hanging_up:
            call._end_after_answer()
        elif call._release_timer is None:
            loop = asyncio.get_running_loop()
            call._release_timer = loop.call_later(RELEASE_GRACE, call._end_after_answer)

    def _on_dtmf(self, line: str, _body: str | None) -> None:
        call = self.call
        if call is None:
            return
        key = parse_dtmf(line)
        if key is not None:
            call._key(key)
        else:
            _LOGGER.info("%s: DTMF report that is not a key: %r", self.name, line)

    def _on_ctts(self, line: str, _body: str | None) -> None:
        if self.call is not None:
            self.call._tts_done.set()
            self.call._changed.set()


def parse_dtmf(line: str) -> str | None:
    """The key in a family's DTMF report, or None for what is not one.

    SIM800 `+DTMF: 1`, `+DTMF:1`, `+DTMF: 1,160` (key, ms); SIM7600 `+RXDTMF: 1`; Quectel
    `+QTONEDET: 49` or `+QTONEDET: 49,100` (ASCII code); Huawei `^DDTMF: 1`. Single-frequency
    tones (SIM800 `+DTMF:1400`, Quectel codes 69/70) are not keys.
    """
    prefix, sep, rest = line.partition(":")
    if not sep:
        return None
    value = rest.strip().split(",")[0].strip().strip('"')
    if prefix == "+QTONEDET" and value.isdigit():
        value = chr(int(value)) if int(value) < 128 else ""
    return value if len(value) == 1 and value in DTMF_KEYS else None


def tts_text(text: str) -> str:
    """Text for AT+CTTS=2 (ASCII in quotes): accents folded, quotes and control bytes dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded if ch >= " " and ch != '"')
