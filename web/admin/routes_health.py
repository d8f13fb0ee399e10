"""The health page: can the box send? Modems, SIM balances, queues, disk and alarms."""

from __future__ import annotations

import logging

from starlette.responses import Response

from gateway.campaigns.models import Role
from gateway.health import HealthMonitor
from web.admin.messages import ALARM_KINDS, MESSAGE_CLASSES, MODEM_STATES, REGISTRATIONS
from web.admin.present import clock
from web.admin.visit import AdminVisit, admin_page

_LOGGER = logging.getLogger(__name__)
MB = 1024 * 1024


@admin_page()
async def health(visit: AdminVisit) -> Response:
    """Every modem's state, identity, signal, balance and sends; queues; disk; alarms."""
    monitor: HealthMonitor = visit.request.app.state.health
    report = await monitor.report()
    return visit.render(
        "admin/health.html",
        {
            "report": report,
            "clock": clock,
            "states": MODEM_STATES,
            "registrations": REGISTRATIONS,
            "classes": MESSAGE_CLASSES,
            "kinds": ALARM_KINDS,
            "mb": MB,
        },
    )


@admin_page(role=Role.VIEWER)
async def check_balance(visit: AdminVisit) -> Response:
    """Ask one SIM (or all) its balance now by USSD; the page shows the answer."""
    monitor: HealthMonitor = visit.request.app.state.health
    name = visit.field("modem") or None
    try:
        await monitor.check_balance(name)
    except KeyError:
        _LOGGER.warning("balance check asked for an unknown modem %r", name)
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    _LOGGER.info("balance check asked by %s for %s", visit.current.username, name or "every SIM")
    await visit.flash("balance_checked")
    return visit.redirect("/admin/health")
