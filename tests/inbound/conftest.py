"""A gateway with no modem (messages stay queued) for routing tests; see test_end_to_end for one
on the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.service import Gateway
from tests.inbound.helpers import make_config


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with Gateway(make_config(tmp_path), ()) as gw:
        yield gw
