"""The outbox's SQL text, kept beside the schema it depends on and out of the domain module."""

from __future__ import annotations

from functools import cache

MESSAGE_COLUMNS = (
    "id, class, priority, channel, destination, body, language, campaign_id, idempotency_key,"
    " valid_until, state, attempts, next_attempt_at, modem, last_error, created_at, updated_at,"
    " sent_at, finished_at"
)

INSERT_MESSAGE = """
INSERT INTO message (
    class, priority, channel, destination, body, language, campaign_id, idempotency_key,
    valid_until, next_attempt_at, created_at, updated_at
) VALUES (?, (SELECT priority FROM message_class WHERE name = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
"""

# enqueue needs the id and the priority (to tell a modem holding a prefetched job).
INSERT_MESSAGE_RETURNING = INSERT_MESSAGE.rstrip() + "\nRETURNING id, priority\n"

# What a listener is told when it cannot be told better: the least urgent priority.
LOWEST_PRIORITY = 1 << 30

SELECT_ID_BY_KEY = "SELECT id FROM message WHERE idempotency_key = ?"

SELECT_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM message WHERE id = ?"

SELECT_STATE = "SELECT state FROM message WHERE id = ?"

SELECT_UPDATED_AT = "SELECT updated_at FROM message WHERE id = ?"

# INDEXED BY: with message_state also matching state = 'queued', the planner would walk
# every queued row before each claim instead of seeking the few past valid_until.
EXPIRE_QUEUED = """
UPDATE message INDEXED BY message_expiry
SET state = 'expired', finished_at = :now, updated_at = :now,
    last_error = coalesce(last_error, 'valid_until passed while queued')
WHERE state = 'queued' AND valid_until <= :now
"""

# 1 when a message whose outcome is unknown must be sent again, per message_class.
RESEND_AFTER_UNKNOWN = """(
    SELECT CASE c.resend_after_unknown
        WHEN 'always' THEN 1
        WHEN 'unless_keyed' THEN message.idempotency_key IS NULL
        ELSE 0 END
    FROM message_class AS c WHERE c.name = message.class
)"""

RECOVER_SENDING = f"""
UPDATE message SET
    state = CASE WHEN {RESEND_AFTER_UNKNOWN} THEN 'queued' ELSE 'unknown' END,
    finished_at = CASE WHEN {RESEND_AFTER_UNKNOWN} THEN NULL ELSE :now END,
    last_error = :error, updated_at = :now
WHERE state = 'sending'
RETURNING state
"""

MARK_UNKNOWN = f"""
UPDATE message SET
    state = CASE WHEN {RESEND_AFTER_UNKNOWN} THEN 'queued' ELSE 'unknown' END,
    finished_at = CASE WHEN {RESEND_AFTER_UNKNOWN} THEN NULL ELSE :now END,
    next_attempt_at = coalesce(:retry_at, next_attempt_at),
    last_error = :error, updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

SCHEDULE_RETRY = f"""
UPDATE message SET
    state = CASE WHEN valid_until <= :at THEN 'expired' ELSE 'queued' END,
    finished_at = CASE WHEN valid_until <= :at THEN :now END,
    next_attempt_at = :at, last_error = :error, updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

RELEASE = f"""
UPDATE message SET state = 'queued', updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

# The claim given back as if never made: attempts goes back down by one, which the
# attempts guard allows only here (sending -> queued). Refused once a part of this attempt
# is recorded: the network has seen it.
UNCLAIM = f"""
UPDATE message SET state = 'queued', attempts = attempts - 1, updated_at = :now
WHERE id = :id AND state = 'sending' AND attempts = :attempt
    AND NOT EXISTS (
        SELECT 1 FROM message_part AS p WHERE p.message_id = :id AND p.attempt = :attempt
    )
RETURNING {MESSAGE_COLUMNS}
"""

MARK_SENT = f"""
UPDATE message SET state = 'sent', sent_at = :now, updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

