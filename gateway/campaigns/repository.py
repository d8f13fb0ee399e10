"""The campaign tables, and reads of a campaign's outbox rows (latest row per recipient)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.campaigns.models import (
    Campaign,
    CampaignState,
    Channels,
    Draft,
    Recipient,
    ReportRow,
    ScheduledAlert,
    ScheduledState,
    Severity,
)
from gateway.storage.times import from_ms, opt_from_ms

# Each recipient's truth is its newest row: a pause cancels rows and a resume adds new ones.
_LATEST = (
    "latest AS (SELECT channel, destination, max(id) AS id FROM message"
    " WHERE campaign_id = :campaign GROUP BY channel, destination)"
)
# An alert made through the HTTP API has no admin: its author is the token ("api:NAME").
_CAMPAIGN_SELECT = (
    "SELECT c.*, coalesce(a.username, 'api:' || t.name, '') AS author FROM campaign c"
    " LEFT JOIN admin a ON a.id = c.created_by"
    " LEFT JOIN api_campaign ac ON ac.campaign_id = c.id"
    " LEFT JOIN api_token t ON t.id = ac.token_id"
)
# Report filters: the page's five states, each a set of outbox states.
STATE_GROUPS: dict[str, tuple[str, ...]] = {
    "queued": ("queued", "sending"),
    "sent": ("sent",),
    "delivered": ("delivered",),
    "failed": ("failed", "expired", "unknown"),
    "cancelled": ("cancelled",),
}


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """What insert_campaign stores."""

    draft: Draft
    target: str
    consent_override: bool
    residents: int
    sms_parts: int
    eta_s: float | None
    created_by: int | None
    created_at_ms: int


def insert_campaign(
    conn: sqlite3.Connection, new: NewCampaign, recipients: Iterable[Recipient]
) -> int:
    """The campaign and its recipients, in the caller's transaction."""
    draft = new.draft
    cursor = conn.execute(
        "INSERT INTO campaign (title, body_fr, body_en, channels, severity, target,"
        " consent_override, residents, sms_parts, eta_s, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *draft.columns(),
            new.target,
            int(new.consent_override),
            new.residents,
            new.sms_parts,
            new.eta_s,
            new.created_by,
            new.created_at_ms,
        ),
    )
    campaign_id = cursor.lastrowid
    assert campaign_id is not None
    conn.executemany(
        "INSERT INTO campaign_recipient (campaign_id, channel, number, language, residents)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            (campaign_id, r.channel, r.number, r.language, "; ".join(r.residents))
            for r in recipients
        ),
    )
    return campaign_id


def fetch_campaign(conn: sqlite3.Connection, campaign_id: int) -> Campaign | None:
    """One campaign, or None."""
    row = conn.execute(f"{_CAMPAIGN_SELECT} WHERE c.id = ?", (campaign_id,)).fetchone()
    return None if row is None else campaign_from_row(row)


def fetch_campaigns(conn: sqlite3.Connection, limit: int) -> list[Campaign]:
    """Newest first, for the history page."""
    rows = conn.execute(f"{_CAMPAIGN_SELECT} ORDER BY c.id DESC LIMIT ?", (limit,)).fetchall()
    return [campaign_from_row(row) for row in rows]


def recipients_to_queue(conn: sqlite3.Connection, campaign_id: int) -> list[Recipient]:
    """Recipients with no row yet or whose latest row was cancelled (by a pause)."""
    rows = conn.execute(
        f"WITH {_LATEST} SELECT r.channel, r.number, r.language, r.residents"
        " FROM campaign_recipient r"
        " LEFT JOIN latest l ON l.channel = r.channel AND l.destination = r.number"
        " LEFT JOIN message m ON m.id = l.id"
        " WHERE r.campaign_id = :campaign AND (m.id IS NULL OR m.state = 'cancelled')",
        {"campaign": campaign_id},
    ).fetchall()
    return [_recipient(row) for row in rows]


