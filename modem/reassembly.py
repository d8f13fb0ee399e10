"""Concatenated SMS reassembly: parts in, whole messages out (pure logic; time is passed in).

Parts arrive in any order, sometimes twice, sometimes never; a group that stays incomplete for
`timeout_s` is handed over with what arrived rather than held forever.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

from modem import gsm7
from modem.pdu import Deliver

DEFAULT_TIMEOUT_S = (
    600.0  # networks deliver the parts of one message within seconds; 10 min is generous
)

_GroupKey = tuple[str, int, int, int]  # sender, reference, total, ref_bits


@dataclass(frozen=True)
class AssembledSms:
    """A whole (or given-up) message and the storage keys of every part it used."""

    sender: str
    text: str
    timestamp: datetime  # of sequence 1 if present, else of the part that arrived first
    parts_expected: int
    parts_received: int
    complete: bool
    keys: tuple[Hashable, ...]  # every key passed to add() for this message, duplicates included


@dataclass
class _Group:
    """Parts of one message received so far."""

    started: float
    total: int
    parts: dict[int, Deliver] = field(default_factory=dict)
    first: Deliver | None = None
    keys: list[Hashable] = field(default_factory=list)


class Reassembler:
    """Groups SMS-DELIVER parts by (sender, reference, total, reference size)."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._groups: dict[_GroupKey, _Group] = {}

    def add(self, deliver: Deliver, key: Hashable, now: float) -> AssembledSms | None:
        """Store a part; return the message once every part is in (single parts at once)."""
        concat = deliver.concat
        if concat is None or concat.total <= 1:
            return AssembledSms(deliver.sender, deliver.text, deliver.timestamp, 1, 1, True, (key,))
        group_key = (deliver.sender, concat.reference, concat.total, concat.ref_bits)
        group = self._groups.get(group_key)
        if group is None:
            group = self._groups[group_key] = _Group(started=now, total=concat.total)
        group.keys.append(key)
        if concat.sequence in group.parts:
            return None  # a duplicate: keep the first copy, but report its key for deletion
        group.parts[concat.sequence] = deliver
        group.first = group.first or deliver
        if len(group.parts) < group.total:
            return None
        del self._groups[group_key]
        return _assemble(group, complete=True)

    def expire(self, now: float) -> list[AssembledSms]:
        """Give up on groups started `timeout_s` or more ago; return what they hold."""
        expired = [k for k, g in self._groups.items() if now >= g.started + self.timeout_s]
        return [_assemble(self._groups.pop(k), complete=False) for k in expired]

    def next_deadline(self) -> float | None:
        """The earliest `now` at which `expire` returns something, or None when idle."""
        if not self._groups:
            return None
        return min(group.started for group in self._groups.values()) + self.timeout_s

    def pending(self) -> int:
        """Messages waiting for parts."""
        return len(self._groups)


def _assemble(group: _Group, *, complete: bool) -> AssembledSms:
    """Join the parts present, in sequence order."""
    ordered = [group.parts[sequence] for sequence in sorted(group.parts)]
    first = group.parts.get(1) or group.first or ordered[0]
    return AssembledSms(
        sender=first.sender,
        text=_join(ordered, complete),
        timestamp=first.timestamp,
        parts_expected=group.total,
        parts_received=len(ordered),
        complete=complete,
        keys=tuple(group.keys),
    )


def _join(parts: list[Deliver], complete: bool) -> str:
    """Text of the parts; a complete message is re-decoded as one, so that a surrogate pair or
    an escape sequence some senders split across two parts comes out whole."""
    encodings = {part.encoding for part in parts}
    if complete and len(encodings) == 1 and all(_data_matches_text(part) for part in parts):
        if encodings == {"ucs2"}:
            return b"".join(part.data for part in parts).decode("utf-16-be", errors="replace")
        if encodings == {"gsm7"}:
            return gsm7.decode([septet for part in parts for septet in part.data])
    return "".join(part.text for part in parts)


def _data_matches_text(part: Deliver) -> bool:
    """True when `data` holds what the decoder put there (not a hand-built Deliver)."""
    if part.encoding == "ucs2":
        return len(part.data) % 2 == 0 and (
            part.data.decode("utf-16-be", errors="replace") == part.text
        )
    if part.encoding == "gsm7":
        return max(part.data, default=0) < 0x80 and gsm7.decode(list(part.data)) == part.text
    return True
