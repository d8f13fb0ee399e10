"""What a simulated phone does when called, and what it heard: the ground truth of voice tests."""

from __future__ import annotations

import array
import asyncio
import enum
import math
import random
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

SAMPLE_RATE: Final = 8000  # what a phone call carries: narrowband, s16 mono
FRAME_S: Final = 0.020
RING_S: Final = 3.0  # a person takes a few rings to pick up (scaled with the simulator)
# Below this RMS (of 32767) a recording is taken as silence: espeak's quietest syllables are
# well above it, the dither of a real line would be around it.
SILENCE_RMS: Final = 50.0


class Answer(enum.Enum):
    """How the person reacts to the ring."""

    ANSWER = "answer"
    BUSY = "busy"  # already on a call: the network answers BUSY at once
    NO_ANSWER = "no_answer"  # lets it ring until the network gives up


@dataclass(frozen=True)
class CallBehaviour:
    """One phone's reaction to calls, in real seconds (what a person does is not scaled; hang-up
    and keys are measured from the answer, on the audio's own timeline). Without `ring_s` it
    rings for the network-scaled RING_S."""

    answer: Answer = Answer.ANSWER
    ring_s: float | None = None
    hangup_after_s: float | None = None
    keys: tuple[tuple[float, str], ...] = ()  # (seconds after answer, key)


@dataclass
class CallRates:
    """For phones without their own behaviour: how often they are busy or do not answer."""

    busy: float = 0.0
    no_answer: float = 0.0
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"calls:{self.seed}")

    def draw(self) -> CallBehaviour:
        """A behaviour drawn with the configured rates (seeded: the same run twice is equal)."""
        roll = self._rng.random()
        if roll < self.busy:
            return CallBehaviour(Answer.BUSY)
        if roll < self.busy + self.no_answer:
            return CallBehaviour(Answer.NO_ANSWER)
        return CallBehaviour()


@dataclass
class PhoneCall:
    """One call as the callee lived it: when it rang, was answered, ended, and the audio."""

    caller: str
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None  # "busy", "no_answer", "hung_up_by_caller", "hung_up_by_phone"...
    frames: list[tuple[float, bytes]] = field(default_factory=list)  # arrival time, 320 bytes
    keys_pressed: list[tuple[float, str]] = field(default_factory=list)
    wav_path: Path | None = None

    @property
    def audio(self) -> bytes:
        """Everything heard, as 8 kHz s16le mono PCM."""
        return b"".join(frame for _, frame in self.frames)

    @property
    def audio_s(self) -> float:
        return len(self.audio) / (2 * SAMPLE_RATE)

    @property
    def frame_times(self) -> list[float]:
        return [time for time, _ in self.frames]

    def rms(self) -> float:
        """Loudness of what was heard (0 for nothing or silence)."""
        samples = array.array("h")
        samples.frombytes(self.audio)
        if not samples:
            return 0.0
        return math.sqrt(sum(s * s for s in samples) / len(samples))

    def heard_speech(self) -> bool:
        return self.rms() > SILENCE_RMS

    def save_wav(self, path: Path) -> Path:
        """Write what was heard as a WAV (8 kHz s16 mono) for a person or a player to check."""
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(self.audio)
        self.wav_path = path
        return path


@dataclass
class PhoneVoice:
    """The voice side of a SimPhone: its behaviour and the calls it received."""

    behaviour: CallBehaviour | None = None  # None: drawn from the network's CallRates
    record_dir: Path | None = None  # when set, each call's audio is saved there as a WAV
    calls: list[PhoneCall] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def ring(self, caller: str, now: float) -> PhoneCall:
        call = PhoneCall(caller, now)
        self.calls.append(call)
        self._changed.set()
        return call

    def ended(self, call: PhoneCall, outcome: str, now: float, number: str) -> None:
        """The call is over: note why, save the recording if asked to."""
        if call.ended_at is not None:
            return
        call.ended_at = now
        call.outcome = outcome
        if self.record_dir is not None and call.answered_at is not None:
            name = f"call-{number.lstrip('+')}-{len(self.calls)}.wav"
            call.save_wav(self.record_dir / name)
        self._changed.set()

    def changed(self) -> None:
        self._changed.set()

    async def wait_ended(self, count: int = 1, timeout: float = 10.0) -> list[PhoneCall]:
        """Until `count` calls have ended; TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while sum(1 for c in self.calls if c.ended_at is not None) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.calls

    async def wait_answered(self, timeout: float = 10.0) -> PhoneCall:
        """Until the latest call has been answered."""
        async with asyncio.timeout(timeout):
            while not self.calls or self.calls[-1].answered_at is None:
                self._changed.clear()
                await self._changed.wait()
        return self.calls[-1]
