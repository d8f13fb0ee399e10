"""Routing without modems: keywords, opt-outs, unknown senders, loops, limits, moderation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.inbound.lists import block_sender, blocked_senders, is_opted_out, unblock_sender
from gateway.inbound.router import Route
from gateway.inbound.store import AlertState
from gateway.keywords import Keyword
from gateway.service import Gateway
from tests.inbound.helpers import add_resident, make_config, outbox_rows, receive, street_ids

ANTOINE = "+15145550101"
BEA = "+15145550102"
CHLOE = "+15145550103"
DAVID = "+15145550104"  # zone B
STRANGER = "+15145550199"


async def community(gateway: Gateway) -> dict[str, int]:
    streets = await street_ids(gateway)
    erables, moulin, port = (
        streets[n] for n in ("Rue des Érables", "Rue du Moulin", "Rue du Port")
    )
    return {
        "antoine": await add_resident(gateway, ANTOINE, street_id=erables, first_name="Antoine"),
        "bea": await add_resident(gateway, BEA, street_id=moulin, first_name="Béa"),
        "chloe": await add_resident(
            gateway, CHLOE, street_id=erables, first_name="Chloé", language="en", hide=False
        ),
        "david": await add_resident(gateway, DAVID, street_id=port, first_name="David"),
    }


async def text(gateway: Gateway, sender: str, body: str) -> Route:
    routed = await gateway.router.route(await receive(gateway, sender, body))
    return routed.route


async def relays(gateway: Gateway) -> dict[str, str]:
    return {dest: body for cls, dest, body in await outbox_rows(gateway) if cls == "relay"}


async def replies(gateway: Gateway, number: str) -> list[str]:
    return [
        body for cls, dest, body in await outbox_rows(gateway) if cls == "reply" and dest == number
    ]


async def test_relay_to_the_zone_only(gateway: Gateway) -> None:
    await community(gateway)
    assert await text(gateway, ANTOINE, "Cambrioleur  rue des Érables!") == Route.ALERT
    assert await relays(gateway) == {
        BEA: "Antoine: Cambrioleur rue des Érables!",
        CHLOE: "Antoine: Cambrioleur rue des Érables!",
    }
    assert await replies(gateway, ANTOINE) == []


async def test_shown_number_and_dedupe(gateway: Gateway) -> None:
    await community(gateway)
    # Chloé shows her number; Eve shares Béa's phone: one copy per number.
    streets = await street_ids(gateway)
    await add_resident(
        gateway,
        "+15145550111",
        street_id=streets["Rue du Moulin"],
        sms=(BEA, "+15145550112"),
        first_name="Eve",
    )
    await text(gateway, CHLOE, "Fire on Moulin")
    expected = "Chloé (514 555-0103): Fire on Moulin"
    assert await relays(gateway) == {ANTOINE: expected, BEA: expected, "+15145550112": expected}
    assert len(await outbox_rows(gateway)) == 3


@pytest.mark.parametrize(
    ("body", "keyword", "reply_word"),
    [
        ("stop", Keyword.STOP, "REPRENDRE"),
        (" Arrêt!", Keyword.STOP, "REPRENDRE"),
        ("UNSUBSCRIBE", Keyword.STOP, "START"),
        ("AIDE", Keyword.HELP, "ARRET"),
        ("help", Keyword.HELP, "STOP"),
        ("Info", Keyword.HELP, "ARRET"),  # neither language: the resident's (fr)
        ("start", Keyword.START, "STOP"),
        ("Reprendre", Keyword.START, "ARRET"),
    ],
)
async def test_keywords_change_state_and_reply(
    gateway: Gateway, body: str, keyword: Keyword, reply_word: str
) -> None:
    await community(gateway)
    assert gateway.db is not None
    routed = await gateway.router.route(await receive(gateway, BEA, body))
    assert (routed.route, routed.keyword) == (Route.KEYWORD, keyword)
    assert await is_opted_out(gateway.db, BEA) is (keyword is Keyword.STOP)
    [reply] = await replies(gateway, BEA)
    assert reply_word in reply
    assert "Terrebonne" in reply
    assert len(reply) <= 160
    assert await relays(gateway) == {}


async def test_help_in_english_for_an_english_resident(gateway: Gateway) -> None:
    await community(gateway)
    await text(gateway, CHLOE, "info")
    [reply] = await replies(gateway, CHLOE)
    assert "Reply STOP" in reply
    assert "450 961-2001" in reply


async def test_stop_excludes_then_start_includes(gateway: Gateway) -> None:
    await community(gateway)
    assert gateway.db is not None
    await text(gateway, BEA, "ARRET")
    await text(gateway, BEA, "stop")  # already out: no second confirmation
    assert len(await replies(gateway, BEA)) == 1
    await text(gateway, ANTOINE, "Chien perdu")
    assert set(await relays(gateway)) == {CHLOE}
    await text(gateway, BEA, "REPRENDRE")
    assert not await is_opted_out(gateway.db, BEA)
    await text(gateway, ANTOINE, "Chien retrouvé")
    sent = [(d, b) for c, d, b in await outbox_rows(gateway) if c == "relay"]
    assert (BEA, "Antoine: Chien retrouvé") in sent


async def test_unknown_sender_gets_one_notice_a_day(gateway: Gateway) -> None:
    await community(gateway)
    for body in ("Bonjour?", "Allo", "Qui est-ce?"):
        assert await text(gateway, STRANGER, body) == Route.UNKNOWN
    [notice] = await replies(gateway, STRANGER)
    assert "https://alertes.example.org" in notice
    assert len(notice) <= 160
    assert await relays(gateway) == {}


async def test_opted_out_stranger_hears_nothing_more(gateway: Gateway) -> None:
    await text(gateway, STRANGER, "STOP")
    await text(gateway, STRANGER, "hello")
    [only] = await replies(gateway, STRANGER)
    assert "REPRENDRE" in only or "START" in only


@pytest.mark.parametrize("sender", ["12345", "+12345", "ORANGE", "Banque", "+1514"])
async def test_short_codes_and_alphanumeric_senders_are_never_answered(
    gateway: Gateway, sender: str
) -> None:
    for body in ("HELP", "STOP", "Votre forfait est epuise"):
        assert await text(gateway, sender, body) == Route.NOT_ANSWERABLE
    assert await outbox_rows(gateway) == []


async def test_two_gateways_texting_each_other_stay_bounded(gateway: Gateway) -> None:
    # The other box answers each of our replies with its own notice or HELP text.
    other = "+33612345678"
    for body in ["Bienvenue", "INFO", "aide", "help", "Ceci est un message automatique"] * 10:
        await text(gateway, other, body)
    assert len(await replies(gateway, other)) <= 5  # inbound.replies_per_day


async def test_block_list(gateway: Gateway) -> None:
    await community(gateway)
    assert gateway.db is not None
    await block_sender(gateway.db, ANTOINE, reason="insultes", by="admin")
    assert [b.number for b in await blocked_senders(gateway.db)] == [ANTOINE]
    assert await text(gateway, ANTOINE, "Encore moi") == Route.BLOCKED
    assert await text(gateway, STRANGER, "x") == Route.UNKNOWN
    await block_sender(gateway.db, STRANGER)
    assert await text(gateway, STRANGER, "y") == Route.BLOCKED
    assert await relays(gateway) == {}
    # STOP still works for a blocked number.
    await text(gateway, ANTOINE, "STOP")
    assert await is_opted_out(gateway.db, ANTOINE)
    assert await unblock_sender(gateway.db, ANTOINE)
    await text(gateway, ANTOINE, "Pardon")
    assert set(await relays(gateway)) == {BEA, CHLOE}


async def test_sender_and_zone_limits(tmp_path: Path) -> None:
    config = make_config(
        tmp_path, **{"neighbours.sender_per_hour": 2, "neighbours.zone_per_hour": 3}
    )
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        states = []
        for sender, body in [
            (ANTOINE, "1"),
            (ANTOINE, "2"),
            (ANTOINE, "3"),
            (BEA, "4"),
            (CHLOE, "5"),
        ]:
            routed = await gateway.router.route(await receive(gateway, sender, body))
            assert routed.decision is not None
            states.append((routed.decision.state, routed.decision.reason))
        assert states == [
            (AlertState.RELAYED, ""),
            (AlertState.RELAYED, ""),
            (AlertState.REFUSED, "sender_limit"),
            (AlertState.RELAYED, ""),
            (AlertState.REFUSED, "zone_limit"),
        ]
        bodies = {b.split(": ", 1)[1] for c, _d, b in await outbox_rows(gateway) if c == "relay"}
        assert bodies == {"1", "2", "4"}


async def test_segment_and_length_cap(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{"neighbours.max_segments": 1, "neighbours.max_chars": 500})
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        await text(gateway, ANTOINE, "Voiture suspecte " * 30)
        for body in (await relays(gateway)).values():
            assert len(body) <= 160
            assert body.startswith("Antoine: Voiture suspecte")
            assert body.endswith("...")


async def test_moderation_queue(tmp_path: Path) -> None:
    async with Gateway(make_config(tmp_path, **{"neighbours.moderation": True}), ()) as gateway:
        await community(gateway)
        alerts = gateway.router.alerts
        await text(gateway, ANTOINE, "Colis volé")
        await text(gateway, DAVID, "Spam")
        assert await relays(gateway) == {}
        first, second = await alerts.pending()
        assert (first.sender_name, first.zone_name, first.body) == (
            "Antoine",
            "Zone A",
            "Colis volé",
        )
        assert await alerts.approve(first.id, by="police")
        assert not await alerts.approve(first.id, by="police")  # once
        assert await alerts.reject(second.id, by="police")
        assert set(await relays(gateway)) == {BEA, CHLOE}
        assert await alerts.pending() == []
        approved = await alerts.get(first.id)
        assert approved is not None
        assert (approved.state, approved.decided_by, approved.recipients) == (
            AlertState.RELAYED,
            "police",
            2,
        )


async def test_routed_exactly_once_across_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        # Committed by the modem layer, then the power goes before the router sees them.
        await receive(gateway, ANTOINE, "Fuite de gaz")
        await receive(gateway, STRANGER, "Salut")
        assert await outbox_rows(gateway) == []
    async with Gateway(config, ()) as gateway:
        first = await outbox_rows(gateway)
        assert sorted(d for _c, d, _b in first) == [BEA, CHLOE, STRANGER]
        assert await gateway.inbox.unprocessed_inbound() == []
    async with Gateway(config, ()) as gateway:
        assert await outbox_rows(gateway) == first
        assert await gateway.inbox.unprocessed_inbound() == []


async def test_decided_but_not_enqueued_is_enqueued_once_at_start(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with Gateway(config, ()) as gateway:
        await community(gateway)
        inbound_id = await receive(gateway, ANTOINE, "Arbre tombé")
        # A crash after the routing commit, before the outbox rows: simulate by undoing them.
        await gateway.router.route(inbound_id)
        assert gateway.db is not None
        async with gateway.db.write() as conn:
            await conn.execute("DELETE FROM message")
            await conn.execute("UPDATE neighbour_recipient SET message_id = NULL")
    async with Gateway(config, ()) as gateway:
        assert set(await relays(gateway)) == {BEA, CHLOE}
        assert len(await outbox_rows(gateway)) == 2
        assert await gateway.router.alerts.flush() == 0
        assert len(await outbox_rows(gateway)) == 2
