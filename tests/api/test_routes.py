"""The /api/v1 routes in-process, on a real SQLite file: auth, roles, validation, idempotency,
rate limit, body limit, one SMS, alerts, status reads, JSON errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from gateway.api.tokens import token_hash
from gateway.campaigns.models import Role
from gateway.outbox import Channel, MessageClass, NewMessage
from tests.admin.helpers import PHONES, make_admin
from tests.api.helpers import ApiClient, running_api

SMS = {"to": "+15145550199", "text": "Collecte des encombrants demain matin."}


@pytest.fixture
async def api(tmp_path: Path):
    async with running_api(tmp_path) as client:
        yield client


async def stored_messages(api: ApiClient) -> int:
    return sum((await api.gateway.outbox.counts_by_state()).values())


def error(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()["error"]
    assert body["status"] == response.status_code
    return body


async def test_outside_the_allowed_networks_the_api_is_404(tmp_path: Path) -> None:
    async with running_api(tmp_path, client=("203.0.113.7", 4000), residents=False) as api:
        for path in ("/messages/1", "/openapi.json", "/nope"):
            response = await api.get(path)
            assert response.status_code == 404
            assert response.text == "Not found"
        assert (await api.post("/messages", SMS)).status_code == 404
        assert await stored_messages(api) == 0


async def test_api_networks_are_configurable_apart_from_the_admin_pages(tmp_path: Path) -> None:
    overrides = {"api.allowed_networks": ["203.0.113.0/24"]}
    async with running_api(
        tmp_path, client=("203.0.113.7", 1), overrides=overrides, residents=False
    ) as api:
        assert (await api.get("/zones")).status_code == 200
        assert (await api.client.get("/admin/login")).status_code == 404


async def test_a_token_is_required_and_checked(api: ApiClient) -> None:
    response = await api.client.get("/api/v1/zones")
    assert response.status_code == 401
    assert error(response)["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    for value in ("Basic abc", "Bearer", "Bearer tocsin_nope", "Bearer " + "x" * 5000):
        response = await api.client.get("/api/v1/zones", headers={"authorization": value})
        assert response.status_code == 401, value
    response = await api.get("/zones", token="tocsin_" + "A" * 43)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_tokens_are_stored_hashed_and_revoked_at_once(api: ApiClient) -> None:
    assert (await api.get("/zones")).status_code == 200
    raw = Path(api.gateway.config.get_str("storage.path")).read_bytes()
    wal = Path(api.gateway.config.get_str("storage.path") + "-wal")
    stored = raw + (wal.read_bytes() if wal.exists() else b"")
    assert api.operator.encode() not in stored
    assert token_hash(api.operator).encode() in stored
    token = await api.service.tokens.authenticate(api.operator)
    assert token is not None
    assert token.last_used_at is not None
    await api.service.tokens.revoke(token.id)
    assert (await api.get("/zones")).status_code == 401


async def test_a_viewer_reads_but_cannot_send(api: ApiClient) -> None:
    assert (await api.get("/zones", token=api.viewer)).status_code == 200
    assert (await api.get("/streets", token=api.viewer)).status_code == 200
    response = await api.post("/messages", SMS, token=api.viewer)
    assert response.status_code == 403
    assert error(response)["code"] == "forbidden"
    response = await api.post("/alerts", {}, token=api.viewer)
    assert response.status_code == 403
    assert await stored_messages(api) == 0


async def test_send_one_sms(api: ApiClient) -> None:
    response = await api.post("/messages", {**SMS, "language": "en"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["to"] == SMS["to"]
    assert body["state"] == "queued"
    assert response.headers["location"] == f"/api/v1/messages/{body['id']}"
    assert "idempotent-replayed" not in response.headers
    message = await api.gateway.outbox.get(body["id"])
    assert message is not None
    assert message.message_class is MessageClass.API
    assert message.body == SMS["text"]
    assert message.language == "en"
    assert message.valid_until is not None
    assert (message.valid_until - message.created_at).total_seconds() == pytest.approx(3600, 1)
    read = await api.get(f"/messages/{body['id']}", token=api.viewer)
    assert read.status_code == 200
    assert read.json() == body
    audit = (await api.web.service.audit.recent())[0]
    assert (audit.username, audit.action) == ("api:Travaux publics", "api.sms")
    assert audit.detail == f"message #{body['id']}"
    assert audit.client == "192.168.1.20"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"to": "required", "text": "required"}),
        ({"to": 5145550199, "text": ["x"]}, {"to": "string", "text": "string"}),
        ({**SMS, "lang": "fr"}, {"lang": "unknown"}),
        ({**SMS, "language": "de"}, {"language": "one_of:fr|en"}),
    ],
)
async def test_malformed_sms_requests_are_400_with_field_names(
    api: ApiClient, body: dict[str, Any], fields: dict[str, str]
) -> None:
    response = await api.post("/messages", body)
    assert response.status_code == 400
    assert error(response)["fields"] == fields
    assert await stored_messages(api) == 0


async def test_a_body_that_is_not_a_json_object_is_400(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.api.endpoint")
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe", b""):
        response = await api.client.post("/api/v1/messages", content=raw, headers=api.auth())
        assert response.status_code == 400, raw
        assert set(error(response)["fields"]) == {"body"}
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 4
    assert "POST /api/v1/messages from 192.168.1.20 refused: 400" in refusals[0]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"to": "514 555-0199"}, "to", "number"),  # not E.164
        ({"to": "+19005551234"}, "to", "number"),  # premium
        ({"to": "+33612345678"}, "to", "number"),  # outside the town's region
        ({"to": "+1 514 555 0199"}, "to", "number"),  # E.164 has no spaces
        ({"text": "   "}, "text", "empty"),
        ({"text": "ê" * 700}, "text", "too_long"),  # UCS-2: 11 parts
        ({"text": "x" * 1601}, "text", "too_long"),
    ],
)
async def test_refused_sms_requests_are_422(
    api: ApiClient, changes: dict[str, str], field: str, code: str
) -> None:
    response = await api.post("/messages", {**SMS, **changes})
    assert response.status_code == 422
    assert error(response)["fields"] == {field: code}
    assert await stored_messages(api) == 0


async def test_an_idempotency_key_sends_once(api: ApiClient) -> None:
    first = await api.post("/messages", SMS, key="order-4411")
    again = await api.post("/messages", SMS, key="order-4411")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await stored_messages(api) == 1
    # The same key with another text is a conflict; another key is another message.
    conflict = await api.post("/messages", {**SMS, "text": "Autre"}, key="order-4411")
    assert conflict.status_code == 409
    assert error(conflict)["code"] == "conflict"
    other = await api.post("/messages", SMS, key="order-4412")
    assert other.json()["id"] != first.json()["id"]
    # Keys belong to their token: another system's "order-4411" is its own.
    second_token = await api.service.tokens.create("Autre", Role.OPERATOR, created_by="t")
    theirs = await api.post("/messages", SMS, key="order-4411", token=second_token.secret)
    assert theirs.json()["id"] not in (first.json()["id"], other.json()["id"])
    # A keyed message is never resent after a crash mid-send (outbox policy unless_keyed).
    message = await api.gateway.outbox.get(first.json()["id"])
    assert message is not None
    assert message.idempotency_key is not None


async def test_a_bad_idempotency_key_is_400(api: ApiClient) -> None:
    for key in (b"a b", b"x" * 201, "clé".encode()):
        headers = {b"authorization": f"Bearer {api.operator}".encode(), b"idempotency-key": key}
        response = await api.client.post("/api/v1/messages", json=SMS, headers=headers)
        assert response.status_code == 400, key
        assert error(response)["fields"] == {"Idempotency-Key": "invalid"}


async def test_rate_limit_per_token(tmp_path: Path) -> None:
    async with running_api(
        tmp_path, overrides={"api.requests_per_minute": 3}, residents=False
    ) as api:
        for _ in range(3):
            assert (await api.get("/zones")).status_code == 200
        response = await api.get("/zones")
        assert response.status_code == 429
        assert error(response)["code"] == "rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= 20
        # Another token has its own budget.
        assert (await api.get("/zones", token=api.viewer)).status_code == 200


async def test_a_body_over_the_limit_is_413_json(api: ApiClient) -> None:
    response = await api.post("/messages", {**SMS, "text": "x" * 70_000})
    assert response.status_code == 413
    assert error(response)["code"] == "too_large"


async def test_unknown_paths_and_methods_answer_json(api: ApiClient) -> None:
    response = await api.get("/nothing-here")
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    response = await api.client.delete("/api/v1/messages", headers=api.auth())
    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"
    for path in ("/messages/999", "/alerts/999", f"/messages/{2**70}", f"/alerts/{2**64}"):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert error(response)["code"] == "not_found"


async def test_messages_of_other_classes_are_not_the_apis(api: ApiClient) -> None:
    otp = await api.gateway.outbox.enqueue(
        NewMessage(MessageClass.OTP, Channel.SMS, PHONES[0], "Code: 123456", "fr")
    )
    response = await api.get(f"/messages/{otp}")
    assert response.status_code == 404
    assert "123456" not in response.text


def alert_body(zone: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Avis d'ébullition",
        "body_fr": "Faites bouillir l'eau 1 minute avant de la boire.",
        "body_en": "Boil tap water for 1 minute before drinking it.",
        "channels": "sms",
        "severity": "information",
        "target": {"kind": "zones", "zone_ids": [zone]},
    }
    body.update(changes)
    return body


async def test_create_an_alert_for_one_zone(api: ApiClient) -> None:
    nord = await api.zone_id("Nord")
    preview_total = 0
    response = await api.post("/alerts", alert_body(nord))
    assert response.status_code == 201, response.text
    alert = response.json()
    assert response.headers["location"] == f"/api/v1/alerts/{alert['id']}"
    assert alert["state"] == "sending"
    assert alert["target"] == {"kind": "zones", "zone_ids": [nord]}
    assert alert["target_label"]
    assert alert["created_by"] == "api:Travaux publics"
    preview_total = alert["progress"]["total"]
    assert preview_total >= 1
    assert alert["progress"]["queued"] == preview_total  # no modem here
    counts = await api.gateway.outbox.counts_by_state(alert["id"])
    assert sum(counts.values()) == preview_total
    read = await api.get(f"/alerts/{alert['id']}", token=api.viewer)
    assert read.status_code == 200
    assert read.json()["progress"] == alert["progress"]
    # The console's history names the token as the author; the audit log too.
    campaign = await api.web.service.get(alert["id"])
    assert campaign is not None
    assert campaign.created_by == "api:Travaux publics"
    audit = (await api.web.service.audit.recent())[0]
    assert (audit.username, audit.action) == ("api:Travaux publics", "campaign.send")


async def test_an_alert_from_the_console_can_be_read(api: ApiClient) -> None:
    from gateway.campaigns.models import Channels, Draft, Severity
    from gateway.campaigns.targeting import Target, TargetKind

    admin = await make_admin(api.web, "marie", Role.OPERATOR)
    draft = Draft("Titre", "Texte", "", Channels.SMS, Severity.INFORMATION)
    campaign_id = await api.web.service.send(draft, Target(TargetKind.EVERYONE), admin)
    response = await api.get(f"/alerts/{campaign_id}", token=api.viewer)
    assert response.status_code == 200
    assert response.json()["created_by"] == "marie"
    assert response.json()["target"] == {"kind": "everyone"}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"title": None, "body_fr": None}, {"title": "required", "body_fr": "required"}),
        ({"target": None}, {"target": "required"}),
        ({"target": "everyone"}, {"target": "object"}),
        ({"target": {"kind": "zones"}}, {"target.zone_ids": "required"}),
        ({"target": {"kind": "streets", "street_ids": []}}, {"target.street_ids": "required"}),
        ({"target": {"kind": "city"}}, {"target.kind": "one_of:everyone|zones|streets|range"}),
        ({"target": {"zone_ids": [1]}}, {"target.kind": "required"}),
        ({"target": {"kind": "zones", "zone_ids": ["1"]}}, {"target.zone_ids": "integers"}),
        (
            {"target": {"kind": "range", "street_id": 1, "civic_from": 50, "civic_to": 10}},
            {"target.street_id": "range"},
        ),
        ({"channels": "fax", "urgent": True}, {"channels": "one_of:sms|voice|both"}),
    ],
)
async def test_malformed_alerts_are_400_with_field_names(
    api: ApiClient, changes: dict[str, Any], fields: dict[str, str]
) -> None:
    body = {k: v for k, v in alert_body(1, **changes).items() if v is not None}
    response = await api.post("/alerts", body)
    assert response.status_code == 400
    found = error(response)["fields"]
    for name, code in fields.items():
        assert found[name].startswith(code), (name, found)
    assert await api.web.service.history() == []


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"title": "   "}, "title", "title"),
        ({"title": "x" * 121}, "title", "title"),
        ({"body_fr": "x" * 1001}, "body_fr", "body"),
        ({"body_en": "x" * 1001}, "body_en", "body"),
        ({"target": {"kind": "zones", "zone_ids": [9999]}}, "target.zone_ids", "unknown"),
        ({"target": {"kind": "streets", "street_ids": [99999]}}, "target.street_ids", "unknown"),
    ],
)
async def test_refused_alerts_are_422(
    api: ApiClient, changes: dict[str, Any], field: str, code: str
) -> None:
    response = await api.post("/alerts", alert_body(await api.zone_id("Nord"), **changes))
    assert response.status_code == 422, response.text
    assert error(response)["fields"] == {field: code}
    assert await api.web.service.history() == []


async def test_an_alert_reaching_nobody_is_422(tmp_path: Path) -> None:
    async with running_api(tmp_path, residents=False) as api:
        response = await api.post("/alerts", alert_body(1, target={"kind": "everyone"}))
        assert response.status_code == 422
        assert error(response)["fields"] == {"target": "nobody"}


async def test_an_alert_idempotency_key_alerts_once(api: ApiClient) -> None:
    body = alert_body(await api.zone_id("Est"))
    first = await api.post("/alerts", body, key="crue-2026-04-12")
    again = await api.post("/alerts", body, key="crue-2026-04-12")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await api.web.service.history()) == 1
    changed = await api.post("/alerts", {**body, "title": "Autre"}, key="crue-2026-04-12")
    assert changed.status_code == 409
    # The same JSON with other spacing is another body: also a conflict, never a second alert.
    raw = json.dumps(body, indent=2).encode()
    spaced = await api.client.post(
        "/api/v1/alerts", content=raw, headers={**api.auth(), "idempotency-key": "crue-2026-04-12"}
    )
    assert spaced.status_code == 409
    assert len(await api.web.service.history()) == 1


async def test_openapi_document_is_served_without_a_token(api: ApiClient) -> None:
    response = await api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]
    assert set(document["paths"]) == {
        "/messages",
        "/messages/{message_id}",
        "/alerts",
        "/alerts/{alert_id}",
        "/alerts/{alert_id}/pause",
        "/alerts/{alert_id}/resume",
        "/alerts/{alert_id}/cancel",
        "/zones",
        "/streets",
        "/openapi.json",
    }
