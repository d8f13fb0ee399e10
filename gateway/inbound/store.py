"""Neighbour-alert SQL run inside one transaction on the writer's (or a reader's) thread.

Everything here takes a plain sqlite3 connection: the router decides, records the alert and
its recipients and marks the inbound SMS processed in a single commit.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway.inbound import limits, texts
from gateway.inbound.lists import OPTED_OUT_SUBQUERY, is_blocked_in
from gateway.inbound.notices import write_notice
from gateway.inbound.settings import InboundSettings
from gateway.residents.phones import display
from gateway.storage.times import from_ms, opt_from_ms

_SENDER_SELECT: Final = """
SELECT r.id, r.phone, r.first_name, r.language, r.hide_my_number, s.zone_id
FROM resident r LEFT JOIN street s ON s.id = r.street_id
"""
# Several residents may share one phone (a household): the one with a zone, then the first.
_SENDER_BY_SMS: Final = f"""
{_SENDER_SELECT}
JOIN contact c ON c.resident_id = r.id
WHERE c.number = ? AND c.kind = 'sms' AND c.active = 1 AND c.verified = 1 AND r.active = 1
ORDER BY s.zone_id IS NULL, c.id LIMIT 1
"""
# The sender's own numbers never receive their alert, even through a housemate's account.
_SMS_RECIPIENTS: Final = f"""
SELECT c.number, r.id, r.language
FROM resident r
JOIN street s ON s.id = r.street_id
JOIN contact c ON c.resident_id = r.id
WHERE s.zone_id = ? AND r.consent_neighbour_alerts = 1 AND r.id <> ? AND r.active = 1
    AND c.kind = 'sms' AND c.active = 1 AND c.verified = 1
    AND c.number <> ? AND c.number NOT IN (SELECT number FROM contact WHERE resident_id = ?)
    AND c.number NOT IN ({OPTED_OUT_SUBQUERY})
ORDER BY c.number, r.id
"""
# Only to an address its owner proved by the emailed link (email_verify.py).
_EMAIL_RECIPIENTS: Final = """
SELECT r.email, r.id, r.language
FROM resident r
JOIN street s ON s.id = r.street_id
JOIN neighbour_preference p ON p.resident_id = r.id
WHERE s.zone_id = ? AND p.email_alerts = 1 AND r.email <> '' AND r.id <> ? AND r.active = 1
    AND lower(p.verified_email) = lower(r.email)
ORDER BY lower(r.email), r.id
"""
_ALERT_COLUMNS: Final = (
    "a.id, a.resident_id, a.zone_id, z.name AS zone_name, a.source, a.sender_number,"
    " a.sender_name, a.show_number, a.body, a.state, a.reason, a.decided_by, a.created_at,"
    " a.decided_at"
)
ALERT_SELECT: Final = (
    f"SELECT {_ALERT_COLUMNS},"
    " (SELECT count(*) FROM neighbour_recipient nr WHERE nr.alert_id = a.id) AS recipients"
    " FROM neighbour_alert a LEFT JOIN zone z ON z.id = a.zone_id"
)


class AlertState(enum.StrEnum):
    """Where a neighbour alert is; see migrations/004_neighbour.sql."""

    PENDING = "pending"
    RELAYED = "relayed"
    REJECTED = "rejected"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Sender:
    """The resident behind a neighbour alert, as the relay needs them."""

    resident_id: int
    phone: str
    first_name: str
    language: str
    hide_my_number: bool
    zone_id: int | None


@dataclass(frozen=True, slots=True)
class Decision:
    """What became of a new alert: its id and state, and why when refused."""

    alert_id: int
    state: AlertState
    reason: str = ""
    notice: bool = False  # a refusal notice was recorded, to flush


@dataclass(frozen=True, slots=True)
class NeighbourAlert:
    """A stored alert, for the feed and the admin pages."""

    id: int
    resident_id: int | None
    zone_id: int | None
    zone_name: str
    source: str
    sender_number: str
    sender_name: str
    show_number: str
    body: str
    state: AlertState
    reason: str
    decided_by: str
    created_at: datetime
    decided_at: datetime | None
    recipients: int


def sender_by_sms(conn: sqlite3.Connection, number: str) -> Sender | None:
    """The resident whose active, verified SMS contact this is."""
    return _sender(conn.execute(_SENDER_BY_SMS, (number,)).fetchone())


def sender_by_id(conn: sqlite3.Connection, resident_id: int) -> Sender | None:
    """The resident posting from the web page."""
    return _sender(
        conn.execute(f"{_SENDER_SELECT} WHERE r.id = ? AND r.active = 1", (resident_id,)).fetchone()
    )


def create_alert(
    conn: sqlite3.Connection,
    sender: Sender,
    *,
    body: str,
    sender_number: str,
    inbound_id: int | None,
    settings: InboundSettings,
    now_ms: int,
) -> Decision:
    """Record the alert, apply the block list, limits and moderation, and pick recipients."""
    reason = ""
    if sender.zone_id is None:
        reason = "no_zone"
    elif is_blocked_in(conn, sender_number or sender.phone):
        reason = "blocked"
    else:
        reason = (
            limits.alert_refusal(
                conn,
                resident_id=sender.resident_id,
                zone_id=sender.zone_id,
                settings=settings,
                now_ms=now_ms,
            )
            or ""
        )
    if reason:
        state = AlertState.REFUSED
    elif settings.moderation:
        state = AlertState.PENDING
    else:
        state = AlertState.RELAYED
    shown = "" if sender.hide_my_number else _shown(sender_number or sender.phone)
    cursor = conn.execute(
        "INSERT INTO neighbour_alert (inbound_id, resident_id, zone_id, source, sender_number,"
        " sender_name, show_number, body, state, reason, created_at, decided_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            inbound_id,
            sender.resident_id,
            sender.zone_id,
            "sms" if inbound_id is not None else "web",
            sender_number,
            sender.first_name,
            shown,
            body,
            state.value,
            reason,
            now_ms,
            None if state is AlertState.PENDING else now_ms,
        ),
    )
    alert_id = cursor.lastrowid
    assert alert_id is not None
    if state is AlertState.RELAYED:
        write_recipients(conn, alert_id, settings)
    notice = bool(reason) and write_notice(
        conn, alert_id, reason=reason, settings=settings, now_ms=now_ms
    )
    return Decision(alert_id, state, reason, notice)


def decide(
    conn: sqlite3.Connection,
    alert_id: int,
    *,
    approve: bool,
    by: str,
    settings: InboundSettings,
    now_ms: int,
) -> bool:
    """A moderator's answer to a pending alert; False when it is no longer pending."""
    state = AlertState.RELAYED if approve else AlertState.REJECTED
    cursor = conn.execute(
        "UPDATE neighbour_alert SET state = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND state = 'pending'",
        (state.value, by, now_ms, alert_id),
    )
    if cursor.rowcount != 1:
        return False
    if approve:
        write_recipients(conn, alert_id, settings)
    else:
        write_notice(conn, alert_id, reason="rejected", settings=settings, now_ms=now_ms)
    return True


