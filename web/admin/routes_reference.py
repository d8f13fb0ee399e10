"""Reference data: zones and streets (list, create, rename, move, remove, the streets CSV
import) and the audit log. Everyone signed in reads; only admins edit, and every edit is in
the audit log."""

from __future__ import annotations

from typing import Final

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from gateway.campaigns.models import Role
from gateway.campaigns.reference import ReferenceEditError
from web.admin.messages import REJECT_REASONS
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

PAGE: Final = "/admin/reference"
# Street lists are small; the app's body limit (64 KiB) caps the upload anyway.
_MAX_CSV_BYTES = 60 * 1024

EDIT_ERRORS: Final[dict[str, str]] = {
    "name": N_("Entrez un nom (120 caractères au plus)."),
    "zone_taken": N_("Un secteur porte déjà ce nom."),
    "street_taken": N_("Une rue porte déjà ce nom dans cette ville."),
    "not_found": N_("Ce secteur ou cette rue n'existe plus."),
    "no_streets": N_("Cochez au moins une rue à déplacer."),
    "zone_in_use": N_("Ce secteur contient encore des rues : déplacez-les d'abord."),
    "street_in_use": N_(
        "Des résidents habitent cette rue : changez d'abord leur adresse ou désactivez-les."
    ),
}
NOTICE_ZONE_CREATED: Final = N_("Le secteur est créé.")
NOTICE_ZONE_RENAMED: Final = N_("Le secteur est renommé.")
NOTICE_ZONE_REMOVED: Final = N_("Le secteur est supprimé.")
NOTICE_MOVED: Final = N_("Les rues cochées ont changé de secteur.")
NOTICE_STREET_ADDED: Final = N_("La rue est ajoutée.")
NOTICE_STREET_RENAMED: Final = N_("La rue est renommée.")
NOTICE_STREET_REMOVED: Final = N_("La rue est supprimée.")


@admin_page()
async def reference(visit: AdminVisit) -> Response:
    """Zones with their streets and residents."""
    return await _render(visit)


@admin_page(role=Role.ADMIN)
async def create_zone(visit: AdminVisit) -> Response:
    """A new zone (a neighbour community)."""
    name = visit.field("name")
    try:
        zone_id = await visit.service.reference.create_zone(name)
    except ReferenceEditError as exc:
        return await _refused(visit, exc, "zone-name")
    await _audit(visit, "zone.create", f"#{zone_id} {name.strip()}")
    await visit.flash(NOTICE_ZONE_CREATED)
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN)
async def edit_zone(visit: AdminVisit) -> Response:
    """Rename a zone, or remove an empty one."""
    zone_id = _id(visit.field("zone"))
    try:
        if visit.field("action") == "remove":
            await visit.service.reference.remove_zone(zone_id)
            await _audit(visit, "zone.remove", f"#{zone_id}")
            await visit.flash(NOTICE_ZONE_REMOVED)
        else:
            name = visit.field("name")
            await visit.service.reference.rename_zone(zone_id, name)
            await _audit(visit, "zone.rename", f"#{zone_id} → {name.strip()}")
            await visit.flash(NOTICE_ZONE_RENAMED)
    except ReferenceEditError as exc:
        return await _refused(visit, exc, "edit-zone")
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN)
async def move_streets(visit: AdminVisit) -> Response:
    """Move the ticked streets to the zone chosen ('' = no zone)."""
    street_ids = [_id(v) for v in visit.fields("street")]
    target = visit.field("zone")
    zone_id = int(target) if target.isdigit() else None
    try:
        moved = await visit.service.reference.move_streets(street_ids, zone_id)
    except ReferenceEditError as exc:
        return await _refused(visit, exc, "move-zone")
    await _audit(
        visit,
        "streets.move",
        f"{moved} of {len(street_ids)} street(s) {sorted(street_ids)} → zone #{zone_id}",
    )
    await visit.flash(NOTICE_MOVED)
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN)
async def add_street(visit: AdminVisit) -> Response:
    """A new street of the town's list, in a zone or none."""
    name = visit.field("name")
    target = visit.field("zone")
    city = visit.field("city").strip() or visit.request.app.state.residents.settings.city
    try:
        street_id = await visit.service.reference.add_street(
            name, city, int(target) if target.isdigit() else None
        )
    except ReferenceEditError as exc:
        return await _refused(visit, exc, "street-name")
    await _audit(visit, "street.add", f"#{street_id} {name.strip()} ({city})")
    await visit.flash(NOTICE_STREET_ADDED)
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN)
async def edit_street(visit: AdminVisit) -> Response:
    """Rename a street, or remove one nobody lives on."""
    street_id = _id(visit.field("street"))
    try:
        if visit.field("action") == "remove":
            name = await visit.service.reference.remove_street(street_id)
            await _audit(visit, "street.remove", f"#{street_id} {name}")
            await visit.flash(NOTICE_STREET_REMOVED)
        else:
            name = visit.field("name")
            await visit.service.reference.rename_street(street_id, name)
            await _audit(visit, "street.rename", f"#{street_id} → {name.strip()}")
            await visit.flash(NOTICE_STREET_RENAMED)
    except ReferenceEditError as exc:
        return await _refused(visit, exc, "edit-street")
    return visit.redirect(PAGE)


