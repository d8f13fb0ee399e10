"""GET /metrics for Prometheus: LAN-only like /admin, and a bearer token when one is set.

A scraper on the town's LAN (or a VPN into it) needs nothing else; `metrics.token` adds a
shared secret for boxes whose LAN is not trusted. Anyone else gets the same bare 404 as an
unknown path, so nothing tells an outsider that the gateway is there.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from gateway.campaigns.service import CampaignService
from gateway.metrics import CONTENT_TYPE, Metrics
from web.lan import refusal
from web.security import tokens_match

_LOGGER = logging.getLogger(__name__)


async def metrics(request: Request) -> Response:
    """The exposition text, read now."""
    campaigns: CampaignService = request.app.state.campaigns
    host = request.client.host if request.client is not None else None
    refused = refusal(campaigns.settings.allows, host, "/metrics")
    if refused is not None:
        return refused
    token = str(request.app.state.health_token)
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not tokens_match(token, given):
            _LOGGER.warning("/metrics refused to %s: missing or wrong token", host)
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"www-authenticate": "Bearer"}
            )
    registry: Metrics = request.app.state.metrics
    body = await registry.render()
    return Response(body, media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})
