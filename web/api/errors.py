"""The API's one error shape: {"error": {"status", "code", "message", "fields"?}}."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

# The codes a client can branch on; the message is for the person reading the log.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "the request is malformed; see fields"),
    401: ("unauthorized", "send a valid API token: Authorization: Bearer <token>"),
    403: ("forbidden", "this token's role may not do that"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "this method is not allowed here"),
    409: ("conflict", "the idempotency key was used for another request"),
    413: ("too_large", "the request body is too large"),
    422: ("unprocessable", "the request is well-formed but refused; see fields"),
    429: ("rate_limited", "too many requests for this token; see Retry-After"),
}


class ApiError(Exception):
    """Raised by handlers and turned into the error shape by the endpoint wrapper."""

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        message: str | None = None,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        default_code, default_message = MESSAGES.get(status, ("error", "error"))
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> JSONResponse:
    """The JSON answer for an ApiError (never cached)."""
    body: dict[str, object] = {
        "status": error.status,
        "code": error.code,
        "message": error.message,
    }
    if error.fields:
        body["fields"] = error.fields
    headers = {"cache-control": "no-store", **error.headers}
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)
