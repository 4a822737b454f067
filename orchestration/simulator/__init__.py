"""A Twilio-compatible Messages API for the demo, the tests and the benchmarks (see `server.py`, `faults.py`,
`lifecycle.py`, `webhooks.py`)."""

from orchestration.simulator.faults import DEFAULT_SERVICE_NUMBER, DEFAULT_SUFFIX_ERRORS, DELIVERY_ERRORS, Faults
from orchestration.simulator.lifecycle import Clock, ManualClock, default_throughput
from orchestration.simulator.server import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, Simulator

__all__ = [
    "DEFAULT_SERVICE_NUMBER", "DEFAULT_SUFFIX_ERRORS", "DELIVERY_ERRORS", "DEMO_ACCOUNT_SID", "DEMO_AUTH_TOKEN",
    "DEMO_FROM", "Clock", "Faults", "ManualClock", "Simulator", "default_throughput",
]