def all_recipients(conn: sqlite3.Connection, campaign_id: int) -> list[Recipient]:
    """Every recipient, for a fan-out that a crash interrupted."""
    rows = conn.execute(
        "SELECT channel, number, language, residents FROM campaign_recipient WHERE campaign_id = ?",
        (campaign_id,),
    ).fetchall()
    return [_recipient(row) for row in rows]


def latest_counts(conn: sqlite3.Connection, campaign_id: int) -> dict[tuple[str, str], int]:
    """(channel, state) → recipients whose latest row is in that state."""
    rows = conn.execute(
        f"WITH {_LATEST} SELECT m.channel, m.state, count(*) FROM latest l"
        " JOIN message m ON m.id = l.id GROUP BY m.channel, m.state",
        {"campaign": campaign_id},
    ).fetchall()
    return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}


def sent_since(conn: sqlite3.Connection, campaign_id: int, since_ms: int) -> tuple[int, int | None]:
    """How many of the campaign's messages went out since `since_ms`, and the first time."""
    row = conn.execute(
        "SELECT count(*), min(sent_at) FROM message"
        " WHERE campaign_id = ? AND sent_at IS NOT NULL AND sent_at >= ?",
        (campaign_id, since_ms),
    ).fetchone()
    return int(row[0]), None if row[1] is None else int(row[1])


def send_buckets(
    conn: sqlite3.Connection, campaign_id: int, start_ms: int, width_ms: int
) -> dict[int, int]:
    """Sends per time bucket since `start_ms`, for the chart."""
    rows = conn.execute(
        "SELECT (sent_at - ?) / ? AS bucket, count(*) FROM message"
        " WHERE campaign_id = ? AND sent_at IS NOT NULL GROUP BY bucket",
        (start_ms, max(1, width_ms), campaign_id),
    ).fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def send_buckets_per_modem(
    conn: sqlite3.Connection, campaign_id: int, start_ms: int, width_ms: int
) -> dict[str, dict[int, int]]:
    """Sends per modem per time bucket since `start_ms`, for the per-modem chart."""
    rows = conn.execute(
        "SELECT modem, (sent_at - ?) / ? AS bucket, count(*) FROM message"
        " WHERE campaign_id = ? AND sent_at IS NOT NULL AND modem IS NOT NULL"
        " GROUP BY modem, bucket",
        (start_ms, max(1, width_ms), campaign_id),
    ).fetchall()
    found: dict[str, dict[int, int]] = {}
    for row in rows:
        found.setdefault(str(row[0]), {})[int(row[1])] = int(row[2])
    return found


