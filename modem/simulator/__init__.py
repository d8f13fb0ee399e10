"""A GSM modem simulator on pseudo-terminals, so the gateway runs and is measured without hardware.

Production code opens the port paths like any serial device and cannot tell the difference.
"""

from modem.simulator.families import FAMILIES, SimFamily
from modem.simulator.fault_flags import FAULT_FLAGS, apply_fault, apply_faults
from modem.simulator.faults import Garbage
from modem.simulator.modem import SimulatedModem
from modem.simulator.network import SimNetwork
from modem.simulator.phone import PhoneMessage, SimPhone
from modem.simulator.simulator import Simulator, run_simulator

__all__ = [
    "FAMILIES",
    "FAULT_FLAGS",
    "Garbage",
    "PhoneMessage",
    "SimFamily",
    "SimNetwork",
    "SimPhone",
    "SimulatedModem",
    "Simulator",
    "apply_fault",
    "apply_faults",
    "run_simulator",
]
