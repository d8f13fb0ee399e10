"""`tocsin demo`'s admin console: a staff account with a fresh password, and a small town."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from gateway.campaigns.admins import AdminAccounts, AdminError
from gateway.campaigns.models import Role
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.storage.database import Database

DEMO_USERNAME = "demo"
# The three sample zones the demo residents live in.
DEMO_ZONES = ("Nord", "Est", "Ouest")


async def prepare_admin_demo(db: Database, resident_phones: Sequence[str]) -> str:
    """Residents on the given simulated phones; returns the demo admin's new password."""
    zones = await streets_by_zone(db)
    names = [zone for zone in DEMO_ZONES if zone in zones] or sorted(zones)
    await seed_residents(db, town(resident_phones, zones, zone_names=names))
    password = secrets.token_urlsafe(12)  # new at every start: printed, never stored in clear
    accounts = AdminAccounts(db)
    try:
        await accounts.create(DEMO_USERNAME, password, Role.ADMIN)
    except AdminError:  # an earlier run made it: give it this run's password
        await accounts.set_password(DEMO_USERNAME, password)
    return password
