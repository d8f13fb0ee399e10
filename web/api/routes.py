"""The /api/v1 routes: one SMS, alerts (send, pause, resume, cancel), their status, reference
ids, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from gateway.api.service import fingerprint
from gateway.api.views import alert_view, message_view
from gateway.campaigns.errors import StateError
from gateway.campaigns.models import Role
from web.api import parse
from web.api.endpoint import ApiCall, api_endpoint
from web.api.errors import ApiError
from web.api.guard import ApiGuard
from web.api.openapi import document

PREFIX = "/api/v1"
REPLAYED_HEADER = "idempotent-replayed"


@api_endpoint(Role.OPERATOR)
async def send_message(call: ApiCall) -> Response:
    """Queue one SMS; 202 with its state (a repeated Idempotency-Key: the first message)."""
    request = parse.sms_request(call.json())
    sent = await call.service.send_sms(
        call.token,
        to=request.to,
        text=request.text,
        language=request.language,
        idempotency_key=call.idempotency_key(),
        client=call.client,
    )
    headers = {"location": f"{PREFIX}/messages/{sent.message.id}"}
    if sent.replayed:
        headers[REPLAYED_HEADER] = "true"
    return JSONResponse(message_view(sent.message), status_code=202, headers=headers)


@api_endpoint(Role.VIEWER)
async def get_message(call: ApiCall) -> Response:
    """A message sent through the API, with its state now."""
    message = await call.service.message(call.request.path_params["message_id"])
    if message is None:
        raise ApiError(404, message="no message of the API with this id")
    return JSONResponse(message_view(message))


@api_endpoint(Role.OPERATOR)
async def create_alert(call: ApiCall) -> Response:
    """Send an alert as the admin console does; 201 with its progress."""
    draft, target = parse.alert_request(call.json())
    status = await call.service.create_alert(
        call.token,
        draft,
        target,
        idempotency_key=call.idempotency_key(),
        request_fingerprint=fingerprint(call.body),
        client=call.client,
    )
    headers = {"location": f"{PREFIX}/alerts/{status.campaign.id}"}
    if status.replayed:
        headers[REPLAYED_HEADER] = "true"
    return JSONResponse(alert_view(status), status_code=201, headers=headers)


@api_endpoint(Role.VIEWER)
async def get_alert(call: ApiCall) -> Response:
    """An alert (sent from the console or the API) and its progress."""
    status = await call.service.alert(call.request.path_params["alert_id"])
    if status is None:
        raise ApiError(404, message="no alert with this id")
    return JSONResponse(alert_view(status))


def _control(action: str, done: str) -> Callable[[Request], Awaitable[Response]]:
    """POST /alerts/{id}/<action>: the console's button, for operator tokens."""

    async def handler(call: ApiCall) -> Response:
        alert_id = call.request.path_params["alert_id"]
        try:
            status = await call.service.control_alert(
                call.token, alert_id, action, client=call.client
            )
        except StateError:
            current = await call.service.alert(alert_id)
            state = current.campaign.state.value if current is not None else "gone"
            raise ApiError(
                409, code="wrong_state", message=f"this alert is {state}: it cannot be {done}"
            ) from None
        if status is None:
            raise ApiError(404, message="no alert with this id")
        return JSONResponse(alert_view(status))

    handler.__name__ = handler.__qualname__ = f"{action}_alert"
    handler.__doc__ = f"{action.capitalize()} an alert (409 when its state does not allow it)."
    return api_endpoint(Role.OPERATOR)(handler)


@api_endpoint(Role.VIEWER)
async def zones(call: ApiCall) -> Response:
    """The town's zones, for alert targets."""
    found = await call.service.campaigns.reference.zones()
    return JSONResponse(
        {"zones": [{"id": z.id, "name": z.name, "streets": z.streets} for z in found]}
    )


@api_endpoint(Role.VIEWER)
async def streets(call: ApiCall) -> Response:
    """The town's streets and their zone, for alert targets."""
    found = await call.service.campaigns.reference.streets()
    return JSONResponse(
        {
            "streets": [
                {"id": s.id, "name": s.name, "city": s.city, "zone_id": s.zone_id} for s in found
            ]
        }
    )


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 document (no token needed: it holds no data)."""
    return JSONResponse(document(str(request.base_url).rstrip("/")))


ROUTES = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/messages", send_message, methods=["POST"]),
    Route("/messages/{message_id:int}", get_message, methods=["GET"]),
    Route("/alerts", create_alert, methods=["POST"]),
    Route("/alerts/{alert_id:int}", get_alert, methods=["GET"]),
    Route("/alerts/{alert_id:int}/pause", _control("pause", "paused"), methods=["POST"]),
    Route("/alerts/{alert_id:int}/resume", _control("resume", "resumed"), methods=["POST"]),
    Route("/alerts/{alert_id:int}/cancel", _control("cancel", "cancelled"), methods=["POST"]),
    Route("/zones", zones, methods=["GET"]),
    Route("/streets", streets, methods=["GET"]),
]


def api_mount() -> Mount:
    """Mounted by web.app; the guard reads app.state.api.settings."""
    return Mount(PREFIX, routes=ROUTES, middleware=[Middleware(ApiGuard)])
