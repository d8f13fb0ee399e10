"""Fault switches of one simulated modem, kept apart from its protocol state."""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass, field

# Bytes never seen in AT traffic, so "garbage" cannot be mistaken for a response.
_GARBAGE_ALPHABET = bytes(range(0x80, 0xFF)) + b"~`|{}\\\x07\x08"


class Garbage(enum.Enum):
    """How badly the module corrupts its output."""

    OFF = "off"
    INTERLEAVE = "interleave"  # random bytes between otherwise intact lines
    REPLACE = "replace"  # random bytes instead of every answer


@dataclass
class Faults:
    """What is currently wrong with the module; all off by default."""

    hung: bool = False
    garbage: Garbage = Garbage.OFF
    garbage_probability: float = 0.5
    failing_sends: deque[int] = field(default_factory=deque)  # +CMS codes for the next sends
    no_credit: bool = False
    no_credit_code: int = 8  # "operator determined barring", what prepaid SIMs without credit get
    busy_after_boot: int = 0  # SIM-touching commands answered "busy" after each boot
    busy_code: int = 14
    busy_remaining: int = 0
    mid_response_urcs: list[str] = field(default_factory=list)
    prompt_urcs: list[str] = field(default_factory=list)

    def garble(self, chunks: list[bytes], rng: random.Random) -> bytes:
        """The bytes to write for `chunks` under the current garbage mode."""
        if self.garbage is Garbage.OFF:
            return b"".join(chunks)
        if self.garbage is Garbage.REPLACE:
            return random_bytes(rng, max(4, sum(len(c) for c in chunks)), _GARBAGE_ALPHABET)
        out: list[bytes] = []
        for chunk in chunks:
            if rng.random() < self.garbage_probability:
                out.append(random_bytes(rng, rng.randint(1, 12), _GARBAGE_ALPHABET))
            out.append(chunk)
        return b"".join(out)


def random_bytes(rng: random.Random, count: int, alphabet: bytes | None = None) -> bytes:
    """`count` random bytes, from `alphabet` or from the whole 0x00-0xFF range."""
    if alphabet is None:
        return bytes(rng.randrange(256) for _ in range(count))
    return bytes(rng.choice(alphabet) for _ in range(count))
