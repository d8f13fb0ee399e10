"""The retention purge by a shifted clock: rows just before the cutoff go, just after stay, and
nothing still queued or in flight is touched."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import from_mapping
from gateway.outbox import Outbox
from gateway.retention import Retention, RetentionSettings
from gateway.storage.database import Database
from gateway.storage.times import to_ms

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 30
OLD = to_ms(NOW - timedelta(days=DAYS)) - 1  # one millisecond past the cutoff
NEW = to_ms(NOW - timedelta(days=DAYS)) + 1
SETTINGS = RetentionSettings(
    neighbour_alert_days=DAYS,
    inbound_days=DAYS,
    audit_days=DAYS,
    message_body_days=DAYS,
    inactive_account_days=DAYS,
)


def _message(conn: sqlite3.Connection, body: str, state: str, finished: int | None) -> int:
    cursor = conn.execute(
        "INSERT INTO message (class, priority, channel, destination, body, language,"
        " next_attempt_at, created_at, updated_at) VALUES"
        " ('relay', 1, 'sms', '+15145550101', ?, 'fr', 0, ?, ?)",
        (body, OLD, OLD),
    )
    message_id = int(cursor.lastrowid or 0)
    path = {"queued": [], "sending": ["sending"], "sent": ["sending", "sent"]}.get(
        state, ["sending", state]
    )
    for step in path:
        conn.execute("UPDATE message SET state = ? WHERE id = ?", (step, message_id))
    conn.execute("UPDATE message SET finished_at = ? WHERE id = ?", (finished, message_id))
    return message_id


def _alert(conn: sqlite3.Connection, body: str, at: int, state: str = "relayed") -> int:
    cursor = conn.execute(
        "INSERT INTO neighbour_alert (source, sender_number, sender_name, body, state,"
        " created_at) VALUES ('web', '', 'Ana', ?, ?, ?)",
        (body, state, at),
    )
    return int(cursor.lastrowid or 0)


def _recipient(conn: sqlite3.Connection, alert: int, channel: str, **kw: object) -> None:
    conn.execute(
        "INSERT INTO neighbour_recipient (alert_id, channel, destination, body, language,"
        " message_id, state) VALUES (?, ?, ?, 'x', 'fr', ?, ?)",
        (alert, channel, f"d{alert}{channel}", kw.get("message_id"), kw.get("state", "queued")),
    )


def _inbound(conn: sqlite3.Connection, body: str, at: int, processed: bool) -> int:
    cursor = conn.execute(
        "INSERT INTO inbound (modem, sender, body, received_at, network_timestamp,"
        " parts_received, parts_expected, pdu_hash, complete, processed_at)"
        " VALUES ('m', '+15145550102', ?, ?, ?, 1, 1, ?, 1, ?)",
        (body, at, at, body, at if processed else None),
    )
    return int(cursor.lastrowid or 0)


def _fill(conn: sqlite3.Connection) -> None:
    done = _message(conn, "delivered long ago", "delivered", OLD)
    _message(conn, "delivered recently", "delivered", NEW)
    queued = _message(conn, "still queued", "queued", None)
    sending = _message(conn, "in flight", "sending", None)
    _message(conn, "sent, no report yet", "sent", None)

    gone = _alert(conn, "old relayed", OLD)
    _recipient(conn, gone, "sms", message_id=done)
    _recipient(conn, gone, "email", state="sent")
    _alert(conn, "recent relayed", NEW)
    _alert(conn, "old pending", OLD, state="pending")
    relay_queued = _alert(conn, "old, relay queued", OLD)
    _recipient(conn, relay_queued, "sms", message_id=queued)
    relay_sending = _alert(conn, "old, relay sending", OLD)
    _recipient(conn, relay_sending, "sms", message_id=sending)
    not_enqueued = _alert(conn, "old, relay not enqueued", OLD)
    _recipient(conn, not_enqueued, "sms")
    email_queued = _alert(conn, "old, email queued", OLD)
    _recipient(conn, email_queued, "email")

    _inbound(conn, "old routed", OLD, processed=True)
    _inbound(conn, "recent routed", NEW, processed=True)
    _inbound(conn, "old unrouted", OLD, processed=False)
    waiting = _inbound(conn, "old, reply not queued", OLD, processed=True)
    conn.execute(
        "INSERT INTO auto_reply (inbound_id, number, kind, body, language, at)"
        " VALUES (?, '+15145550102', 'help', 'aide', 'fr', ?)",
        (waiting, OLD),
    )
    pending_alert = _inbound(conn, "old, its alert pending", OLD, processed=True)
    conn.execute(
        "UPDATE neighbour_alert SET inbound_id = ? WHERE body = 'old pending'", (pending_alert,)
    )

    for at, action in ((OLD, "old"), (NEW, "new")):
        conn.execute(
            "INSERT INTO audit_log (at, username, action) VALUES (?, 'cli', ?)", (at, action)
        )

    now = to_ms(NOW)
    conn.execute(
        "INSERT INTO otp_code (number_key, purpose, code_mac, created_at, expires_at)"
        " VALUES ('expired', 'register', 'm', ?, ?), ('live', 'register', 'm', ?, ?)",
        (now - 700_000, now - 100_000, now, now + 600_000),
    )
    conn.execute(
        "INSERT INTO otp_code (number_key, purpose, code_mac, created_at, expires_at,"
        " fallback_id) VALUES ('calling', 'register', 'm', ?, ?, ?)",
        (now - 700_000, now - 100_000, queued),
    )
    for token, seen in (("stale", now - 1_900_000), ("fresh", now - 60_000)):
        conn.execute(
            "INSERT INTO web_session (token_hash, csrf_token, created_at, last_seen_at)"
            " VALUES (?, 'c', ?, ?)",
            (token, seen, seen),
        )
        conn.execute(
            "INSERT INTO admin_session (token_hash, csrf_token, created_at, last_seen_at)"
            " VALUES (?, 'c', ?, ?)",
            (token, seen, seen),
        )

    def resident(phone: str, updated: int, login: int | None) -> int:
        cursor = conn.execute(
            "INSERT INTO resident (phone, password_hash, created_at, updated_at, last_login_at)"
            " VALUES (?, 'h', ?, ?, ?)",
            (phone, OLD, updated, login),
        )
        return int(cursor.lastrowid or 0)

    resident("+15145550201", OLD, None)  # abandoned
    resident("+15145550202", OLD, NEW)  # signed in recently
    resident("+15145550203", NEW, None)  # edited recently
    receives = resident("+15145550204", OLD, None)  # never signs in, but receives alerts
    conn.execute(
        "INSERT INTO contact (resident_id, kind, number, active, verified, created_at)"
        " VALUES (?, 'sms', '+15145550204', 1, 1, ?)",
        (receives, OLD),
    )
    for name, login in (("old", OLD), ("recent", NEW)):
        conn.execute(
            "INSERT INTO admin (username, password_hash, role, created_at, last_login_at)"
            " VALUES (?, 'h', 'admin', ?, ?)",
            (name, OLD, login),
        )


def _column(conn: sqlite3.Connection, sql: str) -> list[object]:
    return [row[0] for row in conn.execute(sql).fetchall()]


async def test_purge_by_a_shifted_clock(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite")
    try:
        await db.write_fn(_fill)
        report = await Retention(db, SETTINGS, clock=lambda: NOW).purge()
        assert report.as_dict() == {
            "neighbour_alerts": 1,
            "inbound": 1,
            "audit": 1,
            "message_bodies": 1,
            "sessions": 1,  # staff; resident codes and sessions: tests/residents/test_purge.py
            "residents": 1,
            "admins_disabled": 1,
        }

        def look(conn: sqlite3.Connection) -> dict[str, list[object]]:
            return {
                "bodies": _column(conn, "SELECT body FROM message ORDER BY id"),
                "alerts": _column(conn, "SELECT body FROM neighbour_alert ORDER BY id"),
                "recipients": _column(conn, "SELECT count(*) FROM neighbour_recipient"),
                "inbound": _column(conn, "SELECT body FROM inbound ORDER BY id"),
                "audit": _column(conn, "SELECT action FROM audit_log"),
                "codes": _column(conn, "SELECT number_key FROM otp_code ORDER BY 1"),
                "sessions": _column(
                    conn,
                    "SELECT token_hash FROM web_session"
                    " UNION ALL SELECT token_hash FROM admin_session",
                ),
                "residents": _column(conn, "SELECT phone FROM resident ORDER BY 1"),
                "admins": _column(conn, "SELECT username FROM admin WHERE active = 1"),
            }

        after = await db.read_fn(look)
        assert after["bodies"] == [
            "",
            "delivered recently",
            "still queued",
            "in flight",
            "sent, no report yet",
        ]
        assert after["alerts"] == [
            "recent relayed",
            "old pending",
            "old, relay queued",
            "old, relay sending",
            "old, relay not enqueued",
            "old, email queued",
        ]
        assert after["recipients"] == [4]
        assert after["inbound"] == [
            "recent routed",
            "old unrouted",
            "old, reply not queued",
            "old, its alert pending",
        ]
        assert after["audit"] == ["new"]
        assert after["codes"] == ["calling", "expired", "live"]
        assert sorted(map(str, after["sessions"])) == ["fresh", "fresh", "stale"]
        assert after["residents"] == ["+15145550202", "+15145550203", "+15145550204"]
        assert after["admins"] == ["recent"]

        # A second pass finds nothing more; a clock a day later takes the next ones.
        again = await Retention(db, SETTINGS, clock=lambda: NOW).purge()
        assert again.as_dict()["message_bodies"] == 0
        later = await Retention(db, SETTINGS, clock=lambda: NOW + timedelta(days=1)).purge()
        assert later.as_dict()["message_bodies"] == 1  # "delivered recently"
        assert later.as_dict()["audit"] == 1
    finally:
        await db.close()


async def test_zero_days_keeps_everything_but_dead_staff_sessions(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite")
    try:
        await db.write_fn(_fill)
        keep = RetentionSettings.from_config(
            from_mapping(
                {
                    "retention": {
                        "neighbour_alert_days": 0,
                        "inbound_days": 0,
                        "audit_days": 0,
                        "message_body_days": 0,
                        "inactive_account_days": 0,
                    }
                }
            )
        )
        report = await Retention(db, keep, clock=lambda: NOW + timedelta(days=3650)).purge()
        assert report.as_dict() == {
            "neighbour_alerts": 0,
            "inbound": 0,
            "audit": 0,
            "message_bodies": 0,
            "sessions": 2,
            "residents": 0,
            "admins_disabled": 0,
        }
    finally:
        await db.close()


async def test_the_service_schedule_runs_the_purge(tmp_path: Path) -> None:
    import asyncio

    from gateway.retention import start_scheduled, stop_scheduled

    db = await Database.open(tmp_path / "t.sqlite")
    try:
        await db.write_fn(
            lambda conn: conn.execute(
                "INSERT INTO audit_log (at, username, action) VALUES (0, 'cli', 'ancient')"
            )
        )
        task = start_scheduled(db, from_mapping({}), first_delay_s=0, interval_s=3600)
        async with asyncio.timeout(10):
            while await db.read_fn(
                lambda c: c.execute("SELECT count(*) FROM audit_log").fetchone()[0]
            ):
                await asyncio.sleep(0.05)
        await stop_scheduled(task)
    finally:
        await db.close()


async def test_an_abandoned_account_leaves_no_number_behind(tmp_path: Path) -> None:
    """Deleted for inactivity as for an account deletion: the outbox forgets the number too."""
    db = await Database.open(tmp_path / "t.sqlite")
    try:
        await db.write_fn(_fill)

        def message_to_abandoned(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO message (class, priority, channel, destination, body, language,"
                " next_attempt_at, created_at, updated_at) VALUES"
                " ('alert', 1, 'sms', '+15145550201', 'old alert', 'fr', 0, ?, ?)",
                (NEW, NEW),
            )

        await db.write_fn(message_to_abandoned)
        retention = Retention(db, SETTINGS, clock=lambda: NOW, outbox=Outbox(db))
        assert (await retention.purge()).residents == 1

        def mentions(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM message WHERE destination = '+15145550201'"
                " OR body LIKE '%old alert%'"
            ).fetchone()
            return int(row[0])

        assert await db.read_fn(mentions) == 0
    finally:
        await db.close()
