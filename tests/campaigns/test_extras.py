"""Quiet hours, alerts scheduled for later (across a restart) and odd/even civic ranges, on a real
SQLite file; the clock is injected where the test moves time, the outbox and modems are real."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.campaigns.models import Admin, Draft, Role, ScheduledState, Severity
from gateway.campaigns.quiet import QuietHours
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.campaigns.service import AlreadyStarted, CampaignService, DraftError
from gateway.campaigns.settings import CampaignSettings
from gateway.campaigns.targeting import Parity, Target, TargetKind
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from gateway.storage.times import to_ms, utc_now
from modem.simulator import Simulator
from tests.campaigns.test_service import DRAFT, PASSWORD
from tests.gateway.conftest import make_config, modem_settings

ZONE = ZoneInfo("America/Toronto")
PHONES = [f"+1514555{2101 + i:04d}" for i in range(12)]
EMERGENCY = Draft("Urgence", "Évacuez.", "Evacuate.", DRAFT.channels, Severity.EMERGENCY)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def around(moment: datetime) -> QuietHours:
    """Quiet hours from an hour before `moment` to an hour after, on the town's clock."""
    local = moment.astimezone(ZONE)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    quiet = QuietHours.parse(f"{start:%H:%M}-{end:%H:%M}", ZONE)
    assert quiet is not None
    return quiet


@contextlib.asynccontextmanager
async def town_without_modems(
    tmp_path: Path, clock: Clock, settings: CampaignSettings, *, seed: bool = True
) -> AsyncIterator[tuple[Gateway, CampaignService]]:
    """No modem: queued messages stay queued, so the test reads exactly what was held."""
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        if seed:
            await load_sample_streets(gateway.db, "Ville de Démo")
            zones = await streets_by_zone(gateway.db)
            await seed_residents(gateway.db, town(PHONES, zones, zone_names=["Nord", "Est"]))
        service = CampaignService(
            gateway.db, gateway.outbox, gateway.bus, gateway.pool, settings, clock=clock
        )
        yield gateway, service


async def admin_of(service: CampaignService) -> Admin:
    found = await service.accounts.all()
    return found[0] if found else await service.accounts.create("op", PASSWORD, Role.OPERATOR)


def rows(gateway: Gateway, campaign_id: int) -> list[sqlite3.Row]:
    assert gateway.db is not None
    conn = sqlite3.connect(gateway.db.path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT state, next_attempt_at, valid_until FROM message WHERE campaign_id = ?",
            (campaign_id,),
        ).fetchall()
    finally:
        conn.close()


async def test_information_waits_for_the_end_of_quiet_hours_and_emergencies_do_not(
    tmp_path: Path,
) -> None:
    now = utc_now()
    quiet = around(now)
    end = quiet.end_if_quiet(now)
    assert end is not None
    settings = CampaignSettings(quiet_hours=quiet, timezone=ZONE)
    async with (
        Simulator(modems=2, phones=12, scale=0.01) as sim,
        Gateway(make_config(tmp_path), modem_settings(sim)) as gateway,
    ):
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        zones = await streets_by_zone(gateway.db)
        phones = [p.number for p in sim.phones]
        await seed_residents(gateway.db, town(phones, zones, zone_names=["Nord", "Est"]))
        service = CampaignService(gateway.db, gateway.outbox, gateway.bus, gateway.pool, settings)
        admin = await service.accounts.create("op", PASSWORD, Role.OPERATOR)
        everyone = Target(TargetKind.EVERYONE)

        preview = await service.preview(DRAFT, everyone)
        assert preview.quiet_hold
        assert preview.starts_at == end
        assert preview.ends_at is not None
        assert preview.ends_at >= end
        urgent_preview = await service.preview(EMERGENCY, everyone)
        assert not urgent_preview.quiet_hold
        assert urgent_preview.starts_at is None

        held = await service.send(DRAFT, everyone, admin)
        urgent = await service.send(EMERGENCY, everyone, admin)
        async with asyncio.timeout(30):  # the emergency goes out at once, on the same modems
            while True:
                campaign = await service.get(urgent)
                assert campaign is not None
                progress = await service.progress(campaign)
                if progress.total and progress.finished == progress.total:
                    break
                await asyncio.sleep(0.05)
        assert progress.delivered + progress.sent == progress.total
        info = rows(gateway, held)
        assert info, "the information alert queued nothing"
        assert {row["state"] for row in info} == {"queued"}
        assert {row["next_attempt_at"] for row in info} == {to_ms(end)}
        # Its validity counts from the end of quiet hours, not from now.
        assert {row["valid_until"] for row in info} == {to_ms(end + settings.valid_for)}
        campaign = await service.get(held)
        assert campaign is not None
        progress = await service.progress(campaign)
        assert progress.eta_s is None or progress.eta_s >= (end - utc_now()).total_seconds() - 1


