"""Posts by the town are exempt from the zone's hourly limit and do not use it up."""

from __future__ import annotations

from pathlib import Path

from gateway.inbound.store import AlertState
from gateway.inbound.town import post_as_town
from gateway.service import Gateway
from tests.inbound.helpers import make_config, receive
from tests.inbound.test_router import ANTOINE, BEA, CHLOE, community


async def _zone_a(gateway: Gateway) -> int:
    assert gateway.db is not None
    async with gateway.db.read() as conn:
        rows = list(await conn.execute_fetchall("SELECT id FROM zone WHERE name = 'Zone A'"))
    return int(rows[0][0])


async def test_town_posts_go_out_and_leave_the_residents_allowance(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{"neighbours.zone_per_hour": 2})
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        zone = await _zone_a(gateway)
        alerts = gateway.router.alerts
        # More town posts than the zone's limit: every one is relayed.
        for n in range(3):
            decision = await post_as_town(alerts, zone, f"Avis {n}", by="police")
            assert decision.state is AlertState.RELAYED
        # The residents' two alerts of the hour are still there.
        states = []
        for sender in (ANTOINE, BEA, CHLOE):
            routed = await gateway.router.route(
                await receive(gateway, sender, f"Alerte de {sender}")
            )
            assert routed.decision is not None
            states.append((routed.decision.state, routed.decision.reason))
        assert states == [
            (AlertState.RELAYED, ""),
            (AlertState.RELAYED, ""),
            (AlertState.REFUSED, "zone_limit"),
        ]
