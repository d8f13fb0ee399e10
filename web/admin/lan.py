"""The admin pages exist only on the town's LAN: any other client gets a bare 404."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import State

from gateway.campaigns.service import CampaignService
from web.lan import NetworkGuard


class LanOnly(NetworkGuard):
    """ASGI middleware for the /admin mount, using `admin.allowed_networks`."""

    what = "admin page"

    def allows(self, state: State) -> Callable[[str | None], bool]:
        service: CampaignService = state.campaigns
        return service.settings.allows
