"""API tokens in the admin console: admins create them (shown once) and revoke them."""

from __future__ import annotations

from starlette.responses import Response

from gateway.api.service import ApiService
from gateway.api.tokens import TokenError
from gateway.campaigns.models import Role
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page

_ERRORS = {"name": "token_name", "role": "token_role", "taken": "token_taken"}


@admin_page(role=Role.ADMIN)
async def tokens(visit: AdminVisit) -> Response:
    """GET: the tokens and the form. POST: a new token, shown on this answer only."""
    if visit.request.method == "GET":
        return await _render(visit)
    name, role_value = visit.field("name"), visit.field("role")
    try:
        role = Role(role_value)
        made = await _api(visit).tokens.create(name, role, created_by=visit.current.username)
    except ValueError as exc:
        code = exc.code if isinstance(exc, TokenError) else "role"
        field = "name" if code in ("name", "taken") else "role"
        return await _render(
            visit,
            values={"name": name, "role": role_value},
            errors={field: _ERRORS[code]},
            status=400,
        )
    await visit.service.audit.record(
        "api.token.create",
        admin=visit.current,
        detail=f"#{made.token.id} {made.token.name!r} ({made.token.role.value})",
        client=visit.client,
    )
    return await _render(visit, secret=made.secret, created=made.token.name)


@admin_page(role=Role.ADMIN)
async def revoke(visit: AdminVisit) -> Response:
    """The token stops working at once."""
    revoked = await _api(visit).tokens.revoke(visit.request.path_params["token_id"])
    if revoked is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    await visit.service.audit.record(
        "api.token.revoke",
        admin=visit.current,
        detail=f"#{revoked.id} {revoked.name!r} ({revoked.role.value})",
        client=visit.client,
    )
    await visit.flash("token_revoked")
    return visit.redirect("/admin/api-tokens")


def _api(visit: AdminVisit) -> ApiService:
    service: ApiService = visit.request.app.state.api
    return service


async def _render(
    visit: AdminVisit,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    secret: str = "",
    created: str = "",
    status: int = 200,
) -> Response:
    context = {
        "tokens": await _api(visit).tokens.all(),
        "values": values or {"name": "", "role": "viewer"},
        "errors": errors or {},
        "secret": secret,
        "created": created,
        "clock": clock,
    }
    return visit.render("admin/api_tokens.html", context, status)
