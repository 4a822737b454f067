"""Delivery tracking: Twilio's status precedence, polling by SID, the signed callback receiver (status callbacks and
incoming messages), inbound STOP/START opt-outs, and the rules on delivery errors (pause, undeliverable, re-send)."""

from orchestration.delivery.settings import callback_url, set_callback_url, stored_callback_url
from orchestration.delivery.status import (
    DELIVERY_STATUSES,
    FINAL,
    Applied,
    adopt_unmatched,
    apply_status,
    moves_forward,
    normalise,
)

__all__ = [
    "DELIVERY_STATUSES",
    "FINAL",
    "Applied",
    "adopt_unmatched",
    "apply_status",
    "callback_url",
    "moves_forward",
    "normalise",
    "set_callback_url",
    "stored_callback_url",
]
