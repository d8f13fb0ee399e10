"""Latency model: how long a real module and network take, scaled so tests run in milliseconds."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# Defaults measured by feel on SIM800/EC25 modules on a Canadian network.
COMMAND_S = 0.004  # a plain AT command: a few ms of firmware time
CMGS_MEAN_S = 3.0  # +CMGS: network round trip; long tail when the cell is busy
CMGS_SIGMA = 0.6  # lognormal shape: ~5 % of sends take over twice the mean
CMGS_CAP_S = 30.0  # the network gives up (and the modem answers) well before 60 s
REPORT_MEAN_S = 5.0  # SMSC → destination → status report back
NETWORK_S = 1.0  # an SMS crossing the network to a phone or another modem
BOOT_S = 4.0  # power-on / AT+CFUN=1,1 until "RDY"
SMS_READY_S = 3.0  # "RDY" until the SMS stack announces itself
USSD_S = 2.0  # USSD request until the network's answer


@dataclass
class LatencyModel:
    """Draws delays from seeded distributions; every delay is multiplied by `scale`."""

    rng: random.Random
    scale: float = 1.0
    cmgs_mean_s: float = CMGS_MEAN_S
    cmgs_sigma: float = CMGS_SIGMA  # 0: every send takes exactly the mean (for comparisons)

    def command(self) -> float:
        """Firmware time for an ordinary command."""
        return self._scaled(COMMAND_S * self.rng.uniform(0.5, 1.5))

    def cmgs(self) -> float:
        """Time from the PDU's Ctrl-Z to +CMGS: lognormal with the configured mean, capped."""
        if self.cmgs_mean_s <= 0:
            return 0.0
        if self.cmgs_sigma <= 0:
            return self._scaled(min(self.cmgs_mean_s, CMGS_CAP_S))
        mu = math.log(self.cmgs_mean_s) - self.cmgs_sigma**2 / 2
        return self._scaled(min(self.rng.lognormvariate(mu, self.cmgs_sigma), CMGS_CAP_S))

    def report(self) -> float:
        """Time until the status report of a delivered message reaches the sender."""
        return self._scaled(min(self.rng.expovariate(1 / REPORT_MEAN_S), 4 * REPORT_MEAN_S))

    def network(self) -> float:
        """Time for an SMS to cross the network."""
        return self._scaled(NETWORK_S * self.rng.uniform(0.5, 1.5))

    def boot(self) -> float:
        """Boot time of the module."""
        return self._scaled(BOOT_S)

    def sms_ready(self) -> float:
        """Delay between the SIM being ready and the SMS stack's URCs."""
        return self._scaled(SMS_READY_S)

    def ussd(self) -> float:
        """Delay before the USSD answer arrives."""
        return self._scaled(USSD_S * self.rng.uniform(0.5, 1.5))

    def fixed(self, seconds: float) -> float:
        """A given delay, scaled."""
        return self._scaled(seconds)

    def _scaled(self, seconds: float) -> float:
        return max(0.0, seconds * self.scale)
