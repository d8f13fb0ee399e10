"""The SMS telling a resident their neighbour alert did not go out, and why.

Who gets one (see the README, "Neighbour alerts"):
- an alert texted to the box and refused by a limit or for want of a zone: the sender's phone;
- an alert a moderator rejected, texted or posted: the sender's phone, or for a web post the
  resident's first active SMS number (they left the page before the decision);
- a web post refused at once: no SMS, the page already says why;
- a blocked sender: never. Telling them would only invite them to try from another number.
At most one notice per number per hour (a flood of refused texts gets one answer, and two
gateways texting each other stay bounded), none to a number that said STOP, and in the
resident's language. The row is committed with the decision; relay.flush enqueues it once.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from gateway.inbound import lists, texts
from gateway.inbound.limits import HOUR_MS
from gateway.inbound.settings import InboundSettings

_FIRST_SMS: Final = (
    "SELECT number FROM contact WHERE resident_id = ? AND kind = 'sms' AND active = 1"
    " AND verified = 1 ORDER BY id LIMIT 1"
)


def write_notice(
    conn: sqlite3.Connection,
    alert_id: int,
    *,
    reason: str,
    settings: InboundSettings,
    now_ms: int,
) -> bool:
    """Record the refusal notice of one alert if the rules above allow it; True if written."""
    row = conn.execute(
        "SELECT a.source, a.sender_number, a.resident_id, r.language FROM neighbour_alert a"
        " LEFT JOIN resident r ON r.id = a.resident_id WHERE a.id = ?",
        (alert_id,),
    ).fetchone()
    if row is None or reason == "blocked":
        return False
    source, sender_number, resident_id, language = row
    if source == "sms":
        number = str(sender_number)
    elif reason == "rejected" and resident_id is not None:
        found = conn.execute(_FIRST_SMS, (resident_id,)).fetchone()
        number = str(found[0]) if found is not None else ""
    else:
        return False
    if not number or not lists.is_answerable(number) or lists.opted_out_in(conn, number):
        return False
    recent = conn.execute(
        "SELECT 1 FROM neighbour_notice WHERE number = ? AND at > ?", (number, now_ms - HOUR_MS)
    ).fetchone()
    if recent is not None:
        return False
    lang = texts.language_or(language, settings.town_language)
    body = texts.refusal_notice(
        lang, reason=reason, town=settings.town_name, per_hour=settings.sender_per_hour
    )
    conn.execute(
        "INSERT INTO neighbour_notice (alert_id, number, body, language, at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (alert_id, number, body, lang, now_ms),
    )
    return True
