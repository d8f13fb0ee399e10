"""What each call did, stored per attempt, and what that means for its outbox message.

Retries depend on why a call failed: a busy line frees up in minutes, a phone nobody answers
deserves one more try later, a network failure follows the SMS backoff. The policy counts the
stored calls of the message, so it survives restarts like the outbox does.
"""

from __future__ import annotations

import enum
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from gateway.storage.database import Database
from gateway.storage.times import from_ms, to_ms


class CallOutcome(enum.StrEnum):
    """How one call went; `voice_call.outcome`."""

    CONFIRMED = "confirmed"  # answered, heard, 1 pressed
    NO_CONFIRMATION = "no_confirmation"  # answered and heard in full, 1 never pressed
    HUNG_UP = "hung_up"  # answered, but dropped before the message was heard once
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # refused by the network or the module


class Action(enum.Enum):
    """What the outbox does with the message after a call."""

    DELIVER = "deliver"  # mark_delivered
    RETRY = "retry"  # schedule_retry after `delay_s`
    BACKOFF = "backoff"  # the usual transient-error backoff and attempt limit
    FAIL = "fail"  # retries for this outcome are spent


@dataclass(frozen=True)
class CallRecord:
    """One `voice_call` row."""

    message_id: int
    attempt: int
    modem: str
    outcome: CallOutcome
    answered: bool
    plays: int
    keys: str
    end_reason: str | None
    duration_s: float
    error: str | None
    started_at: datetime
    ended_at: datetime
    confirmed_at_s: float | None = None  # when 1 was pressed, seconds after the answer

    @property
    def confirmed(self) -> bool:
        return self.outcome is CallOutcome.CONFIRMED


@dataclass(frozen=True)
class RetryPolicy:
    """The `calls.*` retry settings, and the outbox's overall attempt limit."""

    busy_retries: int = 3
    busy_retry_s: float = 180.0
    no_answer_retries: int = 1
    no_answer_retry_s: float = 600.0
    max_attempts: int = 5


@dataclass(frozen=True)
class Decision:
    action: Action
    delay_s: float = 0.0
    reason: str = ""


# A callee who hung up before hearing the message is treated as one who did not answer.
_UNHEARD = (CallOutcome.NO_ANSWER, CallOutcome.HUNG_UP)


def decide(
    outcome: CallOutcome, earlier: Counter[CallOutcome], attempts: int, policy: RetryPolicy
) -> Decision:
    """The outbox action for a call whose message had `earlier` calls (this one excluded)."""
    if outcome in (CallOutcome.CONFIRMED, CallOutcome.NO_CONFIRMATION):
        return Decision(Action.DELIVER)
    if outcome is CallOutcome.FAILED:
        return Decision(Action.BACKOFF, reason="call failed")
    if outcome is CallOutcome.BUSY:
        allowed, delay, done = policy.busy_retries, policy.busy_retry_s, earlier[outcome]
    else:
        allowed, delay = policy.no_answer_retries, policy.no_answer_retry_s
        done = sum(earlier[o] for o in _UNHEARD)
    if done >= allowed or attempts >= policy.max_attempts:
        return Decision(Action.FAIL, reason=f"{outcome.value} after {done + 1} call(s)")
    return Decision(Action.RETRY, delay, reason=outcome.value)


_INSERT = """
INSERT OR REPLACE INTO voice_call (
    message_id, attempt, modem, outcome, answered, plays, keys, end_reason, duration_ms, error,
    started_at, ended_at, confirmed_ms
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_COLUMNS = (
    "message_id, attempt, modem, outcome, answered, plays, keys, end_reason, duration_ms, error,"
    " started_at, ended_at, confirmed_ms"
)


class CallStore:
    """The `voice_call` table: written once per call, read by the policy and the pages."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, call: CallRecord) -> Counter[CallOutcome]:
        """Store `call` (again: a confirmation is stored at once, the whole call at its end);
        return the outcomes of the message's earlier calls, in one commit."""
        params = (
            call.message_id,
            call.attempt,
            call.modem,
            call.outcome.value,
            int(call.answered),
            call.plays,
            call.keys,
            call.end_reason,
            round(call.duration_s * 1000),
            call.error,
            to_ms(call.started_at),
            to_ms(call.ended_at),
            None if call.confirmed_at_s is None else round(call.confirmed_at_s * 1000),
        )

        def write(conn: sqlite3.Connection) -> Counter[CallOutcome]:
            rows = conn.execute(
                "SELECT outcome FROM voice_call WHERE message_id = ? AND attempt <> ?",
                (call.message_id, call.attempt),
            ).fetchall()
            conn.execute(_INSERT, params)
            return Counter(CallOutcome(row[0]) for row in rows)

        return await self._db.write_fn(write)

    async def for_message(self, message_id: int) -> list[CallRecord]:
        """Every call placed for a message, oldest first."""

        def select(conn: sqlite3.Connection) -> list[CallRecord]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM voice_call WHERE message_id = ? ORDER BY attempt",
                (message_id,),
            ).fetchall()
            return [_record(row) for row in rows]

        return await self._db.read_fn(select)


def _record(row: sqlite3.Row | tuple[object, ...]) -> CallRecord:
    values = tuple(row)
    return CallRecord(
        message_id=int(str(values[0])),
        attempt=int(str(values[1])),
        modem=str(values[2]),
        outcome=CallOutcome(str(values[3])),
        answered=bool(values[4]),
        plays=int(str(values[5])),
        keys=str(values[6]),
        end_reason=None if values[7] is None else str(values[7]),
        duration_s=int(str(values[8])) / 1000,
        error=None if values[9] is None else str(values[9]),
        started_at=from_ms(int(str(values[10]))),
        ended_at=from_ms(int(str(values[11]))),
        confirmed_at_s=None if values[12] is None else int(str(values[12])) / 1000,
    )
