"""Per-request plumbing: the session cookie, CSRF, language, rendering, and login guards."""

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

from gateway.residents.models import Resident
from gateway.residents.service import ResidentService
from gateway.residents.sessions import Session
from web import i18n
from web.security import same_origin, tokens_match

_LOGGER = logging.getLogger(__name__)
SESSION_COOKIE = "tocsin_session"
LANGUAGE_COOKIE = "tocsin_lang"
_LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# A form has a dozen fields at most.
_MAX_FIELDS = 40


@dataclass
class Visit:
    """One request as the handlers see it: who, in which language, with which form."""

    request: Request
    service: ResidentService
    session: Session
    language: str
    resident: Resident | None
    form: FormData | None = None
    new_cookie: bool = False
    set_language_cookie: bool = False
    flashes: list[str] = field(default_factory=list)

    @property
    def client(self) -> str:
        """The client address, for the per-address send budget."""
        client = self.request.client
        return client.host if client is not None else "unknown"

    def gettext(self, message: str) -> str:
        """Translate to the visit's language."""
        return i18n.gettext_for(self.language)(message)

    def field(self, name: str) -> str:
        """A posted text field, '' when absent or a file."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    async def flash(self, message: str) -> None:
        """A message shown once, on the next page (kept as a msgid, translated when shown)."""
        self.session.data.setdefault("flash", []).append(message)
        await self.service.sessions.save_data(self.session)

    async def sign_in(self, resident: Resident) -> None:
        """Login: a new session token (rotation), bound to the resident."""
        self.session = await self.service.sessions.rotate(self.session, resident.id)
        self.resident = resident
        self.new_cookie = True

    async def sign_out(self) -> None:
        """Logout: the token dies server-side; a fresh anonymous session replaces it."""
        await self.service.sessions.end(self.session)
        self.session = await self.service.sessions.create(None, {"language": self.language})
        self.resident = None
        self.new_cookie = True

    def redirect(self, path: str) -> Response:
        """303 after a post, so reloading does not post again."""
        return self.finish(RedirectResponse(path, status_code=303))

    def render(
        self, name: str, context: dict[str, Any] | None = None, status: int = 200
    ) -> Response:
        """Render a template with what every page needs, then set the cookies."""
        templates: Jinja2Templates = self.request.app.state.templates
        settings = self.service.settings
        full: dict[str, Any] = {
            "_": self.gettext,
            "lang": self.language,
            "other_lang": "en" if self.language == "fr" else "fr",
            "language_names": i18n.LANGUAGE_NAMES,
            "csrf_token": self.session.csrf_token,
            "resident": self.resident,
            "town": settings.town_name,
            "contact_number": settings.contact_number,
            "flashes": self.flashes,
            "errors": {},
        }
        full.update(context or {})
        response = templates.TemplateResponse(self.request, name, full, status_code=status)
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        """Set the session cookie when it changed, and the language cookie when chosen."""
        https = self.request.url.scheme == "https"
        if self.new_cookie:
            response.set_cookie(
                SESSION_COOKIE,
                self.session.token,
                httponly=True,
                samesite="lax",
                secure=https,
                path="/",
            )
        if self.set_language_cookie:
            set_language_cookie(response, self.language, https=https)
        response.headers["cache-control"] = "no-store"
        return response


def set_language_cookie(response: Response, language: str, *, https: bool) -> None:
    """The chosen language, for every page of the site (resident and admin alike)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=_LANGUAGE_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=https,
        path="/",
    )


Handler = Callable[[Visit], Awaitable[Response]]


def page(*, login: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: load the visit, check CSRF on POST, and require a login if asked."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            visit = await load_visit(request)
            if request.method == "POST":
                visit.form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
                if not same_origin(request) or not tokens_match(
                    visit.session.csrf_token, visit.field("csrf_token")
                ):
                    _LOGGER.warning("form post refused: CSRF check failed on %s", request.url.path)
                    return visit.render("error.html", {"reason": "csrf"}, status=403)
            if login and visit.resident is None:
                return visit.redirect("/login")
            return await handler(visit)

        return endpoint

    return decorate


async def load_visit(request: Request) -> Visit:
    """The session from the cookie (a new anonymous one if none), and the page language."""
    service: ResidentService = request.app.state.residents
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await service.sessions.get(token) if token else None
    resident = None
    new_cookie = False
    if session is not None and session.resident_id is not None:
        resident = await service.residents.get(session.resident_id)
        if resident is None or not resident.active:  # deleted, or deactivated by staff
            resident = None
            await service.sessions.end(session)
            session = None
    if session is None:
        session = await service.sessions.create()
        new_cookie = True
    asked = request.query_params.get("lang")
    language = i18n.pick_language(
        asked,
        request.cookies.get(LANGUAGE_COOKIE),
        resident.profile.language if resident is not None else None,
        service.settings.default_language,
    )
    flashes: list[str] = session.data.pop("flash", []) if request.method == "GET" else []
    if flashes:
        await service.sessions.save_data(session)
    return Visit(
        request=request,
        service=service,
        session=session,
        language=language,
        resident=resident,
        new_cookie=new_cookie,
        set_language_cookie=asked in i18n.LANGUAGES,
        flashes=flashes,
    )
