"""Neighbour alerts in the admin console: the list with delivery, moderation, the block list,
and a post to one community labelled as the town."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from gateway.campaigns.models import Role
from gateway.inbound import history, town
from gateway.inbound.lists import block_sender, blocked_senders, unblock_sender
from gateway.inbound.relay import MAX_POST_CHARS, EmptyAlert, NeighbourAlerts
from gateway.residents.errors import InvalidNumber
from gateway.residents.phones import display, normalize
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

PAGE: Final = "/admin/neighbours"
MAX_FILTER: Final = 80
_FILTER_KEYS: Final = ("zone", "state", "sender", "from", "to")
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
DELIVERY_LABELS: Final[dict[str, str]] = {
    "queued": N_("en attente"),
    "sending": N_("en cours d'envoi"),
    "sent": N_("envoyé"),
    "delivered": N_("remis"),
    "failed": N_("échec"),
    "expired": N_("expiré"),
    "cancelled": N_("annulé"),
    "unknown": N_("résultat inconnu"),
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
    """Alerts newest first (filtered, paged), the moderation queue, the block list, the town's
    post form."""
    return await _render(visit)


@admin_page()
async def detail(visit: AdminVisit) -> Response:
    """One alert with each recipient and where their SMS or email copy is."""
    alert_id = int(visit.request.path_params["alert_id"])
    alerts = _alerts(visit)
    alert = await alerts.get(alert_id)
    if alert is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    context: dict[str, Any] = {
        "alert": alert,
        "recipients": await history.recipients(alerts, alert_id),
        "delivery": (await town.deliveries(alerts, [alert_id])).get(alert_id),
        "town_name": alerts.settings.town_name,
        "STATE_LABELS": STATE_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "DELIVERY_LABELS": DELIVERY_LABELS,
        "clock": clock,
        "display": display,
    }
    return visit.render("admin/neighbour.html", context)


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
    wanted, shown = _filters(visit)
    number = 1
    with contextlib.suppress(ValueError):
        number = int(visit.request.query_params.get("page", "1"))
    found = await history.search(alerts, wanted, number)
    context: dict[str, Any] = {
        "alerts": found.alerts,
        "found": found,
        "filters": shown,
        "page_link": _page_link(shown),
        "deliveries": await town.deliveries(alerts, [a.id for a in found.alerts]),
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


def _filters(visit: AdminVisit) -> tuple[history.AlertFilter, dict[str, str]]:
    """The list's filters from the query string; what cannot be read is ignored (and shown
    blank), so a hand-edited address never errors."""
    query = visit.request.query_params
    shown = {key: query.get(key, "").strip()[:MAX_FILTER] for key in _FILTER_KEYS}
    zone_id: int | None = None
    with contextlib.suppress(ValueError):
        zone_id = int(shown["zone"]) if shown["zone"] else None
    if shown["state"] not in STATE_LABELS:
        shown["state"] = ""
    since, before = _day(shown["from"]), _day(shown["to"])
    if since is None:
        shown["from"] = ""
    if before is None:
        shown["to"] = ""
    wanted = history.AlertFilter(
        zone_id=zone_id,
        state=shown["state"],
        sender=shown["sender"],
        since=since,
        before=before + timedelta(days=1) if before is not None else None,
    )
    return wanted, shown


def _day(text: str) -> datetime | None:
    """Local midnight of a YYYY-MM-DD date (what <input type="date"> sends)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day).astimezone()


def _page_link(shown: dict[str, str]) -> Callable[[int], str]:
    def link(page: int) -> str:
        kept = {k: v for k, v in shown.items() if v}
        return PAGE + "?" + urlencode({**kept, "page": page}) + "#list-title"

    return link


def _alerts(visit: AdminVisit) -> NeighbourAlerts:
    alerts: NeighbourAlerts = visit.request.app.state.neighbours
    return alerts


ROUTES: Final = [
    Route("/neighbours", overview, methods=["GET"]),
    Route("/neighbours/post", post, methods=["POST"]),
    Route("/neighbours/blocks", block, methods=["POST"]),
    Route("/neighbours/blocks/remove", unblock, methods=["POST"]),
    Route("/neighbours/{alert_id:int}", detail, methods=["GET"]),
    Route("/neighbours/{alert_id:int}/{action:str}", decide, methods=["POST"]),
]
