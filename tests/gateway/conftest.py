"""A gateway on simulated modems, with short timings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway import config as config_module
from gateway.config import ModemSettings
from gateway.service import Gateway
from modem.simulator import Simulator


def make_config(tmp_path: Path, **overrides: Any) -> config_module.Config:
    values: dict[str, Any] = {
        "storage.path": str(tmp_path / "tocsin.sqlite"),
        "dispatch.retry_base_s": 0.05,
        "dispatch.retry_max_s": 0.2,
        "dispatch.watchdog_interval_s": 0.2,
        "dispatch.block_s": 0.5,
        "dispatch.sim_block_s": 0.5,
    }
    values.update(overrides)
    return config_module.from_mapping({}, values)


def modem_settings(sim: Simulator, **kwargs: Any) -> tuple[ModemSettings, ...]:
    return tuple(
        ModemSettings(port=m.port, name=f"sim{i}", **kwargs) for i, m in enumerate(sim.modems)
    )


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(modems=2, phones=4, scale=0.01) as simulator:
        yield simulator


@pytest.fixture
async def gateway(sim: Simulator, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with Gateway(make_config(tmp_path), modem_settings(sim)) as gw:
        yield gw
