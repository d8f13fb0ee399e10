"""One voice job on one modem: render the script, dial, play, listen for keys, hang up, judge.

Speech is rendered before dialling, so a callee never waits in silence for the synthesiser.
Families with PCM play espeak-ng's audio; SIM800 has only its module's English TTS, so a
modem that cannot speak a job's language hands it over to one that can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from gateway.calls.outcomes import (
    Action,
    CallOutcome,
    CallRecord,
    CallStore,
    RetryPolicy,
    decide,
)
from gateway.calls.scripts import KEY_CONFIRM, KEY_REPEAT, CallScript, script_for
from gateway.config import Config
from gateway.events import EventBus
from gateway.outbox import OutboundMessage, Outbox
from gateway.speech import Speech, SpeechError
from gateway.storage.times import utc_now
from modem.audio import silence
from modem.exceptions import ModemError
from modem.voice import AudioMode, Call, DtmfKey, EndReason, Voice

_LOGGER = logging.getLogger(__name__)

# A breath between the message and the prompt, so the two are heard as separate sentences.
PROMPT_PAUSE_S: Final = 0.5
# Hang-up is local to the module; past this the call is ended on our side anyway.
HANGUP_TIMEOUT_S: Final = 10.0
# Keys that cut the message short: 1 confirms at once, 2 starts it again at once.
STOP_KEYS: Final = KEY_CONFIRM + KEY_REPEAT
# A 2 asks for one more play beyond `calls.repeats`, but only this many times per call, so a
# stuck key cannot hold a modem forever.
MAX_REPLAYS_ASKED: Final = 3

Backoff = Callable[[OutboundMessage, str], Awaitable[OutboundMessage]]


@dataclass(frozen=True)
class CallSettings:
    """The `calls.*` settings."""

    ring_timeout_s: float = 40.0
    repeats: int = 3
    listen_s: float = 6.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_config(cls, config: Config) -> CallSettings:
        """Read the documented settings (gateway.config.SETTINGS)."""
        return cls(
            ring_timeout_s=config.get_float("calls.ring_timeout_s"),
            repeats=max(1, config.get_int("calls.repeats")),
            listen_s=config.get_float("calls.listen_s"),
            policy=RetryPolicy(
                busy_retries=config.get_int("calls.busy_retries"),
                busy_retry_s=config.get_float("calls.busy_retry_s"),
                no_answer_retries=config.get_int("calls.no_answer_retries"),
                no_answer_retry_s=config.get_float("calls.no_answer_retry_s"),
                max_attempts=config.get_int("dispatch.max_attempts"),
            ),
        )


@dataclass
class _Audio:
    """A script as the modem will voice it: PCM, or text for the module's TTS."""

    script: CallScript
    message: bytes = b""  # the message, a pause, the prompt
    thanks: bytes = b""


@dataclass
class _Conversation:
    """What the callee did so far in one call."""

    plays: int = 0  # times the message was heard to its end
    replays_asked: int = 0
    confirmed_at_s: float | None = None
    early_write: asyncio.Future[Counter[CallOutcome]] | None = None

    async def written(self) -> None:
        """The confirmation stored at once has landed (or failed: the final record follows)."""
        if self.early_write is not None:
            try:
                await self.early_write
            except Exception as exc:  # the record at the call's end is written anyway
                _LOGGER.warning("storing a confirmation early failed: %s", exc)


