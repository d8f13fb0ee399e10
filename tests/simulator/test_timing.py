"""The latency model: seeded, scaled, lognormal +CMGS with a cap."""

from __future__ import annotations

import random
import statistics

from modem.simulator.timing import CMGS_CAP_S, LatencyModel


def test_cmgs_latency_is_reproducible_and_realistic() -> None:
    a = LatencyModel(random.Random(7))
    b = LatencyModel(random.Random(7))
    draws = [a.cmgs() for _ in range(4000)]
    assert draws[:10] == [b.cmgs() for _ in range(10)]
    assert 2.6 < statistics.mean(draws) < 3.4
    assert max(draws) <= CMGS_CAP_S
    assert statistics.median(draws) < statistics.mean(draws)  # long right tail


def test_scale_multiplies_every_delay() -> None:
    instant = LatencyModel(random.Random(1), scale=0.0)
    assert instant.cmgs() == instant.boot() == instant.report() == instant.command() == 0.0
    fast = LatencyModel(random.Random(1), scale=0.01, cmgs_mean_s=1.0)
    assert 0 < fast.cmgs() < 0.3
    assert fast.boot() == 0.04
