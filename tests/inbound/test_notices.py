"""A refused or rejected neighbour alert is answered once, in the sender's language; a blocked
sender and a STOP are never answered."""

from __future__ import annotations

from pathlib import Path

from gateway.inbound.lists import block_sender
from gateway.inbound.store import AlertState
from gateway.service import Gateway
from tests.inbound.helpers import add_resident, make_config, receive
from tests.inbound.test_router import ANTOINE, BEA, CHLOE, community, replies, text

LIMITS = {"neighbours.sender_per_hour": 1, "neighbours.zone_per_hour": 10}


async def test_limit_refusal_is_answered_once_an_hour(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, **LIMITS), ()) as gateway:
        await community(gateway)
        await text(gateway, ANTOINE, "Premier")
        assert await replies(gateway, ANTOINE) == []
        routed = await gateway.router.route(await receive(gateway, ANTOINE, "Deuxieme"))
        assert routed.decision is not None
        assert (routed.decision.state, routed.decision.reason) == (
            AlertState.REFUSED,
            "sender_limit",
        )
        assert await replies(gateway, ANTOINE) == [
            "Terrebonne: votre alerte de voisin n'a pas ete relayee. Limite de 1 alertes par"
            " heure atteinte. Reessayez plus tard."
        ]
        await text(gateway, ANTOINE, "Troisieme")  # refused again: no second notice
        assert len(await replies(gateway, ANTOINE)) == 1


async def test_notice_in_the_senders_language(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, **LIMITS), ()) as gateway:
        await community(gateway)
        await text(gateway, CHLOE, "One")
        await text(gateway, CHLOE, "Two")
        (notice,) = await replies(gateway, CHLOE)
        assert notice.startswith("Terrebonne: your neighbour alert was not relayed.")


async def test_blocked_and_stopped_senders_hear_nothing(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, **LIMITS), ()) as gateway:
        await community(gateway)
        assert gateway.db is not None
        await block_sender(gateway.db, BEA, reason="spam", by="admin")
        await text(gateway, BEA, "Encore")
        assert await replies(gateway, BEA) == []
        await text(gateway, ANTOINE, "Un")
        await text(gateway, ANTOINE, "STOP")
        stop_reply = await replies(gateway, ANTOINE)
        await text(gateway, ANTOINE, "Deux")  # refused by the limit, but they said STOP
        assert await replies(gateway, ANTOINE) == stop_reply


async def test_no_zone_is_explained(gateway: Gateway) -> None:
    await add_resident(gateway, "+15145550120", street_id=None, first_name="Zoé")
    await text(gateway, "+15145550120", "Alerte")
    (notice,) = await replies(gateway, "+15145550120")
    assert "completez votre profil" in notice


async def test_moderator_rejection_is_answered(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{"neighbours.moderation": True})
    async with Gateway(config, ()) as gateway:
        ids = await community(gateway)
        alerts = gateway.router.alerts
        await text(gateway, ANTOINE, "Par texto")
        assert await replies(gateway, ANTOINE) == []  # pending is not refused
        posted = await alerts.post(ids["bea"], "Par le site")
        assert posted is not None
        assert posted.state is AlertState.PENDING
        by_sms, by_web = await alerts.pending()
        assert await alerts.reject(by_sms.id, by="police")
        assert await alerts.reject(by_web.id, by="police")
        assert await replies(gateway, ANTOINE) == [
            "Terrebonne: votre alerte de voisin n'a pas ete relayee."
            " Un moderateur de la ville l'a refusee."
        ]
        # The web post's author hears it on their SMS number.
        assert len(await replies(gateway, BEA)) == 1


async def test_a_web_post_refused_at_once_gets_no_sms(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, **LIMITS), ()) as gateway:
        ids = await community(gateway)
        alerts = gateway.router.alerts
        assert (await alerts.post(ids["bea"], "Un")) is not None
        refused = await alerts.post(ids["bea"], "Deux")
        assert refused is not None
        assert refused.state is AlertState.REFUSED
        assert await replies(gateway, BEA) == []


async def test_a_notice_is_enqueued_once_across_restarts(tmp_path: Path) -> None:
    config = make_config(tmp_path, **LIMITS)
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        await text(gateway, ANTOINE, "Un")
        await text(gateway, ANTOINE, "Deux")
    async with Gateway(config, ()) as gateway:
        await gateway.router.alerts.flush()
        assert len(await replies(gateway, ANTOINE)) == 1
