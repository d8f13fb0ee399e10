"""Account deletion across every table that can name a resident's numbers, in one transaction.

The outbox has its own `forget_destination`; codes and budgets are keyed by HMAC and have
their own `forget`. What is left is here: inbound texts, automatic replies, opt-outs,
neighbour alerts (as sender and as recipient), refusal notices, campaign recipient lists and
anonymous sessions holding a pending number. A number another resident still holds (a
household sharing a phone) is theirs too: only the resident's own rows go, the number's
history stays. The admins' block list is kept on purpose (see the README).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Final

from gateway.residents.phones import spellings

_NUMBERS: Final = """
SELECT phone FROM resident WHERE id = :id UNION SELECT number FROM contact WHERE resident_id = :id
"""
# Numbers of this resident that no other resident has as login or contact.
_EXCLUSIVE: Final = """
SELECT value FROM json_each(:numbers) WHERE value NOT IN (
    SELECT phone FROM resident WHERE id <> :id
    UNION SELECT number FROM contact WHERE resident_id <> :id
)
"""
_FORMS: Final = "(SELECT value FROM json_each(:forms))"


def erase_resident(conn: sqlite3.Connection, resident_id: int) -> tuple[list[str], list[str]]:
    """Delete the resident and every trace of their numbers; (all numbers, exclusive ones)."""
    numbers = sorted(str(r[0]) for r in conn.execute(_NUMBERS, {"id": resident_id}))
    exclusive = [
        str(r[0])
        for r in conn.execute(_EXCLUSIVE, {"id": resident_id, "numbers": json.dumps(numbers)})
    ]
    forms = sorted({form for number in exclusive for form in spellings(number)})
    params = {"id": resident_id, "forms": json.dumps(forms)}
    _scrub_alerts(conn, params)
    # As a recipient: SMS relays to their numbers and email copies to their address.
    conn.execute(
        f"DELETE FROM neighbour_recipient WHERE resident_id = :id OR destination IN {_FORMS}",
        params,
    )
    conn.execute(f"DELETE FROM neighbour_notice WHERE number IN {_FORMS}", params)
    # Their texts to the box; auto_reply rows go with them (ON DELETE CASCADE).
    conn.execute(f"DELETE FROM inbound WHERE sender IN {_FORMS}", params)
    conn.execute(f"DELETE FROM auto_reply WHERE number IN {_FORMS}", params)
    conn.execute(f"DELETE FROM sms_opt_out WHERE number IN {_FORMS}", params)
    conn.execute(f"DELETE FROM campaign_recipient WHERE number IN {_FORMS}", params)
    # A registration or reset under way keeps the number in an anonymous session's data.
    for number in exclusive:
        conn.execute(
            "DELETE FROM web_session WHERE instr(data, ?) > 0", (json.dumps(number)[1:-1],)
        )
    # Contacts, their sessions and preferences follow by ON DELETE CASCADE.
    conn.execute("DELETE FROM resident WHERE id = ?", (resident_id,))
    return numbers, exclusive


def _scrub_alerts(conn: sqlite3.Connection, params: dict[str, object]) -> None:
    """Their alerts stay in the communities' history, without their name or number."""
    alerts = conn.execute(
        f"SELECT id, show_number FROM neighbour_alert WHERE resident_id = :id"
        f" OR sender_number IN {_FORMS}",
        params,
    ).fetchall()
    for alert_id, shown in alerts:
        if shown:
            needle = f" ({shown})"
            conn.execute(
                "UPDATE message SET body = replace(body, ?, '') WHERE id IN"
                " (SELECT message_id FROM neighbour_recipient WHERE alert_id = ?)",
                (needle, alert_id),
            )
            conn.execute(
                "UPDATE neighbour_recipient SET body = replace(body, ?, '') WHERE alert_id = ?",
                (needle, alert_id),
            )
        conn.execute(
            "UPDATE neighbour_alert SET sender_number = '', show_number = '', sender_name = ''"
            " WHERE id = ?",
            (alert_id,),
        )
