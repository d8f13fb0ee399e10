"""Child process for the crash test: commit, then say so, until SIGKILL arrives."""

from __future__ import annotations

import asyncio
import sys

from gateway.outbox import Channel, MessageClass, NewMessage, Outbox
from gateway.storage import Database

# Claim one row in this many, so the kill can also land between claims.
CLAIM_EVERY = 3


async def main(path: str) -> None:
    db = await Database.open(path)
    outbox = Outbox(db)
    await outbox.recover_after_restart()
    count = 0
    while True:
        count += 1
        message = NewMessage(
            message_class=MessageClass.OTP,
            channel=Channel.SMS,
            destination="+15145550100",
            body=f"code {count}",
            language="fr",
        )
        message_id = await outbox.enqueue(message)
        print(f"committed {message_id}", flush=True)
        if count % CLAIM_EVERY == 0:
            claimed = await outbox.claim_next("crash0", {Channel.SMS})
            if claimed is not None:
                print(f"claimed {claimed.id}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
