"""Residents in zones, inbound SMS stored as the modem layer would, and outbox inspection."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway import config as config_module
from gateway.residents.models import ContactKind
from gateway.residents.repository import Residents
from gateway.residents.streets import Streets
from gateway.service import Gateway

STREETS = (("Rue des Érables", "Zone A"), ("Rue du Moulin", "Zone A"), ("Rue du Port", "Zone B"))


def make_config(tmp_path: Path, **overrides: Any) -> config_module.Config:
    values: dict[str, Any] = {
        "storage.path": str(tmp_path / "tocsin.sqlite"),
        "town.name": "Terrebonne",
        "town.contact_number": "450 961-2001",
        "town.website": "https://alertes.example.org",
        "dispatch.retry_base_s": 0.05,
        "dispatch.retry_max_s": 0.2,
        "dispatch.watchdog_interval_s": 0.2,
        "dispatch.block_s": 0.5,
        "dispatch.sim_block_s": 0.5,
        "email.retry_base_s": 0.05,
        "email.timeout_s": 5.0,
    }
    values.update(overrides)
    return config_module.from_mapping({}, values)


async def street_ids(gateway: Gateway) -> dict[str, int]:
    assert gateway.db is not None
    await Streets(gateway.db).load("Terrebonne", STREETS)
    async with gateway.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT name, id FROM street")
    return {str(r[0]): int(r[1]) for r in rows}


async def add_resident(
    gateway: Gateway,
    phone: str,
    *,
    street_id: int | None,
    first_name: str = "Antoine",
    sms: tuple[str, ...] | None = None,
    neighbours: bool = True,
    hide: bool = True,
    email: str = "",
    email_alerts: bool = False,
    language: str = "fr",
) -> int:
    """A resident whose login number is also an active, verified SMS contact (by default)."""
    assert gateway.db is not None
    residents = Residents(gateway.db)
    resident = await residents.create(phone, "x", language)
    assert resident is not None
    profile = replace(
        resident.profile,
        first_name=first_name,
        last_name="Test",
        street_id=street_id,
        consent_neighbour_alerts=neighbours,
        hide_my_number=hide,
        email=email,
        language=language,
    )
    await residents.update_profile(resident.id, profile)
    for number in (phone,) if sms is None else sms:
        await residents.add_contact(resident.id, ContactKind.SMS, number, "", verified=True)
    if email_alerts:
        await gateway.router.alerts.set_email_alerts(resident.id, True)
        if email:  # as if the resident had opened the verification link
            async with gateway.db.write() as conn:
                await conn.execute(
                    "UPDATE neighbour_preference SET verified_email = ? WHERE resident_id = ?",
                    (email, resident.id),
                )
    return resident.id


_COUNTER = itertools.count()


async def receive(gateway: Gateway, sender: str, text: str) -> int:
    """Store an inbound SMS as the modem layer does (committed, not yet routed)."""
    serial = next(_COUNTER)
    message_id, is_new = await gateway.inbox.store_inbound(
        modem="sim0",
        sender=sender,
        text=text,
        network_timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        pdu_hash=hashlib.sha256(f"{serial}{text}".encode()).hexdigest(),
    )
    assert is_new
    return message_id


async def outbox_rows(gateway: Gateway) -> list[tuple[str, str, str]]:
    """(class, destination, body) of every outbox row, oldest first."""
    assert gateway.db is not None
    async with gateway.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT class, destination, body FROM message ORDER BY id"
        )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
