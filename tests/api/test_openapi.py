"""Schemathesis against the in-process app: every operation of /api/v1/openapi.json, with a
valid operator token, answers as the document says (status, content type, body, headers)
and never with a 5xx. A bounded number of examples keeps it well under a minute.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import Receive, Scope, Send

from gateway import config as config_module
from gateway.api.service import ApiService
from gateway.campaigns.models import Role
from gateway.campaigns.seed import seed_residents, streets_by_zone, town
from gateway.residents.streets import load_sample_streets
from gateway.service import Gateway
from tests.admin.helpers import LAN_CLIENT, PHONES
from tests.web.helpers import fast_settings
from web.api.openapi import document
from web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class Harness:
    """The app as schemathesis runs it: its lifespan starts a Gateway on a real SQLite file
    (in schemathesis's own event loop), seeds a town and makes an operator token."""

    def __init__(self) -> None:
        self.directory: Path | None = None
        self.token = ""
        self._app: Any = None
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        # Schemathesis's client says "testclient"; the API answers only allowed networks.
        await self._app({**scope, "client": LAN_CLIENT}, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def remove(self) -> None:
        """Delete the database directory (after the lifespan ended)."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    async def _start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="tocsin-schemathesis-"))
        values = {
            "storage.path": str(self.directory / "tocsin.sqlite"),
            "api.requests_per_minute": 0,  # no budget: hundreds of examples in a few seconds
        }
        gateway = await self._stack.enter_async_context(
            Gateway(config_module.from_mapping({}, values), ())
        )
        assert gateway.db is not None
        await load_sample_streets(gateway.db, "Ville de Démo")
        zones = await streets_by_zone(gateway.db)
        await seed_residents(gateway.db, town(PHONES, zones, zone_names=["Nord", "Est", "Ouest"]))
        self._app = create_app(gateway, settings=fast_settings())
        await self._stack.enter_async_context(self._app.router.lifespan_context(self._app))
        service: ApiService = self._app.state.api
        made = await service.tokens.create("schemathesis", Role.OPERATOR, created_by="test")
        self.token = made.secret


@pytest.fixture(autouse=True)
def _no_leaked_tasks() -> None:
    """The app runs in schemathesis's event loop thread, not in a test loop."""


HARNESS = Harness()
# The document the route serves (web.api.openapi.document), loaded without starting anything;
# the app's lifespan (the Gateway) starts at the first request. (schemathesis's lazy
# `from_fixture` loader does not run under pytest 9.)
schema = schemathesis.openapi.from_dict(document())
schema.app = HARNESS


@pytest.fixture(scope="module", autouse=True)
def _stop_the_gateway() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # stops the Gateway before its files go
    HARNESS.remove()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_its_document_says(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {HARNESS.token}"}, checks=CHECKS)
