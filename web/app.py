"""The resident web app: a Starlette factory that borrows a running Gateway, never starts it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from gateway.api.service import ApiService
from gateway.api.settings import ApiSettings
from gateway.campaigns.service import CampaignService
from gateway.residents.service import ResidentService
from gateway.residents.settings import ResidentSettings
from gateway.residents.spent import SpentSolutions
from gateway.service import Gateway
from web import routes_auth, routes_metrics, routes_neighbours, routes_profile, routes_sim
from web.admin.routes import admin_mount
from web.admin.routes_imports import MAX_UPLOAD_BYTES
from web.admin.routes_imports import PATH as IMPORT_PATH
from web.api.routes import api_mount
from web.captcha import Captcha
from web.messages import ERRORS, NOTICES
from web.routes_sim import PhoneDirectory
from web.security import MAX_BODY_BYTES, BodyLimit, SecurityHeaders
from web.visit import load_visit

_LOGGER = logging.getLogger(__name__)
_HERE = Path(__file__).parent


def create_app(
    gateway: Gateway,
    *,
    simulator: PhoneDirectory | None = None,
    settings: ResidentSettings | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI app; `gateway` must be started by the caller, which also stops it.

    `simulator` (demo mode) adds /sim/phones and /sim/phones/{e164}/messages."""
    resident_settings = settings or ResidentSettings.from_config(gateway.config.values)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if gateway.db is None:
            raise RuntimeError("start the Gateway before serving the web app")
        service = await ResidentService.open(
            gateway.db, gateway.outbox, gateway.bus, resident_settings
        )
        app.state.residents = service
        app.state.neighbours = gateway.router.alerts
        app.state.captcha = Captcha(
            service.keys.mac("altcha"),
            resident_settings.captcha_max_number,
            SpentSolutions(gateway.db),
        )
        app.state.campaigns = await CampaignService.open(gateway)
        app.state.api = ApiService(
            gateway.db,
            gateway.outbox,
            app.state.campaigns,
            ApiSettings.from_config(gateway.config.values),
        )
        app.state.health = gateway.health
        app.state.metrics = gateway.metrics
        try:
            yield
        finally:
            await service.imports.close()  # a running residents import stops between batches
            await app.state.campaigns.close()

    routes: list[Route | Mount] = [
        *routes_auth.ROUTES,
        *routes_profile.ROUTES,
        *routes_neighbours.ROUTES,
        admin_mount(),
        Route("/metrics", routes_metrics.metrics, methods=["GET"]),
        api_mount(),
        Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    if simulator is not None:
        routes.extend(routes_sim.ROUTES)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                BodyLimit,
                max_bytes=max_body_bytes,
                larger={IMPORT_PATH: MAX_UPLOAD_BYTES + 64 * 1024},  # + the form's other fields
            ),
        ],
        exception_handlers={404: _not_found},
        lifespan=lifespan,
    )
    app.state.templates = _templates()
    app.state.simulator = simulator
    app.state.demo = simulator is not None
    app.state.health_token = gateway.config.get_str("metrics.token")
    return app


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["ERRORS"] = ERRORS
    env.globals["NOTICES"] = NOTICES
    return Jinja2Templates(env=env)


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith(("/static/", "/sim/phones/")):
        return Response("Not found", status_code=404, media_type="text/plain")
    visit = await load_visit(request)
    return visit.render("error.html", {"reason": "not_found"}, 404)