def write_recipients(conn: sqlite3.Connection, alert_id: int, settings: InboundSettings) -> int:
    """Who receives the alert, by SMS and email, with the text in each one's language."""
    alert = conn.execute(
        "SELECT resident_id, zone_id, sender_number, sender_name, show_number, body"
        " FROM neighbour_alert WHERE id = ?",
        (alert_id,),
    ).fetchone()
    resident_id, zone_id = int(alert[0] or 0), alert[1]
    sender_number, name, shown, body = str(alert[2]), str(alert[3]), str(alert[4]), str(alert[5])
    rows: list[tuple[object, ...]] = []
    seen: set[str] = set()
    for number, recipient_id, language in conn.execute(
        _SMS_RECIPIENTS, (zone_id, resident_id, sender_number, resident_id)
    ):
        if number in seen:
            continue
        seen.add(number)
        lang = texts.language_or(language, settings.town_language)
        text = texts.relay_text(
            body,
            name=name,
            number=shown,
            language=lang,
            max_chars=settings.max_chars,
            max_segments=settings.max_segments,
        )
        rows.append((alert_id, "sms", number, recipient_id, text, lang))
    if settings.email_enabled:
        for email, recipient_id, language in conn.execute(
            _EMAIL_RECIPIENTS, (zone_id, resident_id)
        ):
            if email.lower() in seen:
                continue
            seen.add(email.lower())
            lang = texts.language_or(language, settings.town_language)
            text = texts.relay_text(
                body, name=name, number=shown, language=lang, max_chars=4000, max_segments=1000
            )
            rows.append((alert_id, "email", email, recipient_id, text, lang))
    conn.executemany(
        "INSERT INTO neighbour_recipient (alert_id, channel, destination, resident_id, body,"
        " language) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )
    return len(rows)


def alert_from_row(row: sqlite3.Row) -> NeighbourAlert:
    """A row of ALERT_SELECT as the dataclass."""
    return NeighbourAlert(
        id=int(row["id"]),
        resident_id=row["resident_id"],
        zone_id=row["zone_id"],
        zone_name=str(row["zone_name"] or ""),
        source=str(row["source"]),
        sender_number=str(row["sender_number"]),
        sender_name=str(row["sender_name"]),
        show_number=str(row["show_number"]),
        body=str(row["body"]),
        state=AlertState(str(row["state"])),
        reason=str(row["reason"]),
        decided_by=str(row["decided_by"]),
        created_at=from_ms(int(row["created_at"])),
        decided_at=opt_from_ms(row["decided_at"]),
        recipients=int(row["recipients"]),
    )


def _shown(number: str) -> str:
    """514 555-0103: the national form without parentheses, which the prefix already uses."""
    return display(number).replace("(", "").replace(") ", " ")


def _sender(row: sqlite3.Row | None) -> Sender | None:
    if row is None:
        return None
    return Sender(
        resident_id=int(row[0]),
        phone=str(row[1]),
        first_name=str(row[2]),
        language=str(row[3]),
        hide_my_number=bool(row[4]),
        zone_id=None if row[5] is None else int(row[5]),
    )
