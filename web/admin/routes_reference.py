"""Reference data (zones, streets, the streets CSV import) and the audit log."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response

from gateway.campaigns.models import Role
from web.admin.messages import REJECT_REASONS
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page

# Street lists are small; the app's body limit (64 KiB) caps the upload anyway.
_MAX_CSV_BYTES = 60 * 1024


@admin_page()
async def reference(visit: AdminVisit) -> Response:
    """Zones with their streets and residents."""
    return await _render(visit)


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
    await visit.service.audit.record(
        "streets.import",
        admin=visit.current,
        detail=f"{result.added} added, {result.moved} moved, {len(result.rejected)} rejected",
        client=visit.client,
    )
    if result.rejected and not (result.added or result.moved or result.unchanged):
        return await _render(visit, result=result, errors={"file": "csv"}, status=400)
    return await _render(visit, result=result)


@admin_page(role=Role.ADMIN)
async def audit(visit: AdminVisit) -> Response:
    """The latest sign-ins and actions."""
    entries = await visit.service.audit.recent()
    return visit.render("admin/audit.html", {"entries": entries, "clock": clock})


async def _render(
    visit: AdminVisit,
    *,
    result: object = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "zones": await visit.service.reference.zones(),
        "streets": await visit.service.reference.streets(),
        "result": result,
        "reasons": REJECT_REASONS,
        "errors": errors or {},
    }
    return visit.render("admin/reference.html", context, status)
