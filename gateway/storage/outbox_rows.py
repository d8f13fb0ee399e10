"""Row mapping and the multi-statement steps the outbox runs inside one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import timedelta

from gateway.storage import outbox_sql as sql
from gateway.storage.errors import TransitionError
from gateway.storage.outbox_models import (
    Channel,
    MessageClass,
    MessageState,
    NewMessage,
    OutboundMessage,
    PartState,
    SentPart,
    classify_status,
)
from gateway.storage.times import from_ms, opt_from_ms, opt_to_ms, to_ms


def insert_params(message: NewMessage, campaign_id: int | None, now_ms: int) -> tuple[object, ...]:
    """Parameters for INSERT_MESSAGE, in its column order."""
    due = now_ms if message.not_before is None else max(now_ms, to_ms(message.not_before))
    return (
        message.message_class.value,
        message.message_class.value,
        message.channel.value,
        message.destination,
        message.body,
        message.language,
        campaign_id,
        message.idempotency_key,
        opt_to_ms(message.valid_until),
        due,
        now_ms,
        now_ms,
    )


def millis(span: timedelta) -> int:
    """Windows are timedeltas in code and milliseconds in SQL."""
    return span // timedelta(milliseconds=1)


def id_for_key(conn: sqlite3.Connection, key: str | None) -> int:
    """The id a repeated idempotency key maps to, so enqueue can answer with it."""
    rows = conn.execute(sql.SELECT_ID_BY_KEY, (key,)).fetchall()
    if not rows:
        raise RuntimeError("insert reported a conflict but no row holds the key")
    return int(rows[0][0])


def fetch_message(conn: sqlite3.Connection, message_id: int) -> OutboundMessage | None:
    """One message on the caller's connection, so it sees the caller's transaction."""
    row = conn.execute(sql.SELECT_MESSAGE, (message_id,)).fetchone()
    return None if row is None else message_from_row(row)


def update_one(
    conn: sqlite3.Connection,
    statement: str,
    params: Mapping[str, object],
    message_id: int,
    wanted: str,
) -> OutboundMessage:
    """Run a guarded UPDATE … RETURNING; no row back means the state did not allow it."""
    row = conn.execute(statement, params).fetchone()
    if row is not None:
        return message_from_row(row)
    state = conn.execute(sql.SELECT_STATE, (message_id,)).fetchone()
    raise TransitionError(message_id, None if state is None else str(state[0]), wanted)


def apply_status(
    conn: sqlite3.Connection, part_id: int, status: int, now_ms: int
) -> OutboundMessage | None:
    """Update one part, then roll its message up: any part failed → failed; all delivered."""
    verdict = classify_status(status)
    state = PartState.SENT if verdict is None else verdict
    row = conn.execute(
        sql.UPDATE_PART, {"status": status, "now": now_ms, "state": state.value, "id": part_id}
    ).fetchone()
    message_id, attempt = int(row[0]), int(row[1])
    message = fetch_message(conn, message_id)
    if message is None or message.state != MessageState.SENT or attempt != message.attempts:
        return message  # a late report for a finished message or an earlier attempt
    tally = conn.execute(sql.PART_TALLY, (message_id, attempt)).fetchone()
    if tally["failed"]:
        outcome, error = MessageState.FAILED, f"status report TP-ST 0x{status:02X}"
    elif tally["delivered"] == tally["total"]:
        outcome, error = MessageState.DELIVERED, None
    else:
        return message
    params = {"id": message_id, "state": outcome.value, "error": error, "now": now_ms}
    rolled = conn.execute(sql.ROLL_UP, params).fetchone()
    return message if rolled is None else message_from_row(rolled)


def message_from_row(row: sqlite3.Row) -> OutboundMessage:
    """Callers get enums and aware datetimes, never column strings and integers."""
    return OutboundMessage(
        id=int(row["id"]),
        message_class=MessageClass(row["class"]),
        priority=int(row["priority"]),
        channel=Channel(row["channel"]),
        destination=str(row["destination"]),
        body=str(row["body"]),
        language=str(row["language"]),
        campaign_id=row["campaign_id"],
        idempotency_key=row["idempotency_key"],
        valid_until=opt_from_ms(row["valid_until"]),
        state=MessageState(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=from_ms(row["next_attempt_at"]),
        modem=row["modem"],
        last_error=row["last_error"],
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
        sent_at=opt_from_ms(row["sent_at"]),
        finished_at=opt_from_ms(row["finished_at"]),
    )


def part_from_row(row: sqlite3.Row) -> SentPart:
    """As message_from_row, for message_part."""
    return SentPart(
        message_id=int(row["message_id"]),
        attempt=int(row["attempt"]),
        part_no=int(row["part_no"]),
        modem=str(row["modem"]),
        mr=int(row["mr"]),
        state=PartState(row["state"]),
        status=row["status"],
        sent_at=from_ms(row["sent_at"]),
        reported_at=opt_from_ms(row["reported_at"]),
    )