MARK_DELIVERED_VOICE = f"""
UPDATE message SET state = 'delivered', sent_at = :now, finished_at = :now, updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

MARK_FAILED = f"""
UPDATE message SET state = 'failed', last_error = :error, finished_at = :now, updated_at = :now
WHERE id = :id AND state = 'sending'
RETURNING {MESSAGE_COLUMNS}
"""

CANCEL = """
UPDATE message SET state = 'cancelled', finished_at = :now, updated_at = :now
WHERE id = :id AND state = 'queued'
"""

CANCEL_CAMPAIGN = """
UPDATE message SET state = 'cancelled', finished_at = :now, updated_at = :now
WHERE campaign_id = :campaign AND state = 'queued'
"""

# Quiet hours: a campaign's queued rows wait until :until; their validity moves with them.
DEFER_CAMPAIGN = """
UPDATE message SET next_attempt_at = :until, updated_at = :now,
    valid_until = CASE WHEN valid_until IS NULL THEN NULL ELSE max(valid_until, :valid) END
WHERE campaign_id = :campaign AND state = 'queued' AND next_attempt_at < :until
"""

INSERT_PART = """
INSERT INTO message_part (message_id, attempt, part_no, modem, mr, sent_at)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING id
"""

INSERT_REPORT = """
INSERT INTO status_report (modem, mr, status, recipient, received_at) VALUES (?, ?, ?, ?, ?)
RETURNING id
"""

# Prefer a part still waiting for its final report, then the newest: MRs wrap modulo 256,
# so an older part with the same MR is almost always a previous lap.
FIND_PART_FOR_REPORT = """
SELECT p.id FROM message_part AS p JOIN message AS m ON m.id = p.message_id
WHERE p.modem = :modem AND p.mr = :mr AND p.sent_at >= :since
    AND (:recipient IS NULL OR m.destination = :recipient)
ORDER BY p.state = 'sent' DESC, p.sent_at DESC, p.id DESC
LIMIT 1
"""

FIND_EARLY_REPORT = """
SELECT id, status FROM status_report
WHERE part_id IS NULL AND modem = :modem AND mr = :mr AND received_at >= :since
    AND (recipient IS NULL OR recipient = :destination)
ORDER BY received_at DESC, id DESC
LIMIT 1
"""

LINK_REPORT = "UPDATE status_report SET part_id = ? WHERE id = ?"

UPDATE_PART = """
UPDATE message_part SET
    status = :status, reported_at = :now,
    state = CASE WHEN state = 'sent' THEN :state ELSE state END
WHERE id = :id
RETURNING message_id, attempt
"""

PART_TALLY = """
SELECT count(*) AS total,
    coalesce(sum(state = 'delivered'), 0) AS delivered,
    coalesce(sum(state = 'failed'), 0) AS failed
FROM message_part WHERE message_id = ? AND attempt = ?
"""

ROLL_UP = f"""
UPDATE message SET state = :state, last_error = coalesce(:error, last_error),
    finished_at = :now, updated_at = :now
WHERE id = :id AND state = 'sent'
RETURNING {MESSAGE_COLUMNS}
"""

SELECT_PARTS = """
SELECT message_id, attempt, part_no, modem, mr, state, status, sent_at, reported_at
FROM message_part WHERE message_id = ? ORDER BY attempt, part_no
"""

COUNT_BY_STATE = "SELECT state, count(*) FROM message GROUP BY state"

COUNT_BY_STATE_FOR_CAMPAIGN = (
    "SELECT state, count(*) FROM message WHERE campaign_id = ? GROUP BY state"
)

QUEUE_DEPTH_BY_CLASS = "SELECT class, count(*) FROM message WHERE state = 'queued' GROUP BY class"


def channel_params(channels: list[str]) -> dict[str, str]:
    """Named parameters for the channel list, matching `claim_next` and `next_due`."""
    return {f"ch{index}": channel for index, channel in enumerate(channels)}


def _channels(count: int) -> str:
    values = ", ".join(f"(:ch{index})" for index in range(count))
    return f"(SELECT column1 AS channel FROM (VALUES {values}))"


@cache
def claim_next(channel_count: int, *, ahead: bool = False) -> str:
    """Claim in one statement; the correlated subquery is one index seek per (channel, priority).

    `ahead`: claim only if the most urgent due job is one a crash may resend (see claim_ahead).
    """
    # Walking the claim index once per priority (instead of ORDER BY over every due row)
    # keeps a claim O(log n) with a 100,000-row backlog, and rows still backing off at a
    # high priority cannot make the scan crawl past them.
    return f"""
