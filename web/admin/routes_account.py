"""The second sign-in step (a TOTP code) and "my account", where staff turn the factor on or off.

A password that matches an account with the factor on does not sign in: the (still anonymous)
session remembers which account passed the first step, for PENDING_S, and the code page finishes
the sign-in. Every wrong, replayed or locked-out code, every enrolment and every removal goes to
the audit log.
"""

from __future__ import annotations

from starlette.responses import Response

from gateway.campaigns.models import Admin
from gateway.campaigns.totp import CodeResult, provisioning_uri, qr_svg
from web.admin.visit import AdminVisit, admin_page
from web.i18n import N_

# The code must follow the password within this long (an authenticator shows one at once).
PENDING_S = 300
_PENDING = "totp_pending"
_QR_TITLE = N_("Code QR à lire avec l'application d'authentification")
_ERRORS = {
    CodeResult.WRONG: "totp_wrong",
    CodeResult.REPLAYED: "totp_wrong",  # the same words: a replay is a wrong code to its user
    CodeResult.LOCKED: "totp_locked",
    CodeResult.NOT_ENROLLED: "totp_wrong",
}


async def start_second_step(visit: AdminVisit, admin: Admin) -> Response | None:
    """After a good password: the code page when the account has the factor, else None."""
    status = await visit.service.totp.status(admin.id)
    if not status.enabled:
        return None
    visit.session.data[_PENDING] = {"admin": admin.id, "at": visit.service.now().timestamp()}
    await visit.service.sessions.save_data(visit.session)
    return visit.redirect("/admin/login/code")


@admin_page(role=None)
async def login_code(visit: AdminVisit) -> Response:
    """GET: ask for the 6-digit code. POST: check it and finish the sign-in."""
    pending = await _pending(visit)
    if pending is None:
        return visit.redirect("/admin/login")
    if visit.request.method == "GET":
        return visit.render("admin/login_code.html")
    result = await visit.service.totp.check(pending.id, visit.field("code"))
    if result is not CodeResult.OK:
        await visit.service.audit.record(
            "totp.failed", admin=pending, detail=f"sign-in: {result.value}", client=visit.client
        )
        return visit.render("admin/login_code.html", {"errors": {"code": _ERRORS[result]}}, 400)
    visit.session.data.pop(_PENDING, None)
    await visit.sign_in(pending)
    await visit.service.audit.record(
        "signin", admin=pending, detail="with second factor", client=visit.client
    )
    return visit.redirect("/admin/campaigns")


@admin_page()
async def account(visit: AdminVisit) -> Response:
    """The signed-in account: role, and the second factor's state and controls."""
    return await _render_account(visit)


@admin_page()
async def account_totp(visit: AdminVisit) -> Response:
    """POST begin (a new secret), confirm (first code turns it on) or disable (needs a code)."""
    admin = visit.current
    totp = visit.service.totp
    action = visit.field("action")
    status = await totp.status(admin.id)
    if action == "begin" and not status.enabled:
        await totp.begin(admin.id)
        await visit.service.audit.record("totp.enrol", admin=admin, client=visit.client)
        return visit.redirect("/admin/account#totp")
    if action in ("confirm", "disable") and (status.enabled == (action == "disable")):
        result = await totp.check(admin.id, visit.field("code"), enrolling=action == "confirm")
        if result is not CodeResult.OK:
            await visit.service.audit.record(
                "totp.failed", admin=admin, detail=f"{action}: {result.value}", client=visit.client
            )
            return await _render_account(visit, errors={"code": _ERRORS[result]}, status=400)
        if action == "disable":
            await totp.disable(admin.id)
        await visit.service.audit.record(f"totp.{action}", admin=admin, client=visit.client)
        await visit.flash("totp_on" if action == "confirm" else "totp_off")
        return visit.redirect("/admin/account")
    if action == "cancel" and not status.enabled:
        await totp.disable(admin.id)
        await visit.service.audit.record("totp.enrol_cancel", admin=admin, client=visit.client)
        return visit.redirect("/admin/account")
    await visit.flash("state")
    return visit.redirect("/admin/account")


async def _render_account(
    visit: AdminVisit, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    admin = visit.current
    totp = visit.service.totp
    secret = await totp.pending_secret(admin.id)
    context: dict[str, object] = {
        "totp": await totp.status(admin.id),
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        if secret
        else "",
        "errors": errors or {},
    }
    if secret is not None:
        town = visit.request.app.state.residents.settings.town_name
        uri = provisioning_uri(secret, admin.username, town)
        context["qr"] = qr_svg(uri, visit.gettext(_QR_TITLE))
        context["uri"] = uri
    return visit.render("admin/account.html", context, status)


async def _pending(visit: AdminVisit) -> Admin | None:
    """The account whose password was right moments ago in this browser, if any."""
    pending = visit.session.data.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    at, admin_id = pending.get("at"), pending.get("admin")
    fresh = isinstance(at, int | float) and visit.service.now().timestamp() - at < PENDING_S
    admin = await visit.service.accounts.get(admin_id) if isinstance(admin_id, int) else None
    if not fresh or admin is None or not admin.active:
        visit.session.data.pop(_PENDING, None)
        await visit.service.sessions.save_data(visit.session)
        return None
    return admin