class CallRunner:
    """Places calls for every voice modem of the pool and settles their outbox messages."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        store: CallStore,
        speech: Speech,
        bus: EventBus,
        settings: CallSettings,
        town: str,
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.speech = speech
        self.settings = settings
        self.town = town
        self._bus = bus
        self._voices: list[Voice] = []

    def attach(self, voice: Voice) -> None:
        """A pool modem that serves voice: it may take over jobs another cannot speak."""
        self._voices.append(voice)

    @staticmethod
    def can_speak(voice: Voice, language: str) -> bool:
        """Whether `voice`'s modem can say something in `language` (once its family is known)."""
        profile = voice.profile
        if profile.audio_mode is AudioMode.PCM:
            return voice.audio_port is not None
        if profile.audio_mode is AudioMode.MODULE_TTS:
            return language in profile.tts_languages
        return False

    def someone_else_may_speak(self, voice: Voice, language: str) -> bool:
        """Another voice modem speaks `language`, or is not identified yet and might."""
        return any(
            other is not voice and (other.modem.identity is None or self.can_speak(other, language))
            for other in self._voices
        )

    async def hand_over(self, voice: Voice, job: OutboundMessage) -> OutboundMessage:
        """Give the job back for a modem that can speak it; fail it if there is none."""
        if self.someone_else_may_speak(voice, job.language):
            return await self.outbox.unclaim(job.id, job.attempts)
        return await self.outbox.mark_failed(
            job.id, f"no voice modem can speak {job.language!r} (SIM800 TTS: English only)"
        )

    async def place(self, voice: Voice, job: OutboundMessage) -> CallRecord:
        """Call the job's number; ModemError only when nothing is known of the call's fate."""
        script = script_for(job.message_class, job.body, job.language, self.town)
        started, clock = utc_now(), time.monotonic()
        try:
            audio = await self._render(voice, script)
        except SpeechError as exc:
            _LOGGER.error("%s: message %d: speech: %s", voice.name, job.id, exc)
            return self._record(
                voice, job, None, _Conversation(), error=str(exc), started=started, clock=clock
            )
        await voice.enable()  # again each time: a module that rebooted forgot it
        call = await voice.dial(job.destination)
        conversation = _Conversation()
        error = None

        def confirmed(key: DtmfKey) -> None:
            """Store the confirmation now; the whole call is stored again when it ends."""
            record = self._record(
                voice, job, call, conversation, error=None, started=started, clock=clock
            )
            conversation.early_write = asyncio.ensure_future(self.store.record(record))

        try:
            await self._converse(call, voice, audio, conversation, confirmed)
        except ModemError as exc:
            error = str(exc)
            _LOGGER.warning("%s: call to %s: %s", voice.name, job.destination, exc)
        finally:
            if not call.ended:
                with contextlib.suppress(ModemError, TimeoutError):
                    await call.hangup()
            await conversation.written()
        return self._record(
            voice, job, call, conversation, error=error, started=started, clock=clock
        )

    async def settle(
        self, job: OutboundMessage, record: CallRecord, backoff: Backoff
    ) -> OutboundMessage:
        """Store the call and move its message on: delivered, retried, or failed."""
        earlier = await self.store.record(record)
        decision = decide(record.outcome, earlier, job.attempts, self.settings.policy)
        self._bus.publish(
            "call",
            message_id=job.id,
            destination=job.destination,
            modem=record.modem,
            outcome=record.outcome.value,
            answered=record.answered,
            confirmed=record.confirmed,
            confirmed_after_s=record.confirmed_at_s,
            keys=record.keys,
            plays=record.plays,
            duration_s=round(record.duration_s, 1),
            action=decision.action.value,
        )
        if decision.action is Action.DELIVER:
            return await self.outbox.mark_delivered(job.id)
        if decision.action is Action.RETRY:
            at = utc_now() + timedelta(seconds=decision.delay_s)
            return await self.outbox.schedule_retry(job.id, at, decision.reason)
        if decision.action is Action.FAIL:
            return await self.outbox.mark_failed(job.id, decision.reason)
        return await backoff(job, record.error or decision.reason)

    # ---- one call

    async def _render(self, voice: Voice, script: CallScript) -> _Audio:
        audio = _Audio(script)
        if voice.audio_mode is AudioMode.PCM:
            message = await self.speech.render(script.message, script.language)
            prompt = await self.speech.render(script.prompt, script.language)
            audio.message = message + silence(PROMPT_PAUSE_S) + prompt
            audio.thanks = await self.speech.render(script.thanks, script.language)
        return audio

    async def _converse(
        self,
        call: Call,
        voice: Voice,
        audio: _Audio,
        conversation: _Conversation,
        on_confirm: Callable[[DtmfKey], None],
    ) -> None:
        """Play until 1 is pressed or the plays run out; a 1 or 2 cuts the message short."""
        if not await call.wait_answered(self.settings.ring_timeout_s):
            return
        plays_left = self.settings.repeats
        while plays_left > 0:
            plays_left -= 1
            if await self._say(call, voice, audio, thanks=False):
                conversation.plays += 1
            if call.ended:
                return
            key = await self._listen(call)  # at once if 1 or 2 stopped the message
            if key is not None and key.key == KEY_CONFIRM:
                conversation.confirmed_at_s = key.at_s
                on_confirm(key)
                await self._say(call, voice, audio, thanks=True)
                return
            if key is not None and conversation.replays_asked < MAX_REPLAYS_ASKED:
                conversation.replays_asked += 1  # 2: again, without using up a repeat
                plays_left += 1

    async def _say(self, call: Call, voice: Voice, audio: _Audio, *, thanks: bool) -> bool:
        """Voice one part; True if it was heard to the end (1 or 2 stop the message)."""
        script = audio.script
        stop_keys = "" if thanks else STOP_KEYS
        if voice.audio_mode is AudioMode.PCM:
            stats = await call.play(audio.thanks if thanks else audio.message, stop_keys=stop_keys)
            return not stats.stopped_early and not call.ended
        text = script.thanks if thanks else f"{script.message} {script.prompt}"
        return await call.speak(text, script.language, stop_keys=stop_keys)

    async def _listen(self, call: Call) -> DtmfKey | None:
        """The first 1 or 2 pressed (during the message or just after); other keys are ignored."""
        deadline = time.monotonic() + self.settings.listen_s
        while not call.ended:
            key = await call.next_key_event(max(0.0, deadline - time.monotonic()))
            if key is None or key.key in STOP_KEYS:
                return key
        return None

    def _record(
        self,
        voice: Voice,
        job: OutboundMessage,
        call: Call | None,
        conversation: _Conversation,
        *,
        error: str | None,
        started: datetime,
        clock: float,
    ) -> CallRecord:
        ended = started + timedelta(seconds=time.monotonic() - clock)
        plays, confirmed_at = conversation.plays, conversation.confirmed_at_s
        outcome = _outcome(call, plays, confirmed_at is not None, error)
        end_reason = call.end_reason if call is not None else None
        return CallRecord(
            message_id=job.id,
            attempt=job.attempts,
            modem=voice.name,
            outcome=outcome,
            answered=call is not None and call.answered,
            plays=plays,
            keys="".join(k.key for k in call.keys) if call is not None else "",
            end_reason=end_reason.value if end_reason is not None else None,
            duration_s=call.duration_s if call is not None else 0.0,
            error=error,
            started_at=started,
            ended_at=ended,
            confirmed_at_s=confirmed_at,
        )


def _outcome(call: Call | None, plays: int, confirmed: bool, error: str | None) -> CallOutcome:
    """The stored outcome of a call, from what the modem and the callee did."""
    if call is None:
        return CallOutcome.FAILED
    if call.answered:
        if confirmed:
            return CallOutcome.CONFIRMED
        if plays:
            return CallOutcome.NO_CONFIRMATION
        return CallOutcome.FAILED if error is not None else CallOutcome.HUNG_UP
    reason = call.end_reason
    if reason is EndReason.BUSY:
        return CallOutcome.BUSY
    if reason in (EndReason.NO_ANSWER, EndReason.CANCELLED):
        return CallOutcome.NO_ANSWER
    return CallOutcome.FAILED
