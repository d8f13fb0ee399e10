"""A model of the outbox's state machine, checked against the real one by hypothesis."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gateway.outbox import (
    TERMINAL_STATES,
    Channel,
    MessageClass,
    MessageState,
    NewMessage,
    Outbox,
    PartRef,
    PartState,
    classify_status,
)
from gateway.storage import Database
from gateway.storage.times import to_ms
from tests.storage.conftest import FakeClock

PRIORITY = {
    MessageClass.OTP: 0,
    MessageClass.RELAY: 1,
    MessageClass.REPLY: 2,
    MessageClass.ALERT: 3,
    MessageClass.API: 4,
}
MODEM = "modem0"
STATUSES = [0x00, 0x01, 0x21, 0x41, 0x62]
# tmpfs where there is one: fsync is free there, so shrinking a failure takes seconds, not
# minutes. Durability itself is test_crash.py's business.
FAST_TMP = "/dev/shm" if Path("/dev/shm").is_dir() else None
Q, SENDING, SENT = MessageState.QUEUED, MessageState.SENDING, MessageState.SENT


@dataclass
class Model:
    """What the outbox should hold for one message."""

    message_class: MessageClass
    channel: Channel
    keyed: bool
    valid_until: int | None
    next_attempt: int
    state: MessageState = MessageState.QUEUED
    attempts: int = 0
    parts: dict[int, PartState] = field(default_factory=dict)  # MR -> state

    @property
    def resend_after_unknown(self) -> bool:
        return self.message_class == MessageClass.ALERT or (
            self.message_class == MessageClass.API and not self.keyed
        )


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="tocsin-stateful-", dir=FAST_TMP))
        self.clock = FakeClock()
        self.db = self.run(Database.open(self.folder / "outbox.sqlite3"))
        self.outbox = Outbox(self.db, clock=self.clock)
        self.model: dict[int, Model] = {}
        self.seen: dict[int, tuple[MessageState, int]] = {}
        self.gave_up: set[int] = set()  # unknown outcome, never to be claimed again
        self.next_mr = 0
        self.keys = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def now(self) -> int:
        return to_ms(self.clock.now)

    def in_state(self, *states: MessageState, channel: Channel | None = None) -> list[int]:
        return sorted(
            message_id
            for message_id, model in self.model.items()
            if model.state in states and (channel is None or model.channel == channel)
        )

    def expire_queued(self) -> None:
        for model in self.model.values():
            expired = model.valid_until is not None and model.valid_until <= self.now()
            if model.state == Q and expired:
                model.state = MessageState.EXPIRED

    def settle_unknown(self, message_id: int, retry_at: int | None = None) -> None:
        model = self.model[message_id]
        if model.resend_after_unknown:
            model.state = Q
            model.next_attempt = retry_at if retry_at is not None else model.next_attempt
        else:
            model.state = MessageState.UNKNOWN
            self.gave_up.add(message_id)

    @rule(
        message_class=st.sampled_from(list(MessageClass)),
        channel=st.sampled_from(list(Channel)),
        validity_s=st.none() | st.integers(1, 900),
        delay_s=st.sampled_from([0, 0, 0, 30, 300]),
        keyed=st.booleans(),
    )
    def enqueue(
        self,
        message_class: MessageClass,
        channel: Channel,
        validity_s: int | None,
        delay_s: int,
        keyed: bool,
    ) -> None:
        self.keys += 1
        valid_until = None if validity_s is None else self.clock.now + timedelta(seconds=validity_s)
        message = NewMessage(
            message_class=message_class,
            channel=channel,
            destination="+15145550100",
            body="x",
            language="fr",
            valid_until=valid_until,
            idempotency_key=f"k{self.keys}" if keyed else None,
            not_before=self.clock.now + timedelta(seconds=delay_s),
        )
        message_id = self.run(self.outbox.enqueue(message))
        assert message_id not in self.model
        self.model[message_id] = Model(
            message_class,
            channel,
            keyed,
            None if valid_until is None else to_ms(valid_until),
            self.now() + delay_s * 1000,
        )

    @rule(channels=st.sampled_from([{Channel.SMS}, {Channel.VOICE}, set(Channel)]))
    def claim(self, channels: set[Channel]) -> None:
        self.expire_queued()
        due = [
            (PRIORITY[m.message_class], m.next_attempt, message_id)
            for message_id, m in self.model.items()
            if m.state == Q and m.channel in channels and m.next_attempt <= self.now()
        ]
        claimed = self.run(self.outbox.claim_next(MODEM, channels))
        if not due:
            assert claimed is None
            return
        expected = min(due)[2]
        assert claimed is not None
        assert claimed.id == expected
        model = self.model[expected]
        assert model.valid_until is None or self.now() < model.valid_until
        assert expected not in self.gave_up
        model.state = SENDING
        model.attempts += 1

    @precondition(lambda self: self.in_state(SENDING, channel=Channel.SMS))
    @rule(data=st.data(), part_count=st.integers(1, 3))
    def mark_sent(self, data: st.DataObject, part_count: int) -> None:
        message_id = data.draw(st.sampled_from(self.in_state(SENDING, channel=Channel.SMS)))
        mrs = [(self.next_mr + n) % 256 for n in range(part_count)]
        self.next_mr += part_count
        parts = [PartRef(MODEM, n + 1, mr) for n, mr in enumerate(mrs)]
        sent = self.run(self.outbox.mark_sent(message_id, parts))
        assert sent.state == SENT
        model = self.model[message_id]
        model.state = SENT
        model.parts = dict.fromkeys(mrs, PartState.SENT)

    @precondition(lambda self: self.in_state(SENDING, channel=Channel.VOICE))
    @rule(data=st.data())
    def voice_answered(self, data: st.DataObject) -> None:
        message_id = data.draw(st.sampled_from(self.in_state(SENDING, channel=Channel.VOICE)))
        self.run(self.outbox.mark_delivered(message_id))
        self.model[message_id].state = MessageState.DELIVERED

    @precondition(lambda self: any(m.parts for m in self.model.values()))
    @rule(data=st.data(), status=st.sampled_from(STATUSES))
    def status_report(self, data: st.DataObject, status: int) -> None:
        candidates = sorted((mr, mid) for mid, m in self.model.items() for mr in m.parts)
        mr, message_id = data.draw(st.sampled_from(candidates))
        result = self.run(self.outbox.record_status_report(MODEM, mr, status))
        assert result is not None
        assert result.id == message_id
        model = self.model[message_id]
        verdict = classify_status(status)
        if verdict is not None and model.parts[mr] == PartState.SENT:
            model.parts[mr] = verdict
        if model.state == SENT:
            if PartState.FAILED in model.parts.values():
                model.state = MessageState.FAILED
            elif set(model.parts.values()) == {PartState.DELIVERED}:
                model.state = MessageState.DELIVERED

    @precondition(lambda self: self.in_state(SENDING))
    @rule(data=st.data(), delay_s=st.integers(1, 600))
    def retry(self, data: st.DataObject, delay_s: int) -> None:
        message_id = data.draw(st.sampled_from(self.in_state(SENDING)))
        at = self.clock.now + timedelta(seconds=delay_s)
        self.run(self.outbox.schedule_retry(message_id, at, "+CMS ERROR: 38"))
        model = self.model[message_id]
        model.next_attempt = to_ms(at)
        expires = model.valid_until is not None and model.valid_until <= to_ms(at)
        model.state = MessageState.EXPIRED if expires else Q

    @precondition(lambda self: self.in_state(SENDING))
    @rule(data=st.data(), outcome=st.sampled_from(["fail", "release", "unknown"]))
    def finish_attempt(self, data: st.DataObject, outcome: str) -> None:
        message_id = data.draw(st.sampled_from(self.in_state(SENDING)))
        if outcome == "fail":
            self.run(self.outbox.mark_failed(message_id, "+CMS ERROR: 21"))
            self.model[message_id].state = MessageState.FAILED
        elif outcome == "release":
            self.run(self.outbox.release(message_id))
            self.model[message_id].state = Q
        else:
            self.run(self.outbox.mark_unknown(message_id, "no answer to AT+CMGS"))
            self.settle_unknown(message_id)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        message_id = data.draw(st.sampled_from(sorted(self.model)))
        cancelled = self.run(self.outbox.cancel(message_id))
        model = self.model[message_id]
        assert cancelled == (model.state == Q)
        if cancelled:
            model.state = MessageState.CANCELLED

    @rule()
    def restart(self) -> None:
        self.run(self.db.close())
        self.db = self.run(Database.open(self.folder / "outbox.sqlite3"))
        self.outbox = Outbox(self.db, clock=self.clock)
        self.run(self.outbox.recover_after_restart())
        for message_id in self.in_state(SENDING):
            self.settle_unknown(message_id)
        self.expire_queued()

    @rule(seconds=st.integers(1, 600))
    def advance_clock(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @invariant()
    def database_matches_model(self) -> None:
        rows = self.run(self._all_rows())
        assert {mid: state for mid, (state, _) in rows.items()} == {
            mid: m.state for mid, m in self.model.items()
        }
        assert {mid: n for mid, (_, n) in rows.items()} == {
            mid: m.attempts for mid, m in self.model.items()
        }
        for message_id, (state, attempts) in rows.items():
            before = self.seen.get(message_id)
            if before is not None:
                assert attempts >= before[1], "attempts went down"
                if before[0] in TERMINAL_STATES:
                    assert state == before[0], "a message left a terminal state"
        self.seen = rows

    async def _all_rows(self) -> dict[int, tuple[MessageState, int]]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT id, state, attempts FROM message")
        return {int(r[0]): (MessageState(r[1]), int(r[2])) for r in rows}


OutboxMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOutboxStateMachine = OutboxMachine.TestCase
