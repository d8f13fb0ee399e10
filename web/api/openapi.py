"""The OpenAPI 3.1 document of /api/v1, written by hand and kept true by a schemathesis test.

One dict in one module: the routes are few, and a hand-written document says what a
municipal integrator needs (roles, idempotency, errors) better than one inferred from code.
"""

from __future__ import annotations

from typing import Any

from gateway.api.service import IDEMPOTENCY_KEY_MAX, MAX_SMS_CHARS
from web.api.parse import MAX_IDS

VERSION = "1.0.0"
_ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
_TIME = {"type": "string", "format": "date-time"}
_NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
_MESSAGE_STATES = ["queued", "sending", "sent", "delivered", "failed", "expired", "cancelled"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_COMMON_ERRORS = {
    "401": _error("No token, or an unknown or revoked one."),
    "429": {
        **_error("This token's request budget is spent; retry after Retry-After seconds."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
_POST_ERRORS = {
    "400": _error("Malformed JSON, or fields missing, unknown or of the wrong type."),
    "403": _error("The token is a viewer: it may read, not send."),
    "409": _error("The Idempotency-Key was used with another body."),
    "413": _error("The body is over 64 KiB."),
    "422": _error("Well-formed, but refused: see `fields`."),
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string per intended send (e.g. a UUID). A retried POST with the same key "
        "returns the first result (header Idempotent-Replayed: true) and sends nothing; the "
        "same key with another body is a 409. Keys are per token and never expire."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX,
        "pattern": "^[!-~]+$",
    },
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Field name (dotted for nested ones) → what is wrong.",
                    },
                },
            }
        },
    },
    "SmsRequest": {
        "type": "object",
        "required": ["to", "text"],
        "additionalProperties": False,
        "properties": {
            "to": {
                "type": "string",
                "description": "E.164 number in the town's region, e.g. +15145550101.",
                "examples": ["+15145550101"],
            },
            "text": {
                "type": "string",
                "maxLength": MAX_SMS_CHARS,
                "description": "The SMS text: 10 SMS parts at most (GSM-7 or UCS-2).",
            },
            "language": {"type": "string", "enum": ["fr", "en"], "default": "fr"},
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "to", "channel", "state", "attempts", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "to": {"type": "string"},
            "channel": {"type": "string", "enum": ["sms", "voice"]},
            "state": {
                "type": "string",
                "enum": [*_MESSAGE_STATES, "unknown"],
                "description": (
                    "queued → sending → sent → delivered | failed; expired when not sent in "
                    "time; unknown when a restart interrupted a keyed send (never resent)."
                ),
            },
            "attempts": {"type": "integer", "minimum": 0},
            "created_at": _TIME,
            "sent_at": _NULL_TIME,
            "finished_at": _NULL_TIME,
            "valid_until": _NULL_TIME,
            "error": {"type": ["string", "null"]},
        },
    },
    "Target": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "description": (
            "everyone; zones (zone_ids); streets (street_ids); or range (street_id, "
            "civic_from, civic_to: civic numbers on one street)."
        ),
        "properties": {
            "kind": {"type": "string", "enum": ["everyone", "zones", "streets", "range"]},
            "zone_ids": {"type": "array", "items": _ID, "maxItems": MAX_IDS},
            "street_ids": {"type": "array", "items": _ID, "maxItems": MAX_IDS},
            "street_id": _ID,
            "civic_from": {"type": "integer", "minimum": 0, "maximum": 2**53},
            "civic_to": {"type": "integer", "minimum": 0, "maximum": 2**53},
        },
    },
    "AlertRequest": {
        "type": "object",
        "required": ["title", "body_fr", "target"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "maxLength": 120},
            "body_fr": {"type": "string", "maxLength": 1000},
            "body_en": {
                "type": "string",
                "maxLength": 1000,
                "description": "Empty or absent: English speakers get the French text.",
            },
            "channels": {"type": "string", "enum": ["sms", "voice", "both"], "default": "sms"},
            "severity": {
                "type": "string",
                "enum": ["information", "emergency"],
                "default": "information",
            },
            "target": _ref("Target"),
        },
    },
    "Progress": {
        "type": "object",
        "required": [
            "total",
            "queued",
            "sent",
            "delivered",
            "failed",
            "cancelled",
            "confirmed",
            "percent",
            "eta_s",
        ],
        "properties": {
            "total": {"type": "integer"},
            "queued": {"type": "integer"},
            "sent": {"type": "integer"},
            "delivered": {"type": "integer"},
            "failed": {"type": "integer"},
            "cancelled": {"type": "integer"},
            "confirmed": {"type": "integer"},
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "eta_s": {"type": ["number", "null"]},
        },
    },
    "Alert": {
        "type": "object",
        "required": ["id", "title", "state", "target", "progress", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "body_fr": {"type": "string"},
            "body_en": {"type": "string"},
            "channels": {"type": "string", "enum": ["sms", "voice", "both"]},
            "severity": {"type": "string", "enum": ["information", "emergency"]},
            "target": {"type": "object"},
            "target_label": {"type": "string"},
            "state": {"type": "string", "enum": ["sending", "paused", "cancelled", "done"]},
            "created_by": {"type": "string"},
            "created_at": _TIME,
            "finished_at": _NULL_TIME,
            "residents": {"type": "integer"},
            "consent_override": {"type": "boolean"},
            "progress": _ref("Progress"),
        },
    },
    "Zones": {
        "type": "object",
        "required": ["zones"],
        "properties": {
            "zones": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "streets"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "streets": {"type": "integer"},
                    },
                },
            }
        },
    },
    "Streets": {
        "type": "object",
        "required": ["streets"],
        "properties": {
            "streets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "city", "zone_id"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "city": {"type": "string"},
                        "zone_id": {"type": ["integer", "null"]},
                    },
                },
            }
        },
    },
}


