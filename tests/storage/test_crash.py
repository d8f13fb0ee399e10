"""A writer killed with SIGKILL right after commits loses nothing it reported committed."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

from gateway.outbox import MessageState, Outbox
from gateway.storage import Database

ROUNDS = 3
REPO_ROOT = Path(__file__).resolve().parents[2]
# Lines to read before the kill: enough to be mid-stream, few enough to stay quick.
KILL_AFTER_LINES = (20, 300)
READ_TIMEOUT_S = 30


async def run_and_kill(path: Path, kill_after: int) -> list[str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.crash_writer",
        str(path),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    lines: list[str] = []
    try:
        while len(lines) < kill_after:
            line = await asyncio.wait_for(child.stdout.readline(), READ_TIMEOUT_S)
            assert line, "the writer stopped on its own"
            lines.append(line.decode().strip())
    finally:
        child.kill()  # SIGKILL: no atexit, no close, no checkpoint
        rest, _ = await child.communicate()
    # Lines already in the pipe were printed after their commit too.
    lines.extend(line for line in rest.decode().splitlines() if line)
    return lines


async def test_committed_rows_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    rng = random.Random()
    committed: set[int] = set()
    claimed: set[int] = set()
    for _ in range(ROUNDS):
        for line in await run_and_kill(path, rng.randint(*KILL_AFTER_LINES)):
            verb, number = line.split()
            (committed if verb == "committed" else claimed).add(int(number))

    db = await Database.open(path)
    try:
        assert await db.integrity_check() == ["ok"]
        outbox = Outbox(db)
        for message_id in sorted(committed):
            assert await outbox.get(message_id) is not None, f"lost committed row {message_id}"
        for message_id in sorted(claimed):
            stored = await outbox.get(message_id)
            assert stored is not None
            assert stored.attempts >= 1
            # A claimed OTP is never back in the queue: it is sending or, after a restart,
            # unknown.
            assert stored.state in (MessageState.SENDING, MessageState.UNKNOWN)
    finally:
        await db.close()
    assert committed
    assert claimed