@admin_page(role=Role.ADMIN, files=1)
async def import_streets(visit: AdminVisit) -> Response:
    """A CSV with columns name and zone: new streets are added, others move zone."""
    upload = visit.form.get("file") if visit.form is not None else None
    if not isinstance(upload, UploadFile):
        return await _render(visit, errors={"file": "csv"}, status=400)
    raw = await upload.read(_MAX_CSV_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # a spreadsheet's "CSV (Windows)"
    city = visit.request.app.state.residents.settings.city
    result = await visit.service.reference.import_streets(text, city)
    await _audit(
        visit,
        "streets.import",
        f"{result.added} added, {result.moved} moved, {len(result.rejected)} rejected",
    )
    if result.rejected and not (result.added or result.moved or result.unchanged):
        return await _render(visit, result=result, errors={"file": "csv"}, status=400)
    return await _render(visit, result=result)


@admin_page(role=Role.ADMIN)
async def audit(visit: AdminVisit) -> Response:
    """The latest sign-ins and actions."""
    entries = await visit.service.audit.recent()
    return visit.render("admin/audit.html", {"entries": entries, "clock": clock})


def _id(raw: str) -> int:
    """A posted id; 0 (no such row) when it is not a number."""
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


async def _audit(visit: AdminVisit, action: str, detail: str) -> None:
    await visit.service.audit.record(
        action, admin=visit.current, detail=detail, client=visit.client
    )


async def _refused(visit: AdminVisit, exc: ReferenceEditError, anchor: str) -> Response:
    """The page again, with the reason at the top linking to the form concerned."""
    return await _render(visit, edit_error=(anchor, EDIT_ERRORS[exc.code], exc.count), status=400)


async def _render(
    visit: AdminVisit,
    *,
    result: object = None,
    errors: dict[str, str] | None = None,
    edit_error: tuple[str, str, int] | None = None,
    status: int = 200,
) -> Response:
    zones = await visit.service.reference.zones()
    context = {
        "zones": zones,
        "streets": await visit.service.reference.streets(),
        "result": result,
        "reasons": REJECT_REASONS,
        "errors": errors or {},
        "edit_error": edit_error,
        "city": visit.request.app.state.residents.settings.city,
    }
    return visit.render("admin/reference.html", context, status)


ROUTES: Final = [
    Route("/reference", reference, methods=["GET"]),
    Route("/reference/zones", create_zone, methods=["POST"]),
    Route("/reference/zones/edit", edit_zone, methods=["POST"]),
    Route("/reference/streets", import_streets, methods=["POST"]),
    Route("/reference/streets/move", move_streets, methods=["POST"]),
    Route("/reference/streets/add", add_street, methods=["POST"]),
    Route("/reference/streets/edit", edit_street, methods=["POST"]),
    Route("/audit", audit, methods=["GET"]),
]
