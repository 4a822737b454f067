"""A Twilio-compatible Messages API for the demo, the tests and the benchmarks (see `server.py`, `faults.py`)."""

from orchestration.simulator.faults import DEFAULT_SUFFIX_ERRORS, Faults
from orchestration.simulator.server import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, Simulator

__all__ = ["DEFAULT_SUFFIX_ERRORS", "DEMO_ACCOUNT_SID", "DEMO_AUTH_TOKEN", "DEMO_FROM", "Faults", "Simulator"]
