"""Concatenated SMS reassembly: order, duplicates, interleaving, timeouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modem.pdu import Deliver, decode, encode_deliver
from modem.reassembly import Reassembler

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LONG = "Avis de bouillir l'eau. " * 20  # 480 septets: 4 parts
LONG_UCS2 = "Fête de la ville 🎉 ce samedi. " * 8


def _parts(sender: str, text: str, reference: int = 42, minutes: int = 0) -> list[Deliver]:
    when = WHEN + timedelta(minutes=minutes)
    decoded = [decode(p) for p in encode_deliver(sender, text, timestamp=when, reference=reference)]
    assert all(isinstance(d, Deliver) for d in decoded)
    return decoded  # type: ignore[return-value]


def test_single_part_is_returned_at_once() -> None:
    r = Reassembler()
    [part] = _parts("+15145550123", "Bonjour")
    sms = r.add(part, "k1", now=0.0)
    assert sms is not None
    assert (sms.text, sms.complete, sms.parts_expected, sms.keys) == ("Bonjour", True, 1, ("k1",))
    assert r.pending() == 0
    assert r.next_deadline() is None


def test_in_order() -> None:
    r = Reassembler()
    parts = _parts("+15145550123", LONG)
    assert len(parts) == 4
    results = [r.add(p, i, now=float(i)) for i, p in enumerate(parts)]
    assert results[:3] == [None, None, None]
    sms = results[3]
    assert sms is not None
    assert (sms.text, sms.complete, sms.parts_received, sms.keys) == (LONG, True, 4, (0, 1, 2, 3))
    assert sms.timestamp == WHEN
    assert r.pending() == 0


def test_out_of_order_uses_first_part_timestamp() -> None:
    r = Reassembler()
    parts = [_parts("+15145550123", LONG, minutes=i)[i] for i in range(4)]
    order = [2, 0, 3, 1]
    results = [r.add(parts[i], f"key{i}", now=0.0) for i in order]
    sms = results[-1]
    assert sms is not None
    assert sms.text == LONG
    assert sms.timestamp == WHEN  # sequence 1's, not the first to arrive
    assert sms.keys == ("key2", "key0", "key3", "key1")


def test_duplicates_keep_the_first_and_report_every_key() -> None:
    r = Reassembler()
    parts = _parts("+15145550123", LONG)
    assert r.add(parts[0], "a", now=0.0) is None
    assert r.add(parts[0], "a-again", now=1.0) is None
    assert r.add(parts[1], "b", now=1.0) is None
    assert r.add(parts[2], "c", now=1.0) is None
    sms = r.add(parts[3], "d", now=2.0)
    assert sms is not None
    assert sms.text == LONG
    assert sms.parts_received == 4
    assert sms.keys == ("a", "a-again", "b", "c", "d")


def test_interleaved_senders_and_same_reference() -> None:
    r = Reassembler()
    alice = _parts("+15145550001", LONG, reference=9)
    bob = _parts("+15145550002", LONG_UCS2, reference=9)
    done = []
    for a, b in zip(alice, bob, strict=False):
        done += [r.add(a, ("alice", a.concat), now=0.0), r.add(b, ("bob", b.concat), now=0.0)]
    done += [r.add(b, ("bob", b.concat), now=0.0) for b in bob[len(alice) :]]
    messages = [m for m in done if m is not None]
    assert {(m.sender, m.text) for m in messages} == {
        ("+15145550001", LONG),
        ("+15145550002", LONG_UCS2),
    }
    assert r.pending() == 0


def test_sixteen_bit_references_are_a_separate_group() -> None:
    r = Reassembler()
    eight = _parts("+15145550123", LONG, reference=44)
    sixteen = _parts("+15145550123", LONG, reference=300)
    assert sixteen[0].concat is not None
    assert sixteen[0].concat.ref_bits == 16
    for part in sixteen[:-1]:
        assert r.add(part, "s", now=0.0) is None
    assert r.add(eight[0], "e", now=0.0) is None
    assert r.pending() == 2
    sms = r.add(sixteen[-1], "s-last", now=0.0)
    assert sms is not None
    assert sms.text == LONG
    assert r.pending() == 1


def test_timeout_delivers_what_arrived() -> None:
    r = Reassembler(timeout_s=60.0)
    parts = _parts("+15145550123", LONG)
    r.add(parts[3], "d", now=10.0)
    r.add(parts[1], "b", now=20.0)
    assert r.next_deadline() == 70.0
    assert r.expire(69.9) == []
    [sms] = r.expire(70.0)
    assert not sms.complete
    assert (sms.parts_expected, sms.parts_received) == (4, 2)
    assert sms.text == parts[1].text + parts[3].text
    assert sms.timestamp == parts[3].timestamp  # no sequence 1: the first part to arrive
    assert sms.keys == ("d", "b")
    assert r.pending() == 0
    assert r.next_deadline() is None


def test_next_deadline_is_the_oldest_group() -> None:
    r = Reassembler(timeout_s=100.0)
    r.add(_parts("+1555", LONG, reference=1)[0], 1, now=50.0)
    r.add(_parts("+1555", LONG, reference=2)[0], 2, now=10.0)
    assert r.next_deadline() == 110.0
    assert [m.keys for m in r.expire(120.0)] == [(2,)]
    assert r.next_deadline() == 150.0


def test_surrogate_pair_split_across_parts_is_rejoined() -> None:
    """Some phones cut UCS-2 parts at 67 units even inside a pair; the joined text is whole."""
    r = Reassembler()
    raw = ("a" * 66 + "😀" + "b").encode("utf-16-be")
    halves = [raw[:134], raw[134:]]
    pdus = []
    for sequence, body in enumerate(halves, start=1):
        ud = bytes([5, 0, 3, 77, 2, sequence]) + body
        pdus.append("00440481214300084210502100000" + f"0{len(ud):02X}" + ud.hex())
    parts = [decode(p) for p in pdus]
    assert all(isinstance(p, Deliver) for p in parts)
    assert parts[0].text.endswith("\ufffd")  # type: ignore[union-attr]
    r.add(parts[0], 1, now=0.0)  # type: ignore[arg-type]
    sms = r.add(parts[1], 2, now=0.0)  # type: ignore[arg-type]
    assert sms is not None
    assert sms.text == "a" * 66 + "😀" + "b"


@pytest.mark.parametrize("complete", [True, False])
def test_hand_built_parts_join_by_text(complete: bool) -> None:
    """A Deliver built without raw data (as another test might) still joins by its text."""
    r = Reassembler(timeout_s=1.0)
    template = _parts("+15145550123", LONG)
    parts = [
        Deliver(**{**p.__dict__, "data": b"", "text": f"<{i}>"}) for i, p in enumerate(template)
    ]
    for part in parts[: 4 if complete else 2]:
        sms = r.add(part, None, now=0.0)
    if complete:
        assert sms is not None
        assert sms.text == "<0><1><2><3>"
    else:
        [expired] = r.expire(5.0)
        assert expired.text == "<0><1>"
