"""What a failed send means: retry it, fail it, blame the SIM, or admit we do not know.

`+CMS ERROR` codes are RP-causes (3GPP TS 24.011 §8.2.5.4, 0–127) or modem-side errors
(3GPP TS 27.005 §3.2.5, 300–511); vendors add 512 and up.
"""

from __future__ import annotations

import enum
from typing import Final

from modem.exceptions import (
    AtTimeoutError,
    CmeError,
    CmsError,
    ModemDisconnectedError,
    ModemError,
    PortClosedError,
    PromptTimeoutError,
)


class Verdict(enum.Enum):
    RETRY = "retry"  # transient: back off, try again (preferably on another modem)
    FAIL = "fail"  # permanent for this destination: give up on this message
    SIM = "sim"  # our SIM cannot send (no credit, barred): requeue, take the modem out
    UNKNOWN = "unknown"  # the command went out but no verdict came back: outbox policy
    MODEM = "modem"  # the modem failed before the network saw anything: requeue at once


# Network or SMSC trouble that passes: 38 network out of order, 41 temporary failure,
# 42 congestion, 47 resources unavailable, 98 message not compatible with state (often a
# transient SMSC hiccup), 111 protocol error, 127 interworking; 27.005's 330 SMSC address
# unknown (often transient right after registration), 331 no network service, 332 network
# timeout, 500 unknown error; SIMCom/Quectel 512+ are vendor-specific and mostly transient.
TRANSIENT_CODES: Final = frozenset({38, 41, 42, 47, 98, 111, 127, 330, 331, 332, 500})
# Caused by the destination: 1 unassigned number, 21 short message transfer rejected,
# 22 memory capacity exceeded (recipient's), 27 destination out of order, 28 unidentified
# subscriber, 29 facility rejected, 30 unknown subscriber, 95–97 invalid message, 304 invalid
# PDU mode parameter (our PDU is refused: sending it again will not help).
DESTINATION_CODES: Final = frozenset({1, 21, 22, 27, 28, 29, 30, 95, 96, 97, 99, 304, 305})
# Caused by our own subscription (TS 24.011 says "the MS's network operator has forbidden
# such transactions"): 8 operator determined barring (what prepaid carriers return when the
# credit runs out), 10 call barred, 50 requested facility not subscribed; 310–313 SIM absent,
# failed or busy, 316–318 SIM PIN/PUK required.
SIM_CODES: Final = frozenset({8, 10, 50, 310, 311, 312, 313, 316, 317, 318})


def verdict_for(error: BaseException) -> Verdict:
    """Decide what a send error means for the message and for the modem."""
    if isinstance(error, CmsError):
        if error.code in SIM_CODES:
            return Verdict.SIM
        if error.code in DESTINATION_CODES:
            return Verdict.FAIL
        return Verdict.RETRY  # the listed transient codes, and anything unknown
    if isinstance(error, PromptTimeoutError | PortClosedError):
        return Verdict.MODEM  # nothing reached the network
    if isinstance(error, AtTimeoutError):
        # No final result: the modem may have handed the message to the network.
        return Verdict.UNKNOWN
    if isinstance(error, ModemDisconnectedError):
        return Verdict.UNKNOWN
    if isinstance(error, CmeError):
        return Verdict.SIM if error.code in (10, 11, 12, 13, 15) else Verdict.MODEM
    if isinstance(error, ModemError):
        return Verdict.MODEM
    return Verdict.MODEM