async def test_quiet_hours_hold_an_information_alert_already_running(tmp_path: Path) -> None:
    real = utc_now()
    quiet = around(real + timedelta(hours=3))  # quiet from 2 h to 4 h from now
    clock = Clock(real)
    settings = CampaignSettings(quiet_hours=quiet, timezone=ZONE)
    async with town_without_modems(tmp_path, clock, settings) as (gateway, service):
        admin = await admin_of(service)
        everyone = Target(TargetKind.EVERYONE)
        info = await service.send(DRAFT, everyone, admin)
        urgent = await service.send(EMERGENCY, everyone, admin)
        sent_by = to_ms(utc_now())  # the outbox stamps rows with the real clock
        assert {r["next_attempt_at"] <= sent_by for r in rows(gateway, info)} == {True}
        assert (await service.scheduler.tick()).deferred == 0  # not quiet yet
        clock.now = real + timedelta(hours=2, minutes=30)
        end = quiet.end_if_quiet(clock.now)
        assert end is not None
        result = await service.scheduler.tick()
        assert result.deferred == len(rows(gateway, info))
        assert {r["next_attempt_at"] for r in rows(gateway, info)} == {to_ms(end)}
        assert min(r["valid_until"] for r in rows(gateway, info)) >= to_ms(end + settings.valid_for)
        assert {r["next_attempt_at"] <= sent_by for r in rows(gateway, urgent)} == {True}
        assert (await service.scheduler.tick()).deferred == 0  # idempotent
        assert await service.scheduler.next_wake() == quiet.next_start(clock.now)


async def test_a_scheduled_alert_survives_a_restart_and_starts_once(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC))
    settings = CampaignSettings(timezone=ZONE)
    everyone = Target(TargetKind.EVERYONE)
    send_at = clock.now + timedelta(hours=1)
    async with town_without_modems(tmp_path, clock, settings) as (_gateway, service):
        admin = await admin_of(service)
        with pytest.raises(DraftError):
            await service.scheduler.schedule(DRAFT, everyone, clock.now, admin)
        first = await service.scheduler.schedule(DRAFT, everyone, send_at, admin)
        other = await service.scheduler.schedule(DRAFT, everyone, send_at, admin)
        await service.scheduler.update(
            other, EMERGENCY, everyone, send_at + timedelta(minutes=5), admin
        )
        edited = await service.scheduler.get(other)
        assert edited is not None
        assert edited.draft.severity is Severity.EMERGENCY
        await service.scheduler.cancel(other, admin)
        with pytest.raises(AlreadyStarted):
            await service.scheduler.update(other, DRAFT, everyone, send_at, admin)
        assert (await service.scheduler.tick()).started == ()
        assert await service.scheduler.next_wake() == send_at

    clock.now = send_at + timedelta(minutes=30)  # the gateway was down at send time
    async with town_without_modems(tmp_path, clock, settings, seed=False) as (gateway, service):
        waiting = [s for s in await service.scheduler.recent() if s.state is ScheduledState.WAITING]
        assert [s.id for s in waiting] == [first]
        result = await service.scheduler.tick()
        assert len(result.started) == 1
        started = await service.scheduler.get(first)
        assert started is not None
        assert started.state is ScheduledState.STARTED
        assert started.campaign_id == result.started[0]
        assert rows(gateway, result.started[0])
        assert (await service.scheduler.tick()).started == ()  # once only
        cancelled = await service.scheduler.get(other)
        assert cancelled is not None
        assert cancelled.state is ScheduledState.CANCELLED
        with pytest.raises(AlreadyStarted):
            await service.scheduler.cancel(first, await admin_of(service))
        actions = [entry.action for entry in await service.audit.recent()]
        assert "scheduled.start" in actions


