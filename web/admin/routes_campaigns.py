"""Alert history, the live progress page and its event stream, control, report and CSV."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
from collections.abc import AsyncGenerator, Callable
from datetime import datetime

from starlette.responses import Response, StreamingResponse

from gateway.campaigns.models import Campaign, CampaignState, Role
from gateway.campaigns.service import CampaignService, StateError
from web.admin.present import bars, clock, duration, modem_rows, progress_json, town_clock
from web.admin.visit import AdminVisit, admin_page

_LOGGER = logging.getLogger(__name__)
REPORT_PAGE = 100
# Progress events: at most one a THROTTLE_S (a busy pool finishes dozens of messages a
# second), a comment every HEARTBEAT_S keeps proxies from closing an idle stream, and a
# stream ends after STREAM_LIFETIME_S (EventSource reconnects at once) so a server shutdown
# never waits long for an open page.
THROTTLE_S = 0.5
HEARTBEAT_S = 10.0
STREAM_LIFETIME_S = 15.0
_CSV_COLUMNS = (
    "residents",
    "number",
    "channel",
    "language",
    "state",
    "attempts",
    "modem",
    "queued_at",
    "sent_at",
    "finished_at",
    "error",
)


@admin_page()
async def history(visit: AdminVisit) -> Response:
    """Every alert, newest first, with its progress; alerts scheduled for later above them."""
    zone = visit.service.settings.timezone
    scheduled = await visit.service.scheduler.recent()
    context = {
        "rows": await visit.service.history(),
        "scheduled": scheduled,
        "send_times": {item.id: town_clock(item.send_at, zone) for item in scheduled},
        "timezone": str(zone),
    }
    return visit.render("admin/campaigns.html", context)


@admin_page()
async def detail(visit: AdminVisit) -> Response:
    """The progress page: counts, ETA, chart, per-modem sends, controls."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    progress = await visit.service.progress(campaign)
    campaign = await visit.service.get(campaign.id) or campaign  # it may have just finished
    held = (
        visit.service.hold_until(campaign.draft, visit.service.now())
        if campaign.state is CampaignState.SENDING and progress.queued
        else None
    )
    context = {
        "campaign": campaign,
        "progress": progress,
        "eta_text": duration(progress.eta_s, visit.gettext),
        "eta_start_text": duration(campaign.eta_s, visit.gettext),
        "calls_possible": visit.service.calls_possible(),
        "clock": clock,
        "held_until": town_clock(held, visit.service.settings.timezone),
        **await _chart_context(visit, campaign),
    }
    return visit.render("admin/campaign.html", context)


@admin_page()
async def chart(visit: AdminVisit) -> Response:
    """The charts and their tables alone, for admin-progress.js to swap in as sends happen."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    return visit.render("admin/_charts.html", await _chart_context(visit, campaign))


async def _chart_context(visit: AdminVisit, campaign: Campaign) -> dict[str, object]:
    timeline = await visit.service.timeline(campaign)
    return {
        "campaign": campaign,
        "bars": bars(timeline),
        "modem_rows": modem_rows(timeline),
        "timeline": timeline,
        "chart_span": duration(timeline.width_ms * len(timeline.counts) / 1000, visit.gettext),
    }


@admin_page()
async def events(visit: AdminVisit) -> Response:
    """Server-sent events: the progress as JSON whenever one of its messages moves."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    stream = progress_events(visit.service, campaign, visit.gettext, lifetime=STREAM_LIFETIME_S)
    response = StreamingResponse(stream, media_type="text/event-stream")
    response.headers["x-accel-buffering"] = "no"
    return visit.finish(response)


@admin_page(role=Role.OPERATOR)
async def control(visit: AdminVisit) -> Response:
    """Pause, resume or cancel (each in the audit log)."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    action = visit.request.path_params["action"]
    if action not in ("pause", "resume", "cancel"):
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    service = visit.service
    try:
        if action == "pause":
            await service.pause(campaign.id, visit.current, client=visit.client)
            await visit.flash("paused")
        elif action == "resume":
            await service.resume(campaign.id, visit.current, client=visit.client)
            await visit.flash("resumed")
        else:
            await service.cancel(campaign.id, visit.current, client=visit.client)
            await visit.flash("cancelled")
    except StateError:
        await visit.flash("state")
    return visit.redirect(f"/admin/campaigns/{campaign.id}")


@admin_page()
async def report(visit: AdminVisit) -> Response:
    """Per-recipient table with filters, a page at a time."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    query = visit.request.query_params
    filters = {
        "state": query.get("state", ""),
        "channel": query.get("channel", ""),
        "q": query.get("q", "")[:80],
    }
    page = max(1, _int(query.get("page", "1")))
    total, rows = await visit.service.report(
        campaign.id,
        state=filters["state"],
        channel=filters["channel"],
        search=filters["q"],
        limit=REPORT_PAGE,
        offset=(page - 1) * REPORT_PAGE,
    )
    pages = max(1, -(-total // REPORT_PAGE))
    context = {
        "campaign": campaign,
        "rows": rows,
        "total": total,
        "filters": filters,
        "page": page,
        "pages": pages,
        "clock": clock,
    }
    return visit.render("admin/report.html", context)


@admin_page()
async def report_csv(visit: AdminVisit) -> Response:
    """The whole report as CSV (the export is in the audit log: it names residents)."""
    campaign = await _campaign(visit)
    if campaign is None:
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    _total, rows = await visit.service.report(campaign.id)
    await visit.service.audit.record(
        "campaign.export", admin=visit.current, detail=f"#{campaign.id}", client=visit.client
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.residents,
                row.number,
                row.channel,
                row.language,
                row.state,
                row.attempts,
                row.modem or "",
                _iso(row.created_at),
                _iso(row.sent_at),
                _iso(row.finished_at),
                row.error or "",
            )
        )
    response = Response(
        "\ufeff" + buffer.getvalue(),  # a BOM, so spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="alert-{campaign.id}.csv"'},
    )
    return visit.finish(response)


async def progress_events(
    service: CampaignService, campaign: Campaign, gettext: Callable[[str], str], *, lifetime: float
) -> AsyncGenerator[str, None]:
    """The stream's frames: one now, then one per burst of this campaign's message events."""
    subscription = service.bus.subscribe({"message"})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    try:
        yield "retry: 2000\n\n"
        campaign, frame, done = await _frame(service, campaign, gettext)
        yield frame
        while not done and loop.time() < deadline:
            try:
                event = await subscription.next(timeout=min(HEARTBEAT_S, deadline - loop.time()))
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event.data.get("campaign_id") != campaign.id:
                continue
            await asyncio.sleep(THROTTLE_S)  # let the burst gather
            while not subscription.queue.empty():
                subscription.queue.get_nowait()
            campaign, frame, done = await _frame(service, campaign, gettext)
            yield frame
    finally:
        subscription.close()


async def _frame(
    service: CampaignService, campaign: Campaign, gettext: Callable[[str], str]
) -> tuple[Campaign, str, bool]:
    progress = await service.progress(campaign)
    campaign = await service.get(campaign.id) or campaign
    data = progress_json(campaign, progress, gettext)
    done = progress.finished == progress.total
    return campaign, f"data: {data}\n\n", done


async def _campaign(visit: AdminVisit) -> Campaign | None:
    campaign_id = _int(visit.request.path_params.get("campaign_id", ""))
    return await visit.service.get(campaign_id) if campaign_id > 0 else None


def _int(raw: str) -> int:
    with contextlib.suppress(ValueError):
        return int(raw)
    return 0


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()
