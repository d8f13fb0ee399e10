"""The /admin mount: every admin route behind the LAN-only guard."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from web.admin import (
    routes_account,
    routes_auth,
    routes_campaigns,
    routes_compose,
    routes_health,
    routes_imports,
    routes_later,
    routes_neighbours,
    routes_reference,
    routes_residents,
    routes_tokens,
)
from web.admin.lan import LanOnly

ROUTES = [
    Route("/", routes_auth.home, methods=["GET"]),
    Route("/login", routes_auth.login, methods=["GET", "POST"]),
    Route("/login/code", routes_account.login_code, methods=["GET", "POST"]),
    Route("/logout", routes_auth.logout, methods=["POST"]),
    Route("/account", routes_account.account, methods=["GET"]),
    Route("/account/totp", routes_account.account_totp, methods=["POST"]),
    Route("/templates", routes_later.templates, methods=["GET"]),
    Route("/templates/{template_id:int}/delete", routes_later.delete_template, methods=["POST"]),
    Route("/scheduled/{scheduled_id:int}", routes_compose.edit_scheduled, methods=["GET"]),
    Route("/scheduled/{scheduled_id:int}/cancel", routes_later.cancel_scheduled, methods=["POST"]),
    Route("/campaigns", routes_campaigns.history, methods=["GET"]),
    Route("/campaigns/new", routes_compose.compose, methods=["GET", "POST"]),
    Route("/campaigns/{campaign_id:int}", routes_campaigns.detail, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/events", routes_campaigns.events, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/chart", routes_campaigns.chart, methods=["GET"]),
    Route(
        "/campaigns/{campaign_id:int}/{action:str}",
        routes_campaigns.control,
        methods=["POST"],
    ),
    Route("/campaigns/{campaign_id:int}/report", routes_campaigns.report, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/report.csv", routes_campaigns.report_csv, methods=["GET"]),
    *routes_reference.ROUTES,
    *routes_residents.ROUTES,
    *routes_imports.ROUTES,
    Route("/health", routes_health.health, methods=["GET"]),
    Route("/health/balance", routes_health.check_balance, methods=["POST"]),
    Route("/api-tokens", routes_tokens.tokens, methods=["GET", "POST"]),
    Route("/api-tokens/{token_id:int}/revoke", routes_tokens.revoke, methods=["POST"]),
    *routes_neighbours.ROUTES,
]


def admin_mount() -> Mount:
    """Mounted by web.app; the guard reads app.state.campaigns.settings."""
    return Mount("/admin", routes=ROUTES, middleware=[Middleware(LanOnly)])
