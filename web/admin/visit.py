"""Per-request plumbing of the admin pages: staff session, CSRF, language, roles, rendering."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from gateway.alarms import Alarm
from gateway.campaigns.admins import AdminSession
from gateway.campaigns.models import Admin, Role
from gateway.campaigns.service import CampaignService
from web import i18n
from web.admin.messages import ADMIN_ERRORS, ADMIN_NOTICES, ALARM_KINDS
from web.security import same_origin, tokens_match
from web.visit import LANGUAGE_COOKIE, set_language_cookie

_LOGGER = logging.getLogger(__name__)
ADMIN_COOKIE = "tocsin_admin"
_MAX_FIELDS = 200  # the compose form lists zones and streets as checkboxes


@dataclass
class AdminVisit:
    """One admin request: who, which language, which form."""

    request: Request
    service: CampaignService
    session: AdminSession
    language: str
    admin: Admin | None
    form: FormData | None = None
    new_cookie: bool = False
    set_language_cookie: bool = False
    flashes: list[str] = field(default_factory=list)

    @property
    def client(self) -> str:
        """The client address, for the audit log."""
        client = self.request.client
        return client.host if client is not None else ""

    @property
    def current(self) -> Admin:
        """The signed-in account (pages behind `admin_page(role=…)` always have one)."""
        assert self.admin is not None
        return self.admin

    def gettext(self, message: str) -> str:
        """Translate to the visit's language."""
        return i18n.gettext_for(self.language)(message)

    def field(self, name: str) -> str:
        """A posted text field, '' when absent."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes)."""
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    async def flash(self, message: str) -> None:
        """A notice shown once on the next page (a msgid)."""
        self.session.data.setdefault("flash", []).append(message)
        await self.service.sessions.save_data(self.session)

    async def sign_in(self, admin: Admin) -> None:
        """A new token bound to the account (session fixation)."""
        self.session = await self.service.sessions.rotate(self.session, admin.id)
        self.admin = admin
        self.new_cookie = True

    async def sign_out(self) -> None:
        """The token dies server-side."""
        self.session = await self.service.sessions.rotate(self.session, None)
        self.admin = None
        self.new_cookie = True

    def redirect(self, path: str) -> Response:
        """303 after a post."""
        return self.finish(RedirectResponse(path, status_code=303))

    def render(
        self, name: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> Response:
        """A template from templates/admin with what every admin page needs."""
        templates: Jinja2Templates = self.request.app.state.templates
        full: dict[str, Any] = {
            "_": self.gettext,
            "lang": self.language,
            "other_lang": "en" if self.language == "fr" else "fr",
            "language_names": i18n.LANGUAGE_NAMES,
            "csrf_token": self.session.csrf_token,
            "admin": self.admin,
            "town": self.request.app.state.residents.settings.town_name,
            "flashes": self.flashes,
            "errors": {},
            "ADMIN_ERRORS": ADMIN_ERRORS,
            "ADMIN_NOTICES": ADMIN_NOTICES,
            "ALARM_KINDS": ALARM_KINDS,
            "alarms": self._alarms(),
        }
        full.update(context or {})
        response = templates.TemplateResponse(self.request, name, full, status_code=status)
        return self.finish(response)

    def _alarms(self) -> list[Alarm]:
        """The banner's alarms, for signed-in staff only."""
        health = getattr(self.request.app.state, "health", None)
        if self.admin is None or health is None:
            return []
        alarms: list[Alarm] = health.alarms.active()
        return alarms

    def finish(self, response: Response) -> Response:
        """Cookies when they changed; never cached."""
        https = self.request.url.scheme == "https"
        if self.new_cookie:
            response.set_cookie(
                ADMIN_COOKIE,
                self.session.token,
                httponly=True,
                samesite="strict",
                secure=https,
                path="/admin",
            )
        if self.set_language_cookie:
            set_language_cookie(response, self.language, https=https)
        response.headers["cache-control"] = "no-store"
        return response


Handler = Callable[[AdminVisit], Awaitable[Response]]


def admin_page(
    role: Role | None = Role.VIEWER, *, files: int = 0
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Load the visit, check CSRF on POST, require a signed-in account of at least `role`."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            visit = await load_visit(request)
            if request.method == "POST":
                visit.form = await request.form(max_files=files, max_fields=_MAX_FIELDS)
            try:
                if visit.form is not None and (
                    not same_origin(request)
                    or not tokens_match(visit.session.csrf_token, visit.field("csrf_token"))
                ):
                    _LOGGER.warning("admin post refused: CSRF check failed on %s", request.url.path)
                    return visit.render("admin/error.html", {"reason": "csrf"}, 403)
                if role is not None:
                    if visit.admin is None:
                        return visit.redirect("/admin/login")
                    if not visit.admin.role.allows(role):
                        return visit.render("admin/error.html", {"reason": "forbidden"}, 403)
                return await handler(visit)
            finally:
                if visit.form is not None:
                    await visit.form.close()  # uploaded files' temporary storage

        return endpoint

    return decorate


async def load_visit(request: Request) -> AdminVisit:
    """The staff session from its cookie (a new anonymous one if none) and the language."""
    service: CampaignService = request.app.state.campaigns
    token = request.cookies.get(ADMIN_COOKIE, "")
    session = await service.sessions.get(token) if token else None
    admin = None
    new_cookie = False
    if session is not None and session.admin_id is not None:
        admin = await service.accounts.get(session.admin_id)
        if admin is None or not admin.active:
            admin = None
            session = None
    if session is None:
        session = await service.sessions.create()
        new_cookie = True
    asked = request.query_params.get("lang")
    language = i18n.pick_language(
        asked, request.cookies.get(LANGUAGE_COOKIE), service.settings.default_language
    )
    flashes: list[str] = session.data.pop("flash", []) if request.method == "GET" else []
    if flashes:
        await service.sessions.save_data(session)
    return AdminVisit(
        request=request,
        service=service,
        session=session,
        language=language,
        admin=admin,
        new_cookie=new_cookie,
        set_language_cookie=asked in i18n.LANGUAGES,
        flashes=flashes,
    )
