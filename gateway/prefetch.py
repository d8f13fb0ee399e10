"""The next job of one modem, claimed while its current job is sent.

Claiming ahead commits the next claim together with the previous send's outcome, so a modem
that finishes a send starts the next at once. Strict priority still holds: the prefetched job
is given back when something more urgent was queued meanwhile, when it expired, or when the
modem cannot send it (blocked, lost, out of quota).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from gateway.outbox import Channel, ClaimedAhead, OutboundMessage, Outbox, lowest_priority


class Prefetch:
    """One modem's job claimed ahead, and the most urgent priority queued since that claim."""

    def __init__(self, outbox: Outbox, modem: str) -> None:
        self._outbox = outbox
        self._modem = modem
        self._ahead: ClaimedAhead | None = None
        self._urgent = lowest_priority()

    def note(self, priority: int) -> None:
        """A job of `priority` was queued: if more urgent, it beats the prefetched one."""
        self._urgent = min(self._urgent, priority)

    @contextlib.asynccontextmanager
    async def claiming(self, channels: Iterable[Channel]) -> AsyncIterator[None]:
        """Around a send: claim the next job now, so it is committed before the send ends."""
        self._urgent = lowest_priority()
        ahead = asyncio.ensure_future(self._outbox.claim_ahead(self._modem, channels))
        try:
            yield
        finally:
            self._ahead = await _settled(ahead)

    async def next_job(self, channels: frozenset[Channel]) -> OutboundMessage | None:
        """The job claimed ahead if it is still the right one to send, else a fresh claim."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead.job is None:
            return await self._outbox.claim_next(self._modem, channels)
        job = ahead.job
        now = datetime.now(UTC)
        preempted = self._urgent < job.priority or (
            ahead.preempt_at is not None and ahead.preempt_at <= now
        )
        expired = job.valid_until is not None and job.valid_until <= now
        if not (preempted or expired):
            return job
        # Strict priority (or valid_until) over the prefetch: give it back and claim again,
        # in one transaction; the more urgent job, if still there, comes first.
        _, fresh = await asyncio.gather(
            self._outbox.unclaim(job.id, job.attempts),
            self._outbox.claim_next(self._modem, channels),
        )
        return fresh

    async def give_back(self) -> None:
        """The modem will not send the prefetched job: another modem takes it."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.job is not None:
            await self._outbox.unclaim(ahead.job.id, ahead.job.attempts)


async def _settled(claim: asyncio.Future[ClaimedAhead | None]) -> ClaimedAhead | None:
    """The claim made ahead, once committed (even if this task is being cancelled)."""
    # Awaited in a finally: a job claimed for us must be known, to send it or give it back.
    try:
        return await asyncio.shield(claim)
    except asyncio.CancelledError:
        if claim.done():
            return None if claim.cancelled() else claim.result()
        # Cancelled while the claim is still committing: Outbox gives an orphan back.
        claim.cancel()
        raise
