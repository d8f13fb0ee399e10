"""The inbox: committed before deletion, duplicates suppressed, processed once."""

from __future__ import annotations

from datetime import timedelta

from gateway.storage import Inbox, pdu_hash
from tests.storage.conftest import START, FakeClock

PDU = "07915141000000F0040B915141555501F0000062301121000000046379D90D"
SENDER = "+15145555100"


async def store(inbox: Inbox, **overrides: object) -> tuple[int, bool]:
    fields: dict[str, object] = {
        "modem": "modem0",
        "sender": SENDER,
        "text": "ALERTE rue Principale",
        "network_timestamp": START,
        "pdu_hash": pdu_hash([PDU]),
    }
    fields.update(overrides)
    return await inbox.store_inbound(**fields)  # type: ignore[arg-type]


async def test_the_same_sms_read_twice_is_stored_once(inbox: Inbox, clock: FakeClock) -> None:
    first_id, first_new = await store(inbox)
    clock.advance(seconds=30)  # re-read after a restart, before the delete went through
    again_id, again_new = await store(inbox, modem="modem1")
    assert (first_new, again_new) == (True, False)
    assert again_id == first_id
    assert [m.id for m in await inbox.unprocessed_inbound()] == [first_id]


async def test_different_messages_are_not_duplicates(inbox: Inbox) -> None:
    base, _ = await store(inbox)
    other_text, new_text = await store(inbox, pdu_hash=pdu_hash([PDU + "00"]))
    other_time, new_time = await store(inbox, network_timestamp=START + timedelta(seconds=1))
    other_sender, new_sender = await store(inbox, sender="+15145555101")
    assert new_text
    assert new_time
    assert new_sender
    assert len({base, other_text, other_time, other_sender}) == 4


async def test_concatenated_parts_are_told_apart(inbox: Inbox) -> None:
    whole, new_whole = await store(inbox, concat_ref=17, part_info=(2, 2))
    partial, new_partial = await store(
        inbox, concat_ref=17, part_info=(1, 2), complete=False, pdu_hash=pdu_hash([PDU])[:32]
    )
    repeat, new_repeat = await store(inbox, concat_ref=17, part_info=(2, 2))
    assert (new_whole, new_partial, new_repeat) == (True, True, False)
    assert repeat == whole != partial
    stored = await inbox.get_inbound(partial)
    assert stored is not None
    assert not stored.complete
    assert stored.parts_expected == 2


async def test_processed_messages_leave_the_queue(inbox: Inbox, clock: FakeClock) -> None:
    first, _ = await store(inbox)
    second, _ = await store(inbox, sender="+15145555101")
    assert await inbox.mark_inbound_processed(first) is True
    assert await inbox.mark_inbound_processed(first) is False
    pending = await inbox.unprocessed_inbound()
    assert [m.id for m in pending] == [second]
    stored = await inbox.get_inbound(first)
    assert stored is not None
    assert stored.processed_at == clock.now
    assert stored.network_timestamp == START
    assert stored.sender == SENDER


async def test_unprocessed_pages_oldest_first(inbox: Inbox) -> None:
    ids = [
        (await store(inbox, network_timestamp=START + timedelta(seconds=n)))[0] for n in range(5)
    ]
    page = await inbox.unprocessed_inbound(limit=2)
    assert [m.id for m in page] == ids[:2]
    rest = await inbox.unprocessed_inbound(after_id=page[-1].id, limit=10)
    assert [m.id for m in rest] == ids[2:]


def test_pdu_hash_ignores_case_and_whitespace() -> None:
    assert pdu_hash([PDU.lower() + "\r\n"]) == pdu_hash([PDU])
    assert pdu_hash([PDU, PDU]) != pdu_hash([PDU])
