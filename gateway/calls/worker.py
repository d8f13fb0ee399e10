"""The voice side of one pool modem: which voice jobs it takes now, placing and settling calls.

`ModemWorker` owns the modem and its health; it hands every voice job here. A modem that cannot
speak a job's language (SIM800's TTS is English only) gives it back and leaves voice jobs alone
for a while, so another modem claims it instead of this one taking it back at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final

from gateway.calls.outcomes import CallRecord
from gateway.calls.runner import Backoff, CallRunner
from gateway.outbox import Channel, OutboundMessage
from modem.modem import Modem
from modem.voice import Voice

# A modem that handed a voice job over (it cannot speak its language) leaves voice jobs to the
# others this long, rather than claiming the same job back at once.
VOICE_HANDOVER_S: Final = 10.0


class ModemCalls:
    """Calls on one pool modem, through the pool's shared `CallRunner`."""

    def __init__(
        self, runner: CallRunner, modem: Modem, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.runner = runner
        self.voice = Voice(modem)
        self._clock = clock
        self._paused_until = 0.0
        runner.attach(self.voice)

    def claimable(self, channels: frozenset[Channel]) -> frozenset[Channel]:
        """`channels` minus voice while voice jobs rest after a hand-over."""
        if self._paused_until > self._clock():
            return channels - {Channel.VOICE}
        return channels

    def speaks(self, job: OutboundMessage) -> bool:
        """Whether this modem can voice `job` in its language."""
        return self.runner.can_speak(self.voice, job.language)

    def hand_over(self, job: OutboundMessage) -> Awaitable[OutboundMessage]:
        """Give `job` back for a modem that speaks it (or fail it), and rest from voice jobs."""
        self._paused_until = self._clock() + VOICE_HANDOVER_S
        return self.runner.hand_over(self.voice, job)

    async def place(self, job: OutboundMessage) -> CallRecord:
        """Dial, play, listen, hang up; ModemError when nothing is known of the call's fate."""
        return await self.runner.place(self.voice, job)

    def settle(
        self, job: OutboundMessage, record: CallRecord, backoff: Backoff
    ) -> Awaitable[OutboundMessage]:
        """The outbox update for a placed call: delivered, retried, failed, or `backoff`."""
        return self.runner.settle(job, record, backoff)
