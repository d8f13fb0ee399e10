"""Alert templates (list, use, delete) and cancelling an alert scheduled for later."""

from __future__ import annotations

import contextlib

from starlette.responses import Response

from gateway.campaigns.models import Role
from gateway.campaigns.service import AlreadyStarted
from web.admin.present import town_clock
from web.admin.visit import AdminVisit, admin_page


@admin_page(role=Role.OPERATOR)
async def templates(visit: AdminVisit) -> Response:
    """Every template; operators use them, admins also delete them."""
    found = await visit.service.templates.all()
    zone = visit.service.settings.timezone
    return visit.render(
        "admin/templates.html",
        {"templates": found, "when": {t.id: town_clock(t.updated_at, zone) for t in found}},
    )


@admin_page(role=Role.ADMIN)
async def delete_template(visit: AdminVisit) -> Response:
    """Admins only (audited)."""
    template_id = _int(visit.request.path_params.get("template_id", ""))
    template = await visit.service.templates.get(template_id)
    if template is None or not await visit.service.templates.delete(template_id):
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    await visit.service.audit.record(
        "template.delete", admin=visit.current, detail=template.name, client=visit.client
    )
    await visit.flash("template_deleted")
    return visit.redirect("/admin/templates")


@admin_page(role=Role.OPERATOR)
async def cancel_scheduled(visit: AdminVisit) -> Response:
    """A waiting alert never starts (audited); too late once it started."""
    scheduled_id = _int(visit.request.path_params.get("scheduled_id", ""))
    if await visit.service.scheduler.get(scheduled_id) is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    try:
        await visit.service.scheduler.cancel(scheduled_id, visit.current, client=visit.client)
        await visit.flash("scheduled_cancelled")
    except AlreadyStarted:
        await visit.flash("scheduled_gone")
    return visit.redirect("/admin/campaigns")


def _int(raw: object) -> int:
    with contextlib.suppress(ValueError):
        return int(str(raw))
    return 0
