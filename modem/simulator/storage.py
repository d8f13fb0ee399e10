"""Message storage of a SIM ("SM") or module ("ME"): finite, indexed, with 27.005 message states."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# 27.005 §3.1 <stat> in PDU mode.
REC_UNREAD = 0
REC_READ = 1
STO_UNSENT = 2
STO_SENT = 3


@dataclass
class StoredMessage:
    """One occupied slot: the PDU (with SMSC prefix) and its state."""

    pdu: str
    stat: int
    tpdu_length: int
    is_status_report: bool = False


class MessageStore:
    """Slots numbered from `first_index`; survives module reboots like a real SIM."""

    def __init__(self, name: str, slots: int, first_index: int = 1) -> None:
        self.name = name
        self.slots = slots
        self.first_index = first_index
        self._messages: dict[int, StoredMessage] = {}

    @property
    def used(self) -> int:
        """Occupied slots."""
        return len(self._messages)

    @property
    def full(self) -> bool:
        """No free slot: new messages must wait in the network."""
        return self.used >= self.slots

    def valid_index(self, index: int) -> bool:
        """Whether `index` names a slot of this storage (occupied or not)."""
        return self.first_index <= index < self.first_index + self.slots

    def add(self, message: StoredMessage) -> int | None:
        """Store in the lowest free slot; None when full."""
        for index in range(self.first_index, self.first_index + self.slots):
            if index not in self._messages:
                self._messages[index] = message
                return index
        return None

    def get(self, index: int) -> StoredMessage | None:
        """The message in a slot, or None when empty."""
        return self._messages.get(index)

    def delete(self, index: int) -> bool:
        """Empty a slot; True when something was deleted."""
        return self._messages.pop(index, None) is not None

    def delete_where(self, stats: set[int]) -> int:
        """Delete every message whose state is in `stats` (AT+CMGD=<i>,<delflag>)."""
        doomed = [i for i, m in self._messages.items() if m.stat in stats]
        for index in doomed:
            del self._messages[index]
        return len(doomed)

    def items(self) -> Iterator[tuple[int, StoredMessage]]:
        """Occupied slots in index order."""
        yield from sorted(self._messages.items())
