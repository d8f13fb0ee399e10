"""The /admin mount: every admin route behind the LAN-only guard."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from web.admin import (
    routes_auth,
    routes_campaigns,
    routes_compose,
    routes_neighbours,
    routes_reference,
    routes_tokens,
)
from web.admin.lan import LanOnly

ROUTES = [
    Route("/", routes_auth.home, methods=["GET"]),
    Route("/login", routes_auth.login, methods=["GET", "POST"]),
    Route("/logout", routes_auth.logout, methods=["POST"]),
    Route("/campaigns", routes_campaigns.history, methods=["GET"]),
    Route("/campaigns/new", routes_compose.compose, methods=["GET", "POST"]),
    Route("/campaigns/{campaign_id:int}", routes_campaigns.detail, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/events", routes_campaigns.events, methods=["GET"]),
    Route(
        "/campaigns/{campaign_id:int}/{action:str}",
        routes_campaigns.control,
        methods=["POST"],
    ),
    Route("/campaigns/{campaign_id:int}/report", routes_campaigns.report, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/report.csv", routes_campaigns.report_csv, methods=["GET"]),
    Route("/reference", routes_reference.reference, methods=["GET"]),
    Route("/reference/streets", routes_reference.import_streets, methods=["POST"]),
    Route("/audit", routes_reference.audit, methods=["GET"]),
    Route("/api-tokens", routes_tokens.tokens, methods=["GET", "POST"]),
    Route("/api-tokens/{token_id:int}/revoke", routes_tokens.revoke, methods=["POST"]),
    *routes_neighbours.ROUTES,
]


def admin_mount() -> Mount:
    """Mounted by web.app; the guard reads app.state.campaigns.settings."""
    return Mount("/admin", routes=ROUTES, middleware=[Middleware(LanOnly)])