def _get(summary: str, schema: str, *, path_param: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": "Any token (viewer or operator).",
        "responses": {"200": _json("Found.", schema), **_COMMON_ERRORS},
    }
    if path_param is not None:
        operation["parameters"] = [
            {"name": path_param, "in": "path", "required": True, "schema": _ID}
        ]
        operation["responses"]["404"] = _error("No such resource.")
    return {"get": operation}


_CONTROLS = {
    "pause": (
        "Pause an alert",
        "What is still queued is held back (what a modem holds now finishes); `sending` only.",
    ),
    "resume": (
        "Resume a paused alert",
        "Queues again every recipient the pause held back; `paused` only.",
    ),
    "cancel": (
        "Cancel an alert",
        "Nothing further is sent (what a modem holds now finishes); `sending` or `paused`.",
    ),
}


def _control(action: str) -> dict[str, Any]:
    """POST /alerts/{alert_id}/<action>: the admin console's buttons."""
    summary, description = _CONTROLS[action]
    return {
        "post": {
            "summary": summary,
            "description": (
                f"{description} The same rules and audit log as the admin console (under the "
                "token's name). Operator tokens only. No request body."
            ),
            "parameters": [{"name": "alert_id", "in": "path", "required": True, "schema": _ID}],
            "responses": {
                "200": _json("Done: the alert with its state and progress now.", "Alert"),
                "403": _error("The token is a viewer: it may read, not act."),
                "404": _error("No alert with this id."),
                "409": _error("The alert's state does not allow it (code `wrong_state`)."),
                **_COMMON_ERRORS,
            },
        }
    }


def document(server: str = "") -> dict[str, Any]:
    """The document, with `server` (the address it was fetched from) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tocsin HTTP API",
            "version": VERSION,
            "description": (
                "Send one SMS or a municipal alert, and follow them, from another town system. "
                "Authenticate with `Authorization: Bearer <token>` (tokens are made on "
                "/admin/api-tokens or with `tocsin api token create`). Served only to the "
                "networks in api.allowed_networks. Errors share one JSON shape."
            ),
        },
        "servers": [{"url": f"{server}/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": {
            "/messages": {
                "post": {
                    "summary": "Send one SMS",
                    "description": (
                        "Queued in the outbox as class `api` (after codes, relays, replies and "
                        "alerts), valid for api.sms_valid_s. Operator tokens only."
                    ),
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("SmsRequest")}},
                    },
                    "responses": {
                        "202": {
                            **_json("Queued (or the first message for this key).", "Message"),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        **_POST_ERRORS,
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/messages/{message_id}": _get(
                "A message sent through the API", "Message", path_param="message_id"
            ),
            "/alerts": {
                "post": {
                    "summary": "Send a municipal alert",
                    "description": (
                        "The admin console's compose form: the same checks, consent, "
                        "deduplication and fan-out. Operator tokens only."
                    ),
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("AlertRequest")}},
                    },
                    "responses": {
                        "201": {
                            **_json("Sending (or the first alert for this key).", "Alert"),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        **_POST_ERRORS,
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/alerts/{alert_id}": _get("An alert and its progress", "Alert", path_param="alert_id"),
            "/alerts/{alert_id}/pause": _control("pause"),
            "/alerts/{alert_id}/resume": _control("resume"),
            "/alerts/{alert_id}/cancel": _control("cancel"),
            "/zones": _get("The town's zones (ids for alert targets)", "Zones"),
            "/streets": _get("The town's streets and their zone", "Streets"),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }
