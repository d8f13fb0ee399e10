"""A municipal alert to 10,000 residents on 4 simulated modems, through the admin console's service.

Measures the time to create the alert (targeting, dedup, campaign rows and the whole outbox
fan-out), the time from Send to the first message on a modem, the ETA shown at Send against
the actual time the last message was handed to the network, modem utilisation while it drains,
and the progress page's p99 response time meanwhile (requested from another thread over HTTP).

Modems run in another process (`tocsin simulate`, realistic +CMGS latency × 0.01, ~30 ms).
Most numbers are not simulated phones: the network accepts them and reports them failed, as
a real SMSC does for dead numbers. Before the alert, a short warm-up lets the pool measure
its send time, as it would have in production (the ETA comes from measured rates).

    python -m bench.campaign [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import re
import socket
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from bench.common import emit, percentile
from bench.sim_process import start_simulator
from gateway.campaigns.admins import AdminAccounts
from gateway.campaigns.models import Channels, Draft, Role, Severity
from gateway.campaigns.repository import last_send_ms
from gateway.campaigns.seed import SeedResident, seed_residents, streets_by_zone
from gateway.campaigns.service import CampaignService
from gateway.campaigns.targeting import Target, TargetKind
from gateway.config import ModemSettings, from_mapping
from gateway.outbox import Channel, MessageClass, MessageState, NewMessage
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from web.app import create_app

MODEMS = 4
SCALE = 0.01
FULL_RESIDENTS = 10_000
QUICK_RESIDENTS = 1_000
# The pool's send time is a moving average starting from 3 s: ~40 sends make it measured.
WARM_UP_PER_MODEM = 40
PASSWORD = "une phrase de passe assez longue"
DRAFT = Draft(
    "Avis d'ébullition",
    "Avis d'ébullition préventif dans tout le secteur. Faites bouillir l'eau 1 minute.",
    "Precautionary boil-water advisory for the whole area. Boil tap water for 1 minute.",
    Channels.SMS,
    Severity.EMERGENCY,
)


def residents(count: int, simulated: list[str], streets: list[int]) -> list[SeedResident]:
    """`count` residents: the simulated phones first, then numbers no phone answers."""
    numbers = simulated + [f"+1514556{i:04d}" for i in range(count - len(simulated))]
    return [
        SeedResident(
            phone=number,
            first_name="Résident",
            last_name=str(i),
            language="en" if i % 4 == 3 else "fr",
            street_id=streets[i % len(streets)],
            civic_number=str(1 + i % 400),
            sms_numbers=(number,),
        )
        for i, number in enumerate(numbers[:count])
    ]


class PagePoller(threading.Thread):
    """Requests the progress page over HTTP as often as it answers, from its own thread."""

    def __init__(self, base: str, path: str) -> None:
        super().__init__(name="bench-web", daemon=True)
        self.base = base
        self.path = path
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def login(self) -> None:
        page = self.opener.open(f"{self.base}/admin/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        body = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "username": "bench", "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/admin/login", data=body, headers={"origin": self.base}
        )
        self.opener.open(request, timeout=10).read()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with self.opener.open(f"{self.base}{self.path}", timeout=10) as response:
                    response.read()
                self.latencies.append((time.perf_counter() - started) * 1000)
            except OSError:
                self.errors += 1
            self.stop.wait(0.05)  # a few people watching the page, refreshing


async def run(count: int) -> dict[str, float | int | str]:
    sim = await start_simulator(modems=MODEMS, phones=20, scale=SCALE)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return await _measure(count, sim.modems, [p["number"] for p in sim.phones], Path(tmp))
    finally:
        await sim.stop()


async def _measure(
    count: int, modems: list[dict[str, object]], phones: list[str], tmp: Path
) -> dict[str, float | int | str]:
    config = from_mapping({}, {"storage.path": str(tmp / "bench.sqlite")})
    settings = tuple(ModemSettings(port=str(m["port"]), name=f"m{i}") for i, m in enumerate(modems))
    async with Gateway(config, settings) as gateway:
        assert gateway.db is not None
        workers = gateway.pool.workers
        async with asyncio.timeout(60):
            while not all(w.status.health.value == "ready" for w in workers):
                await asyncio.sleep(0.01)
        await _warm_up(gateway, phones)
        await load_sample_streets(gateway.db, "Ville de Démo")
        streets = [s for ids in (await streets_by_zone(gateway.db)).values() for s in ids]
        await seed_residents(gateway.db, residents(count, phones, streets))
        await AdminAccounts(gateway.db).create("bench", PASSWORD, Role.OPERATOR)

        app = create_app(gateway)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        )
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                await asyncio.sleep(0.01)
            service: CampaignService = app.state.campaigns
            return await _alert(gateway, service, base, count)
        finally:
            server.should_exit = True
            await serving


async def _warm_up(gateway: Gateway, phones: list[str]) -> None:
    """A few messages per modem, so send_rate() is measured rather than the 3 s default."""
    events = gateway.bus.subscribe({"message"})
    valid = datetime.now(UTC) + timedelta(hours=1)
    total = WARM_UP_PER_MODEM * len(gateway.pool.workers)
    await gateway.outbox.enqueue_many(
        0,
        (
            NewMessage(MessageClass.API, Channel.SMS, phones[i % len(phones)], "essai", "fr",
                       valid_until=valid)
            for i in range(total)
        ),
    )  # fmt: skip
    sent: set[object] = set()
    async with asyncio.timeout(60):
        while len(sent) < total:
            event = await events.next()
            if event.data["state"] == "sent":
                sent.add(event.data["id"])
    events.close()


async def _alert(
    gateway: Gateway, service: CampaignService, base: str, count: int
) -> dict[str, float | int | str]:
    workers = gateway.pool.workers
    admin = await service.accounts.authenticate("bench", PASSWORD)
    assert admin is not None
    poller = PagePoller(base, "/admin/campaigns")
    await asyncio.to_thread(poller.login)
    events = gateway.bus.subscribe({"message"})
    busy_before = sum(w.status.busy_seconds for w in workers)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    campaign_id = await service.send(DRAFT, Target(TargetKind.EVERYONE), admin)
    create_s = time.perf_counter() - started
    campaign = await service.get(campaign_id)
    assert campaign is not None
    poller.path = f"/admin/campaigns/{campaign_id}"
    poller.start()
    first: datetime | None = None
    try:
        async with asyncio.timeout(30):
            while first is None:
                event = await events.next()
                if event.data.get("campaign_id") == campaign_id:
                    first = event.at  # stamped when published, whenever we read it
        events.close()
        async with asyncio.timeout(count * SCALE * 10 + 120):
            while True:
                counts = await gateway.outbox.counts_by_state(campaign_id)
                if counts[MessageState.QUEUED] + counts[MessageState.SENDING] == 0:
                    break
                await asyncio.sleep(0.1)
    finally:
        poller.stop.set()
        await asyncio.to_thread(poller.join, 10)
        events.close()
    total = sum(counts.values())
    busy = sum(w.status.busy_seconds for w in workers) - busy_before
    assert gateway.db is not None
    last_ms = await gateway.db.read_fn(lambda conn: last_send_ms(conn, campaign_id))
    assert last_ms is not None
    actual = last_ms / 1000 - started_at.timestamp()
    eta = campaign.eta_s
    eta_error = float("nan") if eta is None else (eta - actual) / actual * 100
    web_p99 = percentile(poller.latencies, 99)
    assert first is not None
    first_ms = (first - started_at).total_seconds() * 1000
    print(
        f"campaign: {total} messages to {count} residents on {len(workers)} modems\n"
        f"  created (targeting + fan-out) in {create_s:.3f} s; first message after "
        f"{first_ms:.0f} ms\n"
        f"  ETA at Send {eta if eta is None else round(eta, 1)} s, actual {actual:.1f} s "
        f"(error {eta_error:+.1f} %)\n"
        f"  utilisation {busy / (actual * len(workers)):.3f}; progress page p50 "
        f"{percentile(poller.latencies, 50):.1f} ms, p99 {web_p99:.1f} ms over "
        f"{len(poller.latencies)} requests ({poller.errors} errors)"
    )
    return {
        "create_s": round(create_s, 3),
        "first_message_ms": round(first_ms, 1),
        "eta_error_pct": round(eta_error, 1),
        "utilisation": round(busy / (actual * len(workers)), 4),
        "web_p99_ms": round(web_p99, 1),
        "messages": total,
        "residents": count,
        "modems": len(workers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 residents, under 30 s")
    args = parser.parse_args()
    emit(asyncio.run(run(QUICK_RESIDENTS if args.quick else FULL_RESIDENTS)))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
