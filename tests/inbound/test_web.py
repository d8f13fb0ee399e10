"""The resident's neighbour-alert page: post, feed, settings, refusals; in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.inbound.helpers import add_resident
from tests.web.helpers import Web, running_web
from tests.web.test_auth_routes import NUMBER
from tests.web.test_profile_routes import signed_in

NEIGHBOUR = "+15145550102"
FAR_AWAY = "+15145550103"


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with running_web(tmp_path) as client:
        yield client


async def with_street(web: Web, *, hide: bool = True) -> None:
    """Signed in as Antoine on a street of zone Centre; a neighbour there, one elsewhere."""
    await signed_in(web)
    streets = web.rendered.context["streets"]
    centre = [s for s in streets if s.zone == "Centre"]
    elsewhere = [s for s in streets if s.zone not in (None, "Centre")]
    form = {
        "last_name": "Racicot",
        "first_name": "Antoine",
        "language": "fr",
        "city": "Ville de Démo",
        "civic_number": "710",
        "street": str(centre[0].id),
        "postal_code": "J6W1T6",
        "consent_neighbour_alerts": "yes",
        **({"hide_my_number": "yes"} if hide else {}),
    }
    response = await web.post("/profile", form)
    assert response.status_code == 303
    await add_resident(web.gateway, NEIGHBOUR, street_id=centre[1].id, first_name="Béa")
    await add_resident(web.gateway, FAR_AWAY, street_id=elsewhere[0].id, first_name="David")


async def relays(web: Web) -> list[tuple[str, str]]:
    return [(dest, body) for cls, _ch, dest, body in await web.sent_messages() if cls == "relay"]


async def test_page_needs_login(web: Web) -> None:
    response = await web.get("/neighbours")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_post_relays_and_shows_in_the_feed(web: Web) -> None:
    await with_street(web)
    await web.get("/neighbours")
    assert web.rendered.name == "neighbours.html"
    assert web.rendered.context["zone_name"] == "Centre"
    assert web.rendered.context["feed"] == []
    await web.follow(await web.post("/neighbours", {"body": "Premier"}))
    await web.follow(await web.post("/neighbours", {"body": "Chien en liberté  rue Saint-Louis"}))
    assert await relays(web) == [
        (NEIGHBOUR, "Antoine: Premier"),
        (NEIGHBOUR, "Antoine: Chien en liberté rue Saint-Louis"),
    ]
    feed = web.rendered.context["feed"]
    assert [a.body for a in feed] == ["Chien en liberté rue Saint-Louis", "Premier"]
    assert "Votre alerte a été envoyée à vos voisins." in web.rendered.context["flashes"]
    # The other zone's resident posts too: not in Antoine's feed.
    assert NUMBER not in [d for d, _b in await relays(web)]


async def test_shown_number_when_not_hidden(web: Web) -> None:
    await with_street(web, hide=False)
    await web.post("/neighbours", {"body": "Fumée"})
    assert await relays(web) == [(NEIGHBOUR, "Antoine (514 555-0101): Fumée")]


async def test_no_street_is_explained(web: Web) -> None:
    await signed_in(web)
    response = await web.post("/neighbours", {"body": "Sans rue"})
    assert response.status_code == 400
    assert "rue" in web.rendered.context["refusal"]


async def test_empty_and_limited_posts_are_refused(web: Web) -> None:
    await with_street(web)
    response = await web.post("/neighbours", {"body": "   "})
    assert response.status_code == 400
    for body in ("1", "2", "3"):
        await web.post("/neighbours", {"body": body})
    response = await web.post("/neighbours", {"body": "4"})
    assert response.status_code == 400
    assert "dernière heure" in web.rendered.context["refusal"]
    assert web.rendered.context["body"] == "4"  # what was typed is kept


async def test_settings(web: Web) -> None:
    await with_street(web)
    await web.get("/neighbours")
    context = web.rendered.context
    assert (context["receive_sms"], context["receive_email"], context["hide_my_number"]) == (
        True,
        False,
        True,
    )
    await web.follow(await web.post("/neighbours/settings", {"email": "yes"}))
    context = web.rendered.context
    assert (context["receive_sms"], context["receive_email"], context["hide_my_number"]) == (
        False,
        True,
        False,
    )


async def test_english_page(web: Web) -> None:
    await with_street(web)
    response = await web.get("/neighbours?lang=en")
    assert "Neighbour alerts" in response.text
    assert "Recent alerts in your community" in response.text
