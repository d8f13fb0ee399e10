"""Compose an alert, preview who gets what and at which cost, then send it (now or later).

The same form edits a scheduled alert (a hidden `scheduled_id`), starts from a template
(`?template=ID`) and, for admins, saves itself as one.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import Response

from gateway.campaigns.models import Channels, Draft, Role, ScheduledAlert, Severity
from gateway.campaigns.service import AlreadyStarted, DraftError
from gateway.campaigns.targeting import Parity, Target, TargetError, TargetKind
from gateway.campaigns.templates import TemplateError
from gateway.campaigns.texts import plain_gsm
from web.admin.present import duration, town_clock
from web.admin.visit import AdminVisit, admin_page

SEND_AT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> posts


@admin_page(role=Role.OPERATOR)
async def compose(visit: AdminVisit) -> Response:
    """GET: an empty form. POST: preview, plain-GSM variant, or send."""
    values = _values(visit)
    if visit.request.method == "GET":
        template_id = _int(visit.request.query_params.get("template", ""))
        template = await visit.service.templates.get(template_id) if template_id else None
        if template is not None:
            values.update(_draft_values(template.draft))
        return await _render(visit, values)
    action = visit.field("action")
    if action in ("plain_fr", "plain_en"):
        key = "body_" + action[-2:]
        values[key] = plain_gsm(values[key])
    errors: dict[str, str] = {}
    draft = _draft(values, errors)
    if action == "save_template":
        return await _save_template(visit, values, draft, errors)
    target = _target(values, errors)
    send_at = _send_at(values["send_at"], visit.service.settings.timezone, errors)
    if errors or draft is None or target is None:
        return await _render(visit, values, errors=errors, status=400)
    try:
        preview = await visit.service.preview(draft, target, send_at=send_at)
    except DraftError as exc:
        return await _render(visit, values, errors={exc.field: exc.code}, status=400)
    if action != "send":
        return await _render(visit, values, preview=preview)
    if not preview.recipients:
        return await _render(visit, values, preview=preview, errors={"form": "nobody"}, status=400)
    if visit.field("confirm") != "yes":
        return await _render(
            visit, values, preview=preview, errors={"confirm": "confirm"}, status=400
        )
    scheduled_id = _int(values["scheduled_id"]) or None
    service, admin = visit.service, visit.current
    try:
        if send_at is not None and scheduled_id is not None:
            await service.scheduler.update(
                scheduled_id, draft, target, send_at, admin, client=visit.client
            )
        elif send_at is not None:
            await service.scheduler.schedule(draft, target, send_at, admin, client=visit.client)
        else:
            campaign_id = await service.start(
                draft, target, admin.id, admin=admin, client=visit.client, scheduled_id=scheduled_id
            )
            await visit.flash("sent")
            return visit.redirect(f"/admin/campaigns/{campaign_id}")
    except DraftError as exc:
        return await _render(
            visit, values, preview=preview, errors={exc.field: exc.code}, status=400
        )
    except AlreadyStarted:
        await visit.flash("scheduled_gone")
        return visit.redirect("/admin/campaigns")
    await visit.flash("scheduled")
    return visit.redirect("/admin/campaigns")


@admin_page(role=Role.OPERATOR)
async def edit_scheduled(visit: AdminVisit) -> Response:
    """The compose form filled with a waiting scheduled alert."""
    scheduled = await _scheduled(visit)
    if scheduled is None or scheduled.state.value != "waiting":
        return visit.render("admin/error.html", {"reason": "not_found"}, 404)
    values = _values(visit)
    values.update(_draft_values(scheduled.draft))
    values.update(_target_values(Target.from_json(scheduled.target)))
    zone = visit.service.settings.timezone
    values["send_at"] = scheduled.send_at.astimezone(zone).strftime(SEND_AT_FORMAT)
    values["scheduled_id"] = str(scheduled.id)
    return await _render(visit, values)


async def _save_template(
    visit: AdminVisit, values: dict[str, Any], draft: Draft | None, errors: dict[str, str]
) -> Response:
    """Admins only: store title, texts, channels and severity under a name (same name: replace)."""
    if not visit.current.role.allows(Role.ADMIN):
        return visit.render("admin/error.html", {"reason": "forbidden"}, 403)
    if errors or draft is None:
        return await _render(visit, values, errors=errors, status=400)
    try:
        draft = visit.service.check_draft(draft)
        _id, new = await visit.service.templates.save(
            values["template_name"], draft, visit.current.id
        )
    except DraftError as exc:
        return await _render(visit, values, errors={exc.field: exc.code}, status=400)
    except TemplateError:
        return await _render(visit, values, errors={"template_name": "template_name"}, status=400)
    await visit.service.audit.record(
        "template.save" if new else "template.edit",
        admin=visit.current,
        detail=values["template_name"].strip(),
        client=visit.client,
    )
    await visit.flash("template_saved")
    return await _render(visit, values)


async def _render(
    visit: AdminVisit,
    values: dict[str, Any],
    *,
    preview: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    service = visit.service
    reference = service.reference
    zone = service.settings.timezone
    quiet = service.settings.quiet_hours
    context = {
        "values": values,
        "zones": await reference.zones(),
        "streets": await reference.streets(),
        "templates": await service.templates.all(),
        "preview": preview,
        "eta_text": duration(preview.eta_s, visit.gettext) if preview is not None else "",
        "starts_text": town_clock(preview.starts_at, zone) if preview is not None else "",
        "ends_text": town_clock(preview.ends_at, zone) if preview is not None else "",
        "timezone": str(zone),
        "quiet_label": quiet.label if quiet is not None else "",
        "errors": errors or {},
    }
    return visit.render("admin/compose.html", context, status)


def _values(visit: AdminVisit) -> dict[str, Any]:
    """The form as typed (kept on every re-render)."""
    return {
        "title": visit.field("title"),
        "body_fr": visit.field("body_fr"),
        "body_en": visit.field("body_en"),
        "channels": visit.field("channels") or "sms",
        "severity": visit.field("severity") or "information",
        "target": visit.field("target") or "everyone",
        "zones": _ints(visit.fields("zone")),
        "streets": _ints(visit.fields("street")),
        "range_street": visit.field("range_street"),
        "civic_from": visit.field("civic_from"),
        "civic_to": visit.field("civic_to"),
        "parity": visit.field("parity") or "all",
        "send_at": visit.field("send_at").strip(),
        "scheduled_id": visit.field("scheduled_id"),
        "template_name": visit.field("template_name"),
    }


def _draft_values(draft: Draft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "body_fr": draft.body_fr,
        "body_en": draft.body_en,
        "channels": draft.channels.value,
        "severity": draft.severity.value,
    }


def _target_values(target: Target) -> dict[str, Any]:
    return {
        "target": target.kind.value,
        "zones": list(target.zone_ids),
        "streets": list(target.street_ids),
        "range_street": "" if target.street_id is None else str(target.street_id),
        "civic_from": "" if target.civic_from is None else str(target.civic_from),
        "civic_to": "" if target.civic_to is None else str(target.civic_to),
        "parity": target.parity.value,
    }


def _send_at(raw: str, zone: ZoneInfo, errors: dict[str, str]) -> datetime | None:
    """The form's local date and time in the town's zone; None when empty."""
    if not raw:
        return None
    try:
        return datetime.strptime(raw, SEND_AT_FORMAT).replace(tzinfo=zone)
    except ValueError:
        errors["send_at"] = "send_at_format"
        return None


def _draft(values: dict[str, Any], errors: dict[str, str]) -> Draft | None:
    try:
        channels = Channels(values["channels"])
    except ValueError:
        errors["channels"] = "channels"
        return None
    try:
        severity = Severity(values["severity"])
    except ValueError:
        errors["severity"] = "severity"
        return None
    draft = Draft(values["title"], values["body_fr"], values["body_en"], channels, severity)
    if not draft.title.strip():
        errors["title"] = "title"
    if not draft.body_fr.strip():
        errors["body_fr"] = "body"
    return draft


def _target(values: dict[str, Any], errors: dict[str, str]) -> Target | None:
    try:
        kind = TargetKind(values["target"])
    except ValueError:
        errors["target"] = "target"
        return None
    street = _int(values["range_street"])
    try:
        parity = Parity(values["parity"])
    except ValueError:
        errors["parity"] = "range"
        return None
    try:
        return Target(
            kind=kind,
            zone_ids=tuple(values["zones"]) if kind is TargetKind.ZONES else (),
            street_ids=tuple(values["streets"]) if kind is TargetKind.STREETS else (),
            street_id=street if kind is TargetKind.RANGE else None,
            civic_from=_int(values["civic_from"]) if kind is TargetKind.RANGE else None,
            civic_to=_int(values["civic_to"]) if kind is TargetKind.RANGE else None,
            parity=parity if kind is TargetKind.RANGE else Parity.ALL,
        )
    except TargetError as exc:
        errors[exc.code if exc.code != "range" else "range_street"] = exc.code
        return None


async def _scheduled(visit: AdminVisit) -> ScheduledAlert | None:
    scheduled_id = _int(str(visit.request.path_params.get("scheduled_id", "")))
    return await visit.service.scheduler.get(scheduled_id) if scheduled_id else None


def _int(raw: str) -> int | None:
    with contextlib.suppress(ValueError):
        return int(raw.strip())
    return None


def _ints(raw: list[str]) -> list[int]:
    return [n for n in (_int(v) for v in raw) if n is not None]
