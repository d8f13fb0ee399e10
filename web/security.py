"""HTTP hardening as ASGI middleware: security headers and a request body cap; CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Forms are a few fields; 64 KiB leaves room for long descriptions and nothing else.
MAX_BODY_BYTES = 64 * 1024
# No inline script or style anywhere: everything comes from /static on this host.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_HSTS = "max-age=31536000"


class SecurityHeaders:
    """Adds the headers to every response, HSTS too when served over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("strict-transport-security", _HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """413 for a request body over the cap, declared (Content-Length) or streamed."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Exact paths allowed a bigger body (the admin's residents CSV upload).
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        api = str(scope.get("path", "")).startswith("/api/")
        if declared and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, api=api)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, api=api)


class _TooLarge(Exception):
    """Raised out of receive() to abandon the request."""


async def _too_large(send: Send, *, api: bool = False) -> None:
    # The HTTP API answers in its own JSON error shape (web/api/errors.py).
    body = (
        b'{"error":{"status":413,"code":"too_large","message":"the request body is too large"}}'
        if api
        else b"Request body too large"
    )
    content_type = b"application/json" if api else b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def same_origin(request: Request) -> bool:
    """A form post must come from our own pages (Sec-Fetch-Site, else Origin, else Referer)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin") or _origin_of(request.headers.get("referer", ""))
    if not origin:
        # Old browsers and non-browser clients send neither: the token check still applies.
        return True
    return origin == _origin_of(str(request.base_url))


def tokens_match(expected: str, offered: str) -> bool:
    """Constant-time comparison of the session's CSRF token with the form's."""
    return bool(expected) and hmac.compare_digest(expected.encode(), offered.encode())


def _origin_of(url: str) -> str:
    parts = url.split("/", 3)
    if len(parts) < 3 or not parts[0].endswith(":"):
        return ""
    return f"{parts[0]}//{parts[2]}"
