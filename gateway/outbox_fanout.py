"""A campaign's fan-out into the outbox: INSERT parameters in batches, one transaction each.

`Outbox.enqueue_many` pipelines them (one batch written while the next is built); this module
builds the batches and writes one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable

from gateway.storage import outbox_sql as sql
from gateway.storage.outbox_models import NewMessage

# Rows per transaction in enqueue_many: big enough that 100,000 rows take ~20 commits,
# small enough (~50 ms each) that an OTP claim waits little behind a fan-out.
FANOUT_BATCH_SIZE = 5000
# ...but the first batch is small, so sending starts within milliseconds of a fan-out.
FIRST_BATCH_SIZE = 100
# While building a fan-out batch, let the loop run this often, so other tasks (a claim, an
# OTP enqueue) do not starve behind it.
_YIELD_EVERY_ROWS = 500


def insert_batch(
    conn: sqlite3.Connection, batch: list[tuple[object, ...]]
) -> tuple[int, int | None]:
    """Insert one batch (repeated idempotency keys skipped); rows new, most urgent priority."""
    inserted = conn.executemany(sql.INSERT_MESSAGE, batch).rowcount
    classes = sorted({str(row[0]) for row in batch})
    marks = ", ".join("?" * len(classes))
    found = conn.execute(
        f"SELECT min(priority) FROM message_class WHERE name IN ({marks})", classes
    ).fetchone()
    return inserted, None if found is None else found[0]


async def batched(
    messages: Iterable[NewMessage] | AsyncIterable[NewMessage],
    size: int,
    params: Callable[[NewMessage], tuple[object, ...]],
) -> AsyncGenerator[list[tuple[object, ...]], None]:
    """INSERT parameters in lists of `size`, from either kind of source, pausing for the loop."""
    batch: list[tuple[object, ...]] = []
    count = 0
    # A small first batch: the modems start sending while the rest is written.
    limit = min(size, FIRST_BATCH_SIZE)
    if isinstance(messages, AsyncIterable):
        async for message in messages:
            batch.append(params(message))
            if len(batch) >= limit:
                yield batch
                batch, limit = [], size
    else:
        # A plain loop: an async generator step per row cost ~10 % of a fan-out.
        for message in messages:
            batch.append(params(message))
            count += 1
            if count % _YIELD_EVERY_ROWS == 0:
                await asyncio.sleep(0)
            if len(batch) >= limit:
                yield batch
                batch, limit = [], size
    if batch:
        yield batch
