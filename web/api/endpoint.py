"""Per-request plumbing of the API: bearer token, role, rate limit, JSON body, errors."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.api.service import IDEMPOTENCY_KEY_MAX, ApiService, ConflictError, RequestError
from gateway.api.tokens import ApiToken
from gateway.campaigns.models import Role
from web.api.errors import ApiError, error_response

_LOGGER = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass
class ApiCall:
    """One authenticated API request."""

    request: Request
    service: ApiService
    token: ApiToken
    body: bytes = b""

    @property
    def client(self) -> str:
        """The client address, for the audit log."""
        client = self.request.client
        return client.host if client is not None else ""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, or a 400 naming `body`."""
        try:
            parsed = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise ApiError(400, message="the body is not JSON", fields={"body": "json"}) from None
        if not isinstance(parsed, dict):
            raise ApiError(400, message="the body must be a JSON object", fields={"body": "object"})
        return parsed

    def idempotency_key(self) -> str | None:
        """The Idempotency-Key header: printable ASCII, 200 characters at most, or absent."""
        raw = self.request.headers.get(IDEMPOTENCY_HEADER)
        if raw is None:
            return None
        if not 0 < len(raw) <= IDEMPOTENCY_KEY_MAX or not all(" " < ch < "\x7f" for ch in raw):
            raise ApiError(
                400,
                message="Idempotency-Key: 1 to 200 printable ASCII characters, no spaces",
                fields={IDEMPOTENCY_HEADER: "invalid"},
            )
        return raw


Handler = Callable[[ApiCall], Awaitable[Response]]


def api_endpoint(role: Role) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Authenticate, check the role and the token's budget, read the body, map errors."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            service: ApiService = request.app.state.api
            try:
                token = await _authenticate(request, service)
                if not token.role.allows(role):
                    raise ApiError(403)
                wait = service.limiter.take(token.id)
                if wait > 0:
                    retry = str(service.limiter.retry_after(wait))
                    raise ApiError(429, headers={"retry-after": retry})
                body = await request.body() if request.method == "POST" else b""
                response = await handler(ApiCall(request, service, token, body))
            except ApiError as exc:
                return _refused(request, exc)
            except RequestError as exc:
                return _refused(
                    request, ApiError(422, message=exc.message, fields={exc.field: exc.code})
                )
            except ConflictError as exc:
                return _refused(request, ApiError(409, message=str(exc)))
            response.headers["cache-control"] = "no-store"
            return response

        return endpoint

    return decorate


def _refused(request: Request, error: ApiError) -> Response:
    """Log the refusal (what and why, never the body) and answer it."""
    client = request.client.host if request.client is not None else ""
    _LOGGER.info(
        "API %s %s from %s refused: %d %s %s",
        request.method,
        request.url.path,
        client,
        error.status,
        error.code,
        error.fields or "",
    )
    return error_response(error)


async def _authenticate(request: Request, service: ApiService) -> ApiToken:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, headers={"www-authenticate": 'Bearer realm="tocsin"'})
    token = await service.tokens.authenticate(secret.strip())
    if token is None:
        client = request.client.host if request.client is not None else ""
        _LOGGER.warning("API request with an unknown or revoked token from %s", client)
        raise ApiError(
            401,
            message="unknown or revoked token",
            headers={"www-authenticate": 'Bearer realm="tocsin", error="invalid_token"'},
        )
    return token
