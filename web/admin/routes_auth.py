"""Staff sign-in and sign-out, each written to the audit log."""

from __future__ import annotations

from starlette.responses import Response

from web.admin.routes_account import start_second_step
from web.admin.visit import AdminVisit, admin_page


@admin_page(role=None)
async def home(visit: AdminVisit) -> Response:
    """/admin: the alerts when signed in, the sign-in page otherwise."""
    return visit.redirect("/admin/campaigns" if visit.admin is not None else "/admin/login")


@admin_page(role=None)
async def login(visit: AdminVisit) -> Response:
    """Username and password."""
    if visit.admin is not None and visit.request.method == "GET":
        return visit.redirect("/admin/campaigns")
    username = visit.field("username")
    if visit.request.method == "GET":
        return visit.render("admin/login.html", {"username": username})
    admin = await visit.service.accounts.authenticate(username, visit.field("password"))
    if admin is None:
        await visit.service.audit.record("signin.failed", username=username, client=visit.client)
        return visit.render(
            "admin/login.html", {"username": username, "errors": {"form": "login"}}, 400
        )
    second_step = await start_second_step(visit, admin)
    if second_step is not None:
        return second_step
    await visit.sign_in(admin)
    await visit.service.audit.record("signin", admin=admin, client=visit.client)
    return visit.redirect("/admin/campaigns")


@admin_page()
async def logout(visit: AdminVisit) -> Response:
    """The session ends server-side."""
    await visit.service.audit.record("signout", admin=visit.current, client=visit.client)
    await visit.sign_out()
    await visit.flash("signed_out")
    return visit.redirect("/admin/login")
