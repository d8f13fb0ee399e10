"""Alertes de voisins: post an alert to one's community, read its feed, choose how to receive."""

from __future__ import annotations

import dataclasses
from typing import Final

from starlette.responses import Response
from starlette.routing import Route

from gateway.inbound.email_verify import EmailState, LinkOutcome
from gateway.inbound.relay import MAX_POST_CHARS, EmptyAlert, NeighbourAlerts
from gateway.inbound.store import AlertState
from gateway.residents.models import Resident
from web.i18n import N_
from web.visit import Visit, page

# Shown after a post or a refusal (msgids; the page translates them).
SENT: Final = N_("Votre alerte a été envoyée à vos voisins.")
PENDING: Final = N_("Votre alerte sera envoyée dès qu'un responsable de la ville l'aura approuvée.")
SAVED: Final = N_("Vos choix d'alertes de voisins sont enregistrés.")
LINK_NOTICES: Final[dict[LinkOutcome, str]] = {
    LinkOutcome.SENT: N_(
        "Un lien de confirmation a été envoyé à votre adresse courriel. Ouvrez-le pour "
        "recevoir les copies des alertes."
    ),
    LinkOutcome.TOO_SOON: N_(
        "Un lien de confirmation vient d'être envoyé. Attendez quelques minutes avant d'en "
        "demander un autre."
    ),
    LinkOutcome.NO_EMAIL: N_("Ajoutez d'abord votre courriel dans votre profil."),
    LinkOutcome.DISABLED: N_("La ville n'envoie pas de courriels pour l'instant."),
    LinkOutcome.FAILED: N_("Le courriel n'a pas pu être envoyé. Réessayez plus tard."),
}
VERIFIED: Final = N_(
    "Votre adresse courriel est confirmée : vous recevrez les copies des alertes de voisins."
)
REFUSALS: Final[dict[str, str]] = {
    "empty": N_("Écrivez votre alerte avant de l'envoyer."),
    "no_zone": N_(
        "Choisissez votre rue dans votre profil : elle détermine votre communauté de voisins."
    ),
    "blocked": N_("Votre numéro ne peut plus lancer d'alertes de voisins."),
    "sender_limit": N_(
        "Vous avez lancé plusieurs alertes dans la dernière heure. Réessayez plus tard."
    ),
    "zone_limit": N_(
        "Votre communauté a reçu beaucoup d'alertes dans la dernière heure. Réessayez plus tard."
    ),
}


@page(login=True)
async def neighbours(visit: Visit) -> Response:
    """The form, the settings and the community's recent alerts, newest first."""
    resident = _resident(visit)
    if visit.request.method == "GET":
        return await _render(visit, resident)
    alerts = _alerts(visit)
    body = visit.field("body")
    try:
        decision = await alerts.post(resident.id, body)
    except EmptyAlert:
        return await _render(visit, resident, refusal="empty", body=body, status=400)
    if decision is None or decision.state is AlertState.REFUSED:
        reason = decision.reason if decision is not None else "no_zone"
        return await _render(visit, resident, refusal=reason, body=body, status=400)
    await visit.flash(PENDING if decision.state is AlertState.PENDING else SENT)
    return visit.redirect("/neighbours")


@page(login=True)
async def neighbour_settings(visit: Visit) -> Response:
    """Receive by SMS (the profile's consent), by email, and hide my number."""
    resident = _resident(visit)
    profile = dataclasses.replace(
        resident.profile,
        consent_neighbour_alerts=visit.field("sms") == "yes",
        hide_my_number=visit.field("hide_my_number") == "yes",
    )
    await visit.service.residents.update_profile(resident.id, profile)
    alerts = _alerts(visit)
    wants_email = visit.field("email") == "yes"
    await alerts.set_email_alerts(resident.id, wants_email)
    await visit.flash(SAVED)
    if wants_email and await alerts.verification.state(resident.id) is EmailState.UNVERIFIED:
        outcome = await alerts.verification.send_link(resident.id, _link_base(visit))
        await visit.flash(LINK_NOTICES[outcome])
    return visit.redirect("/neighbours")


@page(login=True)
async def send_email_link(visit: Visit) -> Response:
    """Send (again) the link that proves the profile's email address."""
    resident = _resident(visit)
    outcome = await _alerts(visit).verification.send_link(resident.id, _link_base(visit))
    await visit.flash(LINK_NOTICES[outcome])
    return visit.redirect("/neighbours#settings-title")


@page()
async def verify_email(visit: Visit) -> Response:
    """The emailed link: GET shows a button (mail scanners fetch links), POST confirms."""
    token = visit.request.query_params.get("token", "") or visit.field("token")
    if visit.request.method == "GET":
        return visit.render("email_verify.html", {"token": token, "done": False, "invalid": False})
    resident_id = await _alerts(visit).verification.confirm(token)
    if resident_id is None:
        return visit.render("email_verify.html", {"token": "", "done": False, "invalid": True}, 400)
    return visit.render(
        "email_verify.html", {"token": "", "done": True, "invalid": False, "message": VERIFIED}
    )


async def _render(
    visit: Visit, resident: Resident, *, refusal: str = "", body: str = "", status: int = 200
) -> Response:
    alerts = _alerts(visit)
    zone = await alerts.zone_of(resident.id)
    feed = await alerts.feed(zone[0]) if zone is not None else []
    context = {
        "zone_name": zone[1] if zone is not None else "",
        "feed": feed,
        "body": body,
        "max_chars": MAX_POST_CHARS,
        "refusal": REFUSALS.get(refusal, "") if refusal else "",
        "receive_sms": resident.profile.consent_neighbour_alerts,
        "receive_email": await alerts.email_alerts(resident.id),
        "has_email": bool(resident.profile.email),
        "email_state": (await alerts.verification.state(resident.id)).value,
        "hide_my_number": resident.profile.hide_my_number,
    }
    return visit.render("neighbours.html", context, status)


def _link_base(visit: Visit) -> str:
    """The town's configured address for links in emails, else this request's own."""
    alerts = _alerts(visit)
    return alerts.settings.website or str(visit.request.base_url)


def _alerts(visit: Visit) -> NeighbourAlerts:
    alerts: NeighbourAlerts = visit.request.app.state.neighbours
    return alerts


def _resident(visit: Visit) -> Resident:
    assert visit.resident is not None  # @page(login=True)
    return visit.resident


ROUTES = [
    Route("/neighbours", neighbours, methods=["GET", "POST"]),
    Route("/neighbours/settings", neighbour_settings, methods=["POST"]),
    Route("/neighbours/email/send", send_email_link, methods=["POST"]),
    Route("/neighbours/email/verify", verify_email, methods=["GET", "POST"]),
]
