"""Compose an alert, preview who gets what and at which cost, then send it."""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.responses import Response

from gateway.campaigns.models import Channels, Draft, Role, Severity
from gateway.campaigns.service import DraftError
from gateway.campaigns.targeting import Target, TargetError, TargetKind
from gateway.campaigns.texts import plain_gsm
from web.admin.present import duration
from web.admin.visit import AdminVisit, admin_page


@admin_page(role=Role.OPERATOR)
async def compose(visit: AdminVisit) -> Response:
    """GET: an empty form. POST: preview, plain-GSM variant, or send."""
    values = _values(visit)
    if visit.request.method == "GET":
        return await _render(visit, values)
    action = visit.field("action")
    if action in ("plain_fr", "plain_en"):
        key = "body_" + action[-2:]
        values[key] = plain_gsm(values[key])
    errors: dict[str, str] = {}
    draft = _draft(values, errors)
    target = _target(values, errors)
    if errors or draft is None or target is None:
        return await _render(visit, values, errors=errors, status=400)
    try:
        preview = await visit.service.preview(draft, target)
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
    campaign_id = await visit.service.send(draft, target, visit.current, client=visit.client)
    await visit.flash("sent")
    return visit.redirect(f"/admin/campaigns/{campaign_id}")


async def _render(
    visit: AdminVisit,
    values: dict[str, Any],
    *,
    preview: Any = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    reference = visit.service.reference
    context = {
        "values": values,
        "zones": await reference.zones(),
        "streets": await reference.streets(),
        "preview": preview,
        "eta_text": duration(preview.eta_s, visit.gettext) if preview is not None else "",
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
    }


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
        return Target(
            kind=kind,
            zone_ids=tuple(values["zones"]) if kind is TargetKind.ZONES else (),
            street_ids=tuple(values["streets"]) if kind is TargetKind.STREETS else (),
            street_id=street if kind is TargetKind.RANGE else None,
            civic_from=_int(values["civic_from"]) if kind is TargetKind.RANGE else None,
            civic_to=_int(values["civic_to"]) if kind is TargetKind.RANGE else None,
        )
    except TargetError as exc:
        errors[exc.code if exc.code != "range" else "range_street"] = exc.code
        return None


def _int(raw: str) -> int | None:
    with contextlib.suppress(ValueError):
        return int(raw.strip())
    return None


def _ints(raw: list[str]) -> list[int]:
    return [n for n in (_int(v) for v in raw) if n is not None]