async def test_a_scheduled_alert_that_reaches_nobody_fails_visibly(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 6, 10, 14, 0, tzinfo=UTC))
    async with town_without_modems(tmp_path, clock, CampaignSettings()) as (_gateway, service):
        admin = await admin_of(service)
        nowhere = Target(TargetKind.RANGE, street_id=1, civic_from=90000, civic_to=90001)
        scheduled = await service.scheduler.schedule(
            DRAFT, nowhere, clock.now + timedelta(minutes=1), admin
        )
        clock.now += timedelta(minutes=2)
        assert (await service.scheduler.tick()).failed == (scheduled,)
        found = await service.scheduler.get(scheduled)
        assert found is not None
        assert found.state is ScheduledState.FAILED
        assert found.error == "nobody"


async def test_the_scheduler_task_starts_an_alert_on_time(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path), ()) as gateway:
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        zones = await streets_by_zone(gateway.db)
        await seed_residents(gateway.db, town(PHONES, zones, zone_names=["Nord", "Est"]))
        service = await CampaignService.open(gateway)
        try:
            admin = await service.accounts.create("op", PASSWORD, Role.OPERATOR)
            scheduled = await service.scheduler.schedule(
                DRAFT, Target(TargetKind.EVERYONE), utc_now() + timedelta(seconds=0.3), admin
            )
            async with asyncio.timeout(20):
                while (found := await service.scheduler.get(scheduled)) is not None and (
                    found.state is ScheduledState.WAITING
                ):
                    await asyncio.sleep(0.05)
            assert found is not None
            assert found.state is ScheduledState.STARTED
        finally:
            await service.close()


def test_civic_range_by_side_of_the_street() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE street (id INTEGER PRIMARY KEY, zone_id INTEGER)")
    conn.execute("CREATE TABLE resident (id INTEGER PRIMARY KEY, street_id INT, civic_number TEXT)")
    conn.execute("INSERT INTO street VALUES (1, NULL), (2, NULL)")
    numbers = ["99", "100", "101", "150", "151A", "250", "251", "", "abc"]
    conn.executemany(
        "INSERT INTO resident (street_id, civic_number) VALUES (?, ?)",
        [(1, n) for n in numbers] + [(2, "120")],
    )

    def matched(parity: Parity) -> list[str]:
        target = Target(TargetKind.RANGE, street_id=1, civic_from=100, civic_to=250, parity=parity)
        assert Target.from_json(target.to_json()) == target
        where, params = target.where()
        found = conn.execute(
            f"SELECT r.civic_number FROM resident r LEFT JOIN street s ON s.id = r.street_id"
            f" WHERE {where} ORDER BY r.id",
            params,
        ).fetchall()
        return [row[0] for row in found]

    assert matched(Parity.ALL) == ["100", "101", "150", "151A", "250"]
    assert matched(Parity.ODD) == ["101", "151A"]
    assert matched(Parity.EVEN) == ["100", "150", "250"]
    # A target stored before parity existed reads as both sides.
    old = '{"kind": "range", "street_id": 1, "civic_from": 1, "civic_to": 9}'
    assert Target.from_json(old).parity is Parity.ALL