def last_send_ms(conn: sqlite3.Connection, campaign_id: int) -> int | None:
    """When the campaign's latest message went out (None: nothing yet)."""
    row = conn.execute(
        "SELECT max(sent_at) FROM message WHERE campaign_id = ?", (campaign_id,)
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def per_modem(conn: sqlite3.Connection, campaign_id: int) -> list[tuple[str, int]]:
    """Messages sent per modem (the modem of each message's latest attempt)."""
    rows = conn.execute(
        "SELECT modem, count(*) FROM message WHERE campaign_id = ? AND sent_at IS NOT NULL"
        " AND modem IS NOT NULL GROUP BY modem ORDER BY modem",
        (campaign_id,),
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


def report_rows(
    conn: sqlite3.Connection,
    campaign_id: int,
    *,
    states: Sequence[str] = (),
    channel: str = "",
    search: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[ReportRow]]:
    """Filtered recipients with their latest message, and how many match in all."""
    clauses = ["r.campaign_id = :campaign"]
    params: dict[str, object] = {"campaign": campaign_id}
    if states:
        names = [f":state{i}" for i in range(len(states))]
        clauses.append(f"coalesce(m.state, 'queued') IN ({', '.join(names)})")
        params.update({f"state{i}": state for i, state in enumerate(states)})
    if channel:
        clauses.append("r.channel = :channel")
        params["channel"] = channel
    if search:
        clauses.append("(r.number LIKE :search OR r.residents LIKE :search)")
        params["search"] = f"%{search}%"
    base = (
        f"WITH {_LATEST} SELECT {{columns}} FROM campaign_recipient r"
        " LEFT JOIN latest l ON l.channel = r.channel AND l.destination = r.number"
        " LEFT JOIN message m ON m.id = l.id WHERE " + " AND ".join(clauses)
    )
    total = int(conn.execute(base.format(columns="count(*)"), params).fetchone()[0])
    columns = (
        "r.residents, r.number, r.channel, r.language, coalesce(m.state, 'queued'),"
        " coalesce(m.attempts, 0), m.modem, m.created_at, m.sent_at, m.finished_at, m.last_error"
    )
    query = base.format(columns=columns) + " ORDER BY r.residents, r.number, r.channel"
    if limit is not None:
        query += " LIMIT :limit OFFSET :offset"
        params.update({"limit": limit, "offset": offset})
    rows = conn.execute(query, params).fetchall()
    return total, [
        ReportRow(
            residents=str(r[0]),
            number=str(r[1]),
            channel=str(r[2]),
            language=str(r[3]),
            state=str(r[4]),
            attempts=int(r[5]),
            modem=None if r[6] is None else str(r[6]),
            created_at=opt_from_ms(r[7]),
            sent_at=opt_from_ms(r[8]),
            finished_at=opt_from_ms(r[9]),
            error=None if r[10] is None else str(r[10]),
        )
        for r in rows
    ]


def set_state(
    conn: sqlite3.Connection,
    campaign_id: int,
    state: CampaignState,
    *,
    allowed_from: Sequence[CampaignState],
    finished_ms: int | None = None,
    next_generation: bool = False,
) -> bool:
    """Move a campaign between states; False when its state did not allow it."""
    marks = ", ".join("?" * len(allowed_from))
    cursor = conn.execute(
        f"UPDATE campaign SET state = ?, finished_at = coalesce(?, finished_at),"
        f" generation = generation + ? WHERE id = ? AND state IN ({marks})",
        (state.value, finished_ms, int(next_generation), campaign_id, *allowed_from),
    )
    return cursor.rowcount == 1


def campaign_from_row(row: sqlite3.Row) -> Campaign:
    """A campaign row (with its author's username) as the dataclass."""
    return Campaign(
        id=int(row["id"]),
        draft=_draft(row),
        target=str(row["target"]),
        target_label="",
        state=CampaignState(str(row["state"])),
        generation=int(row["generation"]),
        fanned_out=bool(row["fanned_out"]),
        consent_override=bool(row["consent_override"]),
        residents=int(row["residents"]),
        sms_parts=int(row["sms_parts"]),
        eta_s=None if row["eta_s"] is None else float(row["eta_s"]),
        created_by=str(row["author"]),
        created_at=from_ms(int(row["created_at"])),
        finished_at=opt_from_ms(row["finished_at"]),
    )


def _recipient(row: sqlite3.Row) -> Recipient:
    return Recipient(
        channel=str(row[0]),
        number=str(row[1]),
        language=str(row[2]),
        residents=tuple(name for name in str(row[3]).split("; ") if name),
    )


# ---- alerts scheduled for later

_SCHEDULED_SELECT = (
    "SELECT s.*, coalesce(a.username, '') AS author FROM scheduled_alert s"
    " LEFT JOIN admin a ON a.id = s.created_by"
)


def insert_scheduled(
    conn: sqlite3.Connection,
    draft: Draft,
    target: str,
    *,
    send_at_ms: int,
    created_by: int | None,
    now_ms: int,
) -> int:
    """A new waiting alert."""
    cursor = conn.execute(
        "INSERT INTO scheduled_alert (title, body_fr, body_en, channels, severity, target,"
        " send_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *draft.columns(),
            target,
            send_at_ms,
            created_by,
            now_ms,
            now_ms,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def update_scheduled(
    conn: sqlite3.Connection,
    scheduled_id: int,
    draft: Draft,
    *,
    target: str,
    send_at_ms: int,
    now_ms: int,
) -> bool:
    """Edit a waiting alert; False when it started or was cancelled meanwhile."""
    cursor = conn.execute(
        "UPDATE scheduled_alert SET title = ?, body_fr = ?, body_en = ?, channels = ?,"
        " severity = ?, target = ?, send_at = ?, updated_at = ?"
        " WHERE id = ? AND state = 'waiting'",
        (
            *draft.columns(),
            target,
            send_at_ms,
            now_ms,
            scheduled_id,
        ),
    )
    return cursor.rowcount == 1


def end_scheduled(
    conn: sqlite3.Connection, scheduled_id: int, state: str, now_ms: int, error: str | None = None
) -> bool:
    """Cancel (or mark failed) a waiting alert; False when it was no longer waiting."""
    cursor = conn.execute(
        "UPDATE scheduled_alert SET state = ?, error = ?, updated_at = ?"
        " WHERE id = ? AND state = 'waiting'",
        (state, error, now_ms, scheduled_id),
    )
    return cursor.rowcount == 1


def mark_scheduled_started(
    conn: sqlite3.Connection, scheduled_id: int, campaign_id: int, now_ms: int
) -> bool:
    """In the campaign's insert transaction: a scheduled alert starts once."""
    cursor = conn.execute(
        "UPDATE scheduled_alert SET state = 'started', campaign_id = ?, updated_at = ?"
        " WHERE id = ? AND state = 'waiting'",
        (campaign_id, now_ms, scheduled_id),
    )
    return cursor.rowcount == 1


def fetch_scheduled(conn: sqlite3.Connection, scheduled_id: int) -> ScheduledAlert | None:
    """One scheduled alert, or None."""
    row = conn.execute(f"{_SCHEDULED_SELECT} WHERE s.id = ?", (scheduled_id,)).fetchone()
    return None if row is None else _scheduled(row)


def fetch_waiting(conn: sqlite3.Connection, due_ms: int | None = None) -> list[ScheduledAlert]:
    """Waiting alerts by send time (only those due by `due_ms` when given)."""
    where = "s.state = 'waiting'" + ("" if due_ms is None else " AND s.send_at <= ?")
    params: tuple[int, ...] = () if due_ms is None else (due_ms,)
    rows = conn.execute(f"{_SCHEDULED_SELECT} WHERE {where} ORDER BY s.send_at, s.id", params)
    return [_scheduled(row) for row in rows.fetchall()]


def fetch_recent_scheduled(conn: sqlite3.Connection, limit: int) -> list[ScheduledAlert]:
    """Waiting ones first, then the latest that started, failed or were cancelled."""
    rows = conn.execute(
        f"{_SCHEDULED_SELECT} ORDER BY s.state <> 'waiting', s.send_at DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_scheduled(row) for row in rows]


def _draft(row: sqlite3.Row) -> Draft:
    return Draft(
        title=str(row["title"]),
        body_fr=str(row["body_fr"]),
        body_en=str(row["body_en"]),
        channels=Channels(str(row["channels"])),
        severity=Severity(str(row["severity"])),
    )


def _scheduled(row: sqlite3.Row) -> ScheduledAlert:
    return ScheduledAlert(
        id=int(row["id"]),
        draft=_draft(row),
        target=str(row["target"]),
        target_label="",
        send_at=from_ms(int(row["send_at"])),
        state=ScheduledState(str(row["state"])),
        campaign_id=None if row["campaign_id"] is None else int(row["campaign_id"]),
        error=None if row["error"] is None else str(row["error"]),
        created_by=str(row["author"]),
        created_at=from_ms(int(row["created_at"])),
    )
