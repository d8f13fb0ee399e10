"""One outgoing voice call as its caller sees it: state, keys pressed, how it ended.

`Voice` (modem/voice.py) feeds it from the modem's reports and does the AT work behind its
`play`, `speak` and `hangup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from modem.audio import PacingStats
from modem.exceptions import ModemError

if TYPE_CHECKING:
    from modem.voice import Voice

_LOGGER = logging.getLogger(__name__)

# How long a callee may ring before we give up and hang up ourselves (a voicemail answers ~25 s).
RING_TIMEOUT: Final = 40.0


class CallState(enum.Enum):
    """Where an outgoing call is."""

    DIALLING = "dialling"  # ATD sent; the network is setting the call up
    ALERTING = "alerting"  # the callee's phone rings
    ACTIVE = "active"  # answered: audio flows, keys are heard
    ENDED = "ended"  # see Call.end_reason


class EndReason(enum.Enum):
    """Why a call ended: the gateway's retry policy is keyed on this."""

    HUNG_UP = "hung_up"  # answered, then we hung up (the normal end)
    REMOTE_HANGUP = "remote_hangup"  # answered, then the callee hung up
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # rang out, or we gave up ringing
    CANCELLED = "cancelled"  # we hung up before it rang
    FAILED = "failed"  # refused by the network or the module, or the module was lost


class VoiceError(ModemError):
    """A voice operation that cannot be done (call not active, one already in progress)."""


class VoiceUnsupportedError(VoiceError):
    """The family cannot do this (PCM on SIM800, French with SIM800's TTS)."""


@dataclass(frozen=True)
class StateChanged:
    """The call moved to `state` at `at_s` (seconds since dialling)."""

    state: CallState
    at_s: float


@dataclass(frozen=True)
class DtmfKey:
    """The callee pressed `key` at `at_s` (seconds since the call was answered)."""

    key: str
    at_s: float


CallEvent = StateChanged | DtmfKey


@dataclass
class Call:
    """One outgoing call; its state, keys and end are fed by the owning `Voice`'s URCs."""

    voice: Voice
    number: str
    state: CallState = CallState.DIALLING
    end_reason: EndReason | None = None
    events: list[CallEvent] = field(default_factory=list)
    keys: list[DtmfKey] = field(default_factory=list)
    modem_duration_s: float | None = None  # as the module reports it, where it does
    started_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())
    answered_at: float | None = None
    ended_at: float | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _key_cursor: int = field(default=0, repr=False)
    _hanging_up: bool = field(default=False, repr=False)
    _hangup_reason: EndReason | None = field(default=None, repr=False)
    _release_timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    _tts_done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    # Set (from the loop) when a key the current play or speech stops on is pressed; read by
    # the pacing thread between frames.
    _interrupt: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop_keys: str = field(default="", repr=False)

    @property
    def ended(self) -> bool:
        return self.state is CallState.ENDED

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def duration_s(self) -> float:
        """Seconds from answer to end (or to now); 0 for a call never answered."""
        if self.answered_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self._now()
        return end - self.answered_at

    async def wait_answered(self, timeout: float = RING_TIMEOUT) -> bool:
        """True once answered; False if it ended first. Past `timeout`, hang up: NO_ANSWER."""
        try:
            async with asyncio.timeout(timeout):
                while self.state not in (CallState.ACTIVE, CallState.ENDED):
                    await self._wait_change()
        except TimeoutError:
            await self.hangup(reason=EndReason.NO_ANSWER)
        return self.state is CallState.ACTIVE

    async def wait_ended(self, timeout: float | None = None) -> EndReason:
        """Until the call is over; TimeoutError after `timeout`."""
        async with asyncio.timeout(timeout):
            while self.end_reason is None:
                await self._wait_change()
        return self.end_reason

    async def next_key(self, timeout: float) -> str | None:
        """The next key pressed that nobody read yet; None on timeout or when the call ends."""
        event = await self.next_key_event(timeout)
        return event.key if event is not None else None

    async def next_key_event(self, timeout: float) -> DtmfKey | None:
        """`next_key` with the moment it was pressed; timeout 0 only reads what is pending."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._key_cursor >= len(self.keys) and not self.ended:
                    await self._wait_change()
        if self._key_cursor < len(self.keys):
            self._key_cursor += 1
            return self.keys[self._key_cursor - 1]
        return None

    async def play(self, pcm: bytes, *, stop_keys: str = "") -> PacingStats:
        """Stream 8 kHz s16 mono PCM into the call in real time; stops if the call ends, or at
        once (within a frame) when one of `stop_keys` is pressed (the key stays unread)."""
        return await self.voice.play(self, pcm, stop_keys=stop_keys)

    async def speak(
        self, text: str, language: str, *, any_language: bool = False, stop_keys: str = ""
    ) -> bool:
        """Have the module speak `text` itself (SIM800's AT+CTTS); see `Voice.speak`."""
        return await self.voice.speak(
            self, text, language, any_language=any_language, stop_keys=stop_keys
        )

    async def hangup(self, *, reason: EndReason | None = None) -> None:
        """Hang up (no-op once ended); `reason` overrides the usual HUNG_UP / CANCELLED."""
        await self.voice.hangup(self, reason=reason)

    # ---- fed by Voice

    def _set_state(self, state: CallState) -> None:
        if self.ended or state is self.state:
            return
        if state is CallState.ACTIVE:
            self.answered_at = self._now()
        self.state = state
        self._event(StateChanged(state, self._now() - self.started_at))

    def _end(self, reason: EndReason) -> None:
        if self.ended:
            return
        if self._release_timer is not None:
            self._release_timer.cancel()
        self.end_reason = reason
        self.ended_at = self._now()
        self.state = CallState.ENDED
        self._tts_done.set()
        self._event(StateChanged(CallState.ENDED, self.ended_at - self.started_at))
        _LOGGER.info(
            "%s: call to %s ended: %s after %.1f s",
            self.voice.name,
            self.number,
            reason.value,
            self.duration_s,
        )

    def _end_after_answer(self) -> None:
        """The line dropped; whose doing it was depends on whether we were hanging up."""
        if self._hanging_up:
            default = EndReason.HUNG_UP if self.answered else EndReason.CANCELLED
            self._end(self._hangup_reason or default)
        elif self.answered:
            self._end(EndReason.REMOTE_HANGUP)
        elif self.state is CallState.ALERTING:
            self._end(EndReason.NO_ANSWER)  # rang, then the network released it
        else:
            self._end(EndReason.FAILED)

    def _key(self, key: str) -> None:
        if self.state is not CallState.ACTIVE:
            return
        event = DtmfKey(key, self._now() - (self.answered_at or self.started_at))
        self.keys.append(event)
        if key in self._stop_keys:
            self._interrupt.set()
        self._event(event)

    def _stop_on(self, keys: str) -> threading.Event:
        """Arm the interrupt for `keys`; already set if one of them is pressed and unread."""
        self._stop_keys = keys
        self._interrupt.clear()
        if any(k.key in keys for k in self.keys[self._key_cursor :]):
            self._interrupt.set()
        return self._interrupt

    def _disarm(self) -> None:
        self._stop_keys = ""

    def _event(self, event: CallEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def _wait_change(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
