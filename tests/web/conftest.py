"""Fixtures for the in-process web tests, and the browser tests' server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.browser import running, smtp_server
from tests.web.browser_helpers import WebServer
from tests.web.helpers import Web, running_web


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with running_web(tmp_path) as client:
        yield client


@pytest.fixture(scope="package")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """One app for the residents' browser tests, with a real SMTP server for its mails."""
    with smtp_server() as (mailbox, port):
        directory = tmp_path_factory.mktemp("web")
        with running(WebServer(directory, mailbox, port)) as server:
            yield server
