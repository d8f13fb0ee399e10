"""Shared helpers for the benchmarks: resource figures and the final JSON line."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Stopwatch:
    """Wall and CPU time of a block, for this process only."""

    wall_start: float = field(default_factory=time.perf_counter)
    cpu_start: float = field(default_factory=cpu_seconds)

    @property
    def wall(self) -> float:
        return time.perf_counter() - self.wall_start

    @property
    def cpu(self) -> float:
        return cpu_seconds() - self.cpu_start


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def emit(result: dict[str, float | int | str]) -> None:
    """The last line of every benchmark: one JSON object that outside checks parse."""
    sys.stdout.flush()
    print(json.dumps(result, sort_keys=True), flush=True)
