"""How long and how much memory a campaign fan-out takes, and how fast claims stay behind it.

Run: python -m bench.fanout [--quick]. Ends with one JSON line for tracking over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.outbox import Channel, MessageClass, NewMessage, Outbox, PartRef
from gateway.storage import Database

# The target: a 100,000-recipient alert in a couple of seconds, in constant memory.
FULL_RECIPIENTS = 100_000
QUICK_RECIPIENTS = 20_000
# Enough claims for a stable 99th percentile without draining a noticeable part of the queue.
CLAIM_SAMPLES = 1_000
CAMPAIGN_ID = 1
MODEM = "bench0"
_BYTES_PER_MB = 1024 * 1024
_KIB_PER_MB = 1024  # ru_maxrss is in KiB on Linux
_PERCENTILE = 0.99


def recipients(count: int, now: datetime) -> Iterator[NewMessage]:
    """A generator, as a campaign reading residents would be: never a prebuilt list."""
    valid_until = now + timedelta(hours=12)
    for index in range(count):
        yield NewMessage(
            message_class=MessageClass.ALERT,
            channel=Channel.SMS,
            destination=f"+1819555{index:07d}",
            body="Avis d'ébullition préventif: faites bouillir l'eau une minute.",
            language="fr",
            valid_until=valid_until,
            idempotency_key=f"campaign:{CAMPAIGN_ID}:{index}",
        )


def current_rss_mb() -> float:
    """Resident memory now, from /proc (getrusage only knows the peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / _BYTES_PER_MB


def peak_rss_mb() -> float:
    """Resident memory high-water mark of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _KIB_PER_MB


async def run(count: int) -> dict[str, float | int]:
    """Fan out into a fresh file, then time claims with the whole backlog queued."""
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as folder:
        db = await Database.open(Path(folder) / "outbox.sqlite3")
        try:
            outbox = Outbox(db)
            figures = await fan_out(outbox, count)
            figures["claim_p99_ms"] = await time_claims(outbox, count)
        finally:
            await db.close()
    return figures


async def fan_out(outbox: Outbox, count: int) -> dict[str, float | int]:
    """Time one campaign's enqueue_many and the memory it took."""
    rss_before = current_rss_mb()
    started = time.perf_counter()
    inserted = await outbox.enqueue_many(CAMPAIGN_ID, recipients(count, datetime.now(UTC)))
    seconds = time.perf_counter() - started
    rss_after = current_rss_mb()
    peak = peak_rss_mb()
    if inserted != count:
        raise RuntimeError(f"inserted {inserted} rows, expected {count}")
    print(f"fan-out:  {count:,} recipients in {seconds:.2f} s ({count / seconds:,.0f} rows/s)")
    print(f"memory:   RSS {rss_before:.1f} MB before, {rss_after:.1f} MB after")
    print(f"          peak RSS {peak:.1f} MB (getrusage)")
    return {
        "fanout_s": round(seconds, 3),
        "fanout_rss_growth_mb": round(max(peak, rss_after) - rss_before, 1),
        "recipients": count,
    }


async def time_claims(outbox: Outbox, backlog: int) -> float:
    """p99 of claim_next (each followed by mark_sent, as a dispatcher would) in ms."""
    latencies: list[float] = []
    for sample in range(CLAIM_SAMPLES):
        started = time.perf_counter()
        message = await outbox.claim_next(MODEM, {Channel.SMS, Channel.VOICE})
        latencies.append(time.perf_counter() - started)
        if message is None:
            raise RuntimeError("the backlog ran dry")
        await outbox.mark_sent(message.id, [PartRef(MODEM, 1, sample % 256)])
    latencies.sort()
    p50_ms = latencies[len(latencies) // 2] * 1000
    p99_ms = latencies[int(len(latencies) * _PERCENTILE)] * 1000
    print(f"claims:   {CLAIM_SAMPLES:,} with {backlog:,} queued")
    print(f"          p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms (each commits with fsync)")
    return round(p99_ms, 2)


def main(argv: list[str] | None = None) -> int:
    """Print human-readable figures, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RECIPIENTS:,} recipients")
    args = parser.parse_args(argv)
    count = QUICK_RECIPIENTS if args.quick else FULL_RECIPIENTS
    figures = asyncio.run(run(count))
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