UPDATE message SET state = 'sending', attempts = attempts + 1, modem = :modem,
    updated_at = :now
WHERE id = (
    SELECT m.id FROM message AS m
    WHERE m.id IN (
        SELECT (
            SELECT q.id FROM message AS q
            WHERE q.state = 'queued' AND q.channel = ch.channel AND q.priority = p.priority
                AND q.next_attempt_at <= :now
                AND (q.valid_until IS NULL OR q.valid_until > :now)
            ORDER BY q.next_attempt_at, q.id
            LIMIT 1
        )
        FROM (SELECT DISTINCT priority FROM message_class) AS p, {_channels(channel_count)} AS ch
    )
    ORDER BY m.priority, m.next_attempt_at, m.id
    LIMIT 1
){f" AND {RESEND_AFTER_UNKNOWN}" if ahead else ""}
RETURNING {MESSAGE_COLUMNS}
"""


@cache
def next_due(channel_count: int, *, more_urgent: bool = False) -> str:
    """The earliest next_attempt_at among queued rows, again one seek per (channel, priority).

    `more_urgent`: only rows with a priority below :priority (what may preempt a claim).
    """
    only = " WHERE priority < :priority" if more_urgent else ""
    return f"""
SELECT min((
    SELECT q.next_attempt_at FROM message AS q
    WHERE q.state = 'queued' AND q.channel = ch.channel AND q.priority = p.priority
    ORDER BY q.next_attempt_at
    LIMIT 1
))
FROM (SELECT DISTINCT priority FROM message_class{only}) AS p, {_channels(channel_count)} AS ch
"""


# The parts one modem sent recently: its SIM's daily cap survives a restart.
PART_TIMES = "SELECT sent_at FROM message_part WHERE modem = ? AND sent_at >= ?"

# Account deletion (Outbox.forget_destination). What is still queued is cancelled; every row
# to the number then loses its destination and body. A row a modem holds right now gets
# valid_until = now as well, so a retry expires instead of going anywhere. ERASED_DESTINATION
# passes the destination CHECK and is no subscriber's number anywhere (no country code 0, and
# +1 0… is no NANP area code), nor an emergency number.
ERASED_DESTINATION = "+10"

FORGET_CANCEL_QUEUED = """
UPDATE message SET state = 'cancelled', finished_at = :now, updated_at = :now,
    last_error = 'recipient erased'
WHERE destination = :destination AND state = 'queued'
"""

FORGET_ERASE = """
UPDATE message SET destination = :erased, body = '', updated_at = :now,
    idempotency_key = CASE WHEN idempotency_key IS NULL THEN NULL ELSE 'erased:' || id END,
    valid_until = CASE WHEN state = 'sending' THEN :now ELSE valid_until END
WHERE destination = :destination
RETURNING id
"""

# A status report's recipient is the number as the SMSC wrote it (with or without + and
# country code): matched by the message it belongs to and by every form of the number.
FORGET_STATUS_REPORTS = """
UPDATE status_report SET recipient = NULL
WHERE recipient IS NOT NULL AND (
    recipient IN (SELECT value FROM json_each(:forms))
    OR part_id IN (
        SELECT p.id FROM message_part p WHERE p.message_id IN (SELECT value FROM json_each(:ids))
    )
)
"""
