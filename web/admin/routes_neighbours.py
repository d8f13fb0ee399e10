"""Neighbour alerts in the admin console: the list with delivery, moderation, the block list,
and a post to one community labelled as the town."""

from __future__ import annotations

import contextlib
from typing import Any, Final

from starlette.responses import Response
from starlette.routing import Route

from gateway.campaigns.models import Role
from gateway.inbound import town
from gateway.inbound.lists import block_sender, blocked_senders, unblock_sender
from gateway.inbound.relay import MAX_POST_CHARS, EmptyAlert, NeighbourAlerts
from gateway.residents.errors import InvalidNumber
from gateway.residents.phones import display, normalize
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

PAGE: Final = "/admin/neighbours"
LIST_SIZE: Final = 100
MAX_REASON: Final = 200

STATE_LABELS: Final[dict[str, str]] = {
    "relayed": N_("relayée"),
    "pending": N_("en attente de modération"),
    "rejected": N_("rejetée"),
    "refused": N_("refusée"),
}
REASON_LABELS: Final[dict[str, str]] = {
    "no_zone": N_("l'expéditeur n'a pas de secteur"),
    "blocked": N_("expéditeur bloqué"),
    "sender_limit": N_("trop d'alertes de cet expéditeur"),
    "zone_limit": N_("trop d'alertes dans ce secteur"),
}
NEIGHBOUR_ERRORS: Final[dict[str, str]] = {
    "number": N_("Entrez un numéro de téléphone valide."),
    "zone": N_("Choisissez un secteur."),
    "body": N_("Entrez le texte du message (1000 caractères au plus)."),
}
NOTICE_APPROVED: Final = N_("L'alerte de voisin est approuvée et relayée.")
NOTICE_REJECTED: Final = N_("L'alerte de voisin est rejetée.")
NOTICE_DECIDED: Final = N_("Cette alerte n'est plus en attente.")
NOTICE_BLOCKED: Final = N_("Le numéro est bloqué.")
NOTICE_UNBLOCKED: Final = N_("Le numéro n'est plus bloqué.")
NOTICE_NOT_BLOCKED: Final = N_("Ce numéro n'était pas bloqué.")
NOTICE_POSTED: Final = N_("Le message de la ville est relayé au secteur.")


@admin_page()
async def overview(visit: AdminVisit) -> Response:
    """Every alert newest first, the moderation queue, the block list, the town's post form."""
    return await _render(visit)


@admin_page(role=Role.OPERATOR)
async def decide(visit: AdminVisit) -> Response:
    """Approve (relay now) or reject a pending alert; audited."""
    alert_id = int(visit.request.path_params["alert_id"])
    action = visit.request.path_params["action"]
    if action not in ("approve", "reject"):
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    alerts = _alerts(visit)
    if await alerts.get(alert_id) is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    by = visit.current.username
    if action == "approve":
        changed = await alerts.approve(alert_id, by=by)
    else:
        changed = await alerts.reject(alert_id, by=by)
    if changed:
        await visit.service.audit.record(
            f"neighbour.{action}", admin=visit.current, detail=f"#{alert_id}", client=visit.client
        )
        await visit.flash(NOTICE_APPROVED if action == "approve" else NOTICE_REJECTED)
    else:
        await visit.flash(NOTICE_DECIDED)
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN)
async def block(visit: AdminVisit) -> Response:
    """Add a number to the block list (normalised like residents' numbers); audited."""
    regions = visit.request.app.state.residents.settings.regions
    values = {"number": visit.field("number"), "reason": visit.field("reason")}
    try:
        number = normalize(values["number"], regions)
    except InvalidNumber:
        return await _render(visit, block_values=values, errors={"number": "number"}, status=400)
    reason = " ".join(values["reason"].split())[:MAX_REASON]
    await block_sender(
        town.database(_alerts(visit)), number, reason=reason, by=visit.current.username
    )
    await visit.service.audit.record(
        "neighbour.block", admin=visit.current, detail=number, client=visit.client
    )
    await visit.flash(NOTICE_BLOCKED)
    return visit.redirect(PAGE + "#blocks")


@admin_page(role=Role.ADMIN)
async def unblock(visit: AdminVisit) -> Response:
    """Lift a block; audited."""
    number = visit.field("number").strip()
    if await unblock_sender(town.database(_alerts(visit)), number):
        await visit.service.audit.record(
            "neighbour.unblock", admin=visit.current, detail=number, client=visit.client
        )
        await visit.flash(NOTICE_UNBLOCKED)
    else:
        await visit.flash(NOTICE_NOT_BLOCKED)
    return visit.redirect(PAGE + "#blocks")


@admin_page(role=Role.OPERATOR)
async def post(visit: AdminVisit) -> Response:
    """A message to one community through the neighbour relay, signed with the town's name."""
    values = {"zone": visit.field("zone"), "body": visit.field("body")}
    errors: dict[str, str] = {}
    zone_id = 0
    with contextlib.suppress(ValueError):
        zone_id = int(values["zone"])
    zones = {z.id: z.name for z in await visit.service.reference.zones()}
    if zone_id not in zones:
        errors["zone"] = "zone"
    if not values["body"].strip() or len(values["body"]) > MAX_POST_CHARS:
        errors["body"] = "body"
    if errors:
        return await _render(visit, post_values=values, errors=errors, status=400)
    try:
        decision = await town.post_as_town(
            _alerts(visit), zone_id, values["body"], by=visit.current.username
        )
    except (EmptyAlert, town.UnknownZone):
        return await _render(visit, post_values=values, errors={"zone": "zone"}, status=400)
    await visit.service.audit.record(
        "neighbour.post",
        admin=visit.current,
        detail=f"#{decision.alert_id} {zones[zone_id]}",
        client=visit.client,
    )
    await visit.flash(NOTICE_POSTED)
    return visit.redirect(PAGE)


async def _render(
    visit: AdminVisit,
    *,
    block_values: dict[str, str] | None = None,
    post_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    alerts = _alerts(visit)
    recent = await alerts.recent(LIST_SIZE)
    context: dict[str, Any] = {
        "alerts": recent,
        "deliveries": await town.deliveries(alerts, [a.id for a in recent]),
        "pending": await alerts.pending(),
        "blocks": await blocked_senders(town.database(alerts)),
        "zones": await visit.service.reference.zones(),
        "town_name": alerts.settings.town_name,
        "moderation": alerts.settings.moderation,
        "block_values": block_values or {"number": "", "reason": ""},
        "post_values": post_values or {"zone": "", "body": ""},
        "neighbour_errors": errors or {},
        "NEIGHBOUR_ERRORS": NEIGHBOUR_ERRORS,
        "STATE_LABELS": STATE_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "max_chars": MAX_POST_CHARS,
        "clock": clock,
        "display": display,
    }
    return visit.render("admin/neighbours.html", context, status)


def _alerts(visit: AdminVisit) -> NeighbourAlerts:
    alerts: NeighbourAlerts = visit.request.app.state.neighbours
    return alerts


ROUTES: Final = [
    Route("/neighbours", overview, methods=["GET"]),
    Route("/neighbours/post", post, methods=["POST"]),
    Route("/neighbours/blocks", block, methods=["POST"]),
    Route("/neighbours/blocks/remove", unblock, methods=["POST"]),
    Route("/neighbours/{alert_id:int}/{action:str}", decide, methods=["POST"]),
]
