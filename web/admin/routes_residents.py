"""Residents in the admin console: the paged list with search and filters, one resident's
file with what they were sent, deactivation, and the CSV export. Everyone signed in reads;
admins deactivate and export (personal data), and both are in the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.campaigns.models import Role
from gateway.residents import csv_export
from gateway.residents.directory import ResidentQuery
from gateway.residents.history import sent_to
from gateway.residents.phones import display_for
from gateway.residents.service import ResidentService
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

NOTICE_DEACTIVATED: Final = N_(
    "Le résident est désactivé : il ne reçoit plus aucune alerte et ne peut plus se connecter."
)
NOTICE_REACTIVATED: Final = N_("Le résident est réactivé.")
CONSENT_FILTERS: Final[dict[str, str]] = {
    "sms": N_("alertes par SMS"),
    "voice": N_("alertes par appel"),
    "neighbours": N_("alertes de voisins"),
    "none": N_("aucune alerte municipale"),
}
STATE_LABELS: Final[dict[str, str]] = {
    "queued": N_("en attente"),
    "sending": N_("en cours"),
    "sent": N_("envoyé"),
    "delivered": N_("livré"),
    "failed": N_("échec"),
    "expired": N_("expiré"),
    "cancelled": N_("annulé"),
    "unknown": N_("inconnu"),
}
CLASS_LABELS: Final[dict[str, str]] = {
    "otp": N_("code à usage unique"),
    "relay": N_("alerte de voisin"),
    "reply": N_("réponse automatique"),
    "alert": N_("alerte municipale"),
    "api": N_("API"),
}
OUTCOME_LABELS: Final[dict[str, str]] = {
    "confirmed": N_("confirmé (1)"),
    "no_confirmation": N_("écouté, sans confirmation"),
    "hung_up": N_("raccroché"),
    "busy": N_("occupé"),
    "no_answer": N_("pas de réponse"),
    "failed": N_("échec"),
}


@admin_page()
async def residents_list(visit: AdminVisit) -> Response:
    """50 residents a page, by name; search by name, number or street; filters."""
    query = _query(visit)
    page = await _residents(visit).directory.search(query)
    filters = _filters(query)
    kept = {key: value for key, value in filters.items() if value}
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "export_query": urlencode(kept),
        "zones": await visit.service.reference.zones(),
        "consents": CONSENT_FILTERS,
        "phone": _phone_formatter(visit),
        "query_for": lambda number: _query_string(filters, number),
    }
    return visit.render("admin/residents.html", context)


@admin_page()
async def resident_detail(visit: AdminVisit) -> Response:
    """Profile, contact points, consents, and the messages and calls sent to their numbers."""
    resident_id = int(visit.request.path_params["resident_id"])
    service = _residents(visit)
    file = await service.directory.get(resident_id)
    if file is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    numbers = {file.resident.phone, *(c.number for c in file.contacts)}
    context: dict[str, Any] = {
        "file": file,
        "sent": await sent_to(service.db, sorted(numbers)),
        "phone": _phone_formatter(visit),
        "clock": clock,
        "states": STATE_LABELS,
        "classes": CLASS_LABELS,
        "outcomes": OUTCOME_LABELS,
    }
    return visit.render("admin/resident.html", context)


@admin_page(role=Role.ADMIN)
async def set_active(visit: AdminVisit) -> Response:
    """Deactivate (no alert, no sign-in, sessions ended) or reactivate; audited."""
    resident_id = int(visit.request.path_params["resident_id"])
    active = visit.field("active") == "yes"
    if not await _residents(visit).directory.set_active(resident_id, active):
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    await visit.service.audit.record(
        "resident.reactivate" if active else "resident.deactivate",
        admin=visit.current,
        detail=f"#{resident_id}",
        client=visit.client,
    )
    await visit.flash(NOTICE_REACTIVATED if active else NOTICE_DEACTIVATED)
    return visit.redirect(f"/admin/residents/{resident_id}")


@admin_page(role=Role.ADMIN)
async def export(visit: AdminVisit) -> Response:
    """The residents the list shows for the same search and filters (every resident without
    any), as CSV in the import's format; streamed a page of rows at a time."""
    semicolon = visit.request.query_params.get("delimiter") == "semicolon"
    query = _query(visit)
    filters = {key: value for key, value in _filters(query).items() if value}
    await visit.service.audit.record(
        "residents.export",
        admin=visit.current,
        detail="csv" + (f" {urlencode(filters)}" if filters else ""),
        client=visit.client,
    )

    async def body() -> AsyncIterator[bytes]:
        async for chunk in csv_export.export_csv(
            _residents(visit).db, delimiter=";" if semicolon else ",", query=query
        ):
            yield chunk.encode("utf-8")

    response = StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="residents.csv"'},
    )
    return visit.finish(response)


def _query(visit: AdminVisit) -> ResidentQuery:
    """The list's search and filters from the address (the list and its export share it)."""
    params = visit.request.query_params
    zone = params.get("zone", "")
    return ResidentQuery(
        text=params.get("q", "")[:80],
        zone_id=int(zone) if zone.isdigit() and len(zone) < 12 else None,
        active={"yes": True, "no": False}.get(params.get("active", "")),
        consent=params.get("consent", "") if params.get("consent") in CONSENT_FILTERS else "",
        page=int(params["page"]) if params.get("page", "").isdigit() else 1,
    )


def _filters(query: ResidentQuery) -> dict[str, str]:
    """The query as the form's fields (page apart)."""
    return {
        "q": query.text,
        "zone": "" if query.zone_id is None else str(query.zone_id),
        "active": {True: "yes", False: "no", None: ""}[query.active],
        "consent": query.consent,
    }


def _residents(visit: AdminVisit) -> ResidentService:
    service: ResidentService = visit.request.app.state.residents
    return service


def _phone_formatter(visit: AdminVisit) -> Any:
    region = (_residents(visit).settings.regions or ("CA",))[0]
    return lambda e164: display_for(e164, region)


def _query_string(filters: dict[str, str], page: int) -> str:
    """The list's address for another page with the same search and filters."""
    kept = {key: value for key, value in filters.items() if value}
    return "?" + urlencode({**kept, "page": page})


ROUTES: Final = [
    Route("/residents", residents_list, methods=["GET"]),
    Route("/residents.csv", export, methods=["GET"]),
    Route("/residents/{resident_id:int}", resident_detail, methods=["GET"]),
    Route("/residents/{resident_id:int}/active", set_active, methods=["POST"]),
]
