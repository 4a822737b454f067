"""What the sender does about a failed send, by Twilio error code: throttle, retry, fail, suppress, or pause.

One table, with each code's meaning, decides it (ARCHITECTURE.md, "Retries"):
- THROTTLE: Twilio or the sender is over its limit (20429/429, 21611, 30001). Nothing was created; the sender as a
  whole backs off (honouring Retry-After) and the recipient's attempts are not consumed.
- RETRY: transient. A network error or any 5xx is also AMBIGUOUS (Twilio may have created the message before it
  failed to answer): the recipient is looked up in Twilio's message list before any resend.
- FAIL: this recipient cannot get the message (bad or unreachable number).
- SUPPRESS: the recipient opted out (21610): suppressed for every later send of the tenant.
- PAUSE: the tenant's account or sender is set up wrongly; every further send would fail the same way, so the
  campaign pauses with the code's meaning and no recipient is failed for it.
Delivery errors (a later `undelivered`/`failed` status) have their own rules in DELIVERY_CODES, with the same
meanings: pause (30034), pause past a share (30007), re-send later (30003, 30008), undeliverable (30005, 30006).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.gateway.gateway import SendResult


class Action(StrEnum):
    THROTTLE = "throttle"  # the sender waits; the recipient keeps its attempts
    RETRY = "retry"  # transient: back off and send again (after a lookup when the outcome was ambiguous)
    FAIL = "fail"  # this recipient cannot get the message: give up on them
    SUPPRESS = "suppress"  # the recipient opted out: add to the suppression list, never send again
    PAUSE = "pause"  # account/sender configuration problem: pause the campaign for a person


# code -> (action, what it means, in words a person can act on)
ERROR_CODES: dict[int, tuple[Action, str]] = {
    20003: (Action.PAUSE, "Authentication failed: the Account SID or auth token is wrong"),
    20005: (Action.PAUSE, "The Twilio account is not active"),
    20404: (Action.PAUSE, "Twilio does not know this resource: check the Account SID, Messaging Service and API URL"),
    20429: (Action.THROTTLE, "Too many requests: Twilio asks the sender to slow down"),
    21211: (Action.FAIL, "The 'To' number is not a valid phone number"),
    21212: (Action.PAUSE, "The 'From' number is not a valid phone number, short code or alphanumeric sender ID"),
    21408: (Action.PAUSE, "Sending to this region is not enabled on the account (Geo Permissions)"),
    21603: (Action.PAUSE, "No 'From' number or Messaging Service is set"),
    21606: (Action.PAUSE, "The 'From' number cannot send SMS to this destination"),
    21608: (Action.PAUSE, "A trial account can only send to verified numbers: upgrade the account"),
    21610: (Action.SUPPRESS, "The recipient replied STOP (unsubscribed)"),
    21611: (Action.THROTTLE, "The sender's queue at Twilio is full (about 10 hours of its throughput)"),
    21612: (Action.FAIL, "The 'To' number is not reachable by SMS"),
    21614: (Action.FAIL, "The 'To' number is not a mobile number"),
    21617: (Action.FAIL, "The message is longer than 1,600 characters"),
    21659: (Action.PAUSE, "The 'From' number is not a Twilio number of this account"),
    21660: (Action.PAUSE, "The 'From' number does not belong to this account"),
    21701: (Action.PAUSE, "The Messaging Service does not exist"),
    21703: (Action.PAUSE, "The Messaging Service has no phone numbers in its sender pool"),
    21704: (Action.PAUSE, "The Messaging Service's sender pool has no number for this destination"),
    21705: (Action.PAUSE, "The Messaging Service is not valid"),
    30001: (Action.THROTTLE, "Queue overflow: the sender's queue is full"),
    30002: (Action.PAUSE, "The Twilio account is suspended"),
    30003: (Action.RETRY, "Unreachable destination handset"),
    30004: (Action.FAIL, "The message was blocked by the recipient or their carrier"),
    30005: (Action.FAIL, "Unknown destination handset (the number does not exist)"),
    30006: (Action.FAIL, "Landline or unreachable carrier"),
    30007: (Action.FAIL, "Filtered by the carrier as spam"),
    30008: (Action.RETRY, "Unknown delivery error"),
    30032: (Action.PAUSE, "The toll-free number is not verified"),
    30034: (Action.PAUSE, "US A2P 10DLC: the sender is not registered to a campaign"),
}
CODES_BY_ACTION: dict[Action, frozenset[int]] = {
    action: frozenset(code for code, (of, _) in ERROR_CODES.items() if of is action) for action in Action
}
THROTTLE_CODES = CODES_BY_ACTION[Action.THROTTLE]
RETRY_CODES = CODES_BY_ACTION[Action.RETRY]
FAIL_CODES = CODES_BY_ACTION[Action.FAIL]
SUPPRESS_CODES = CODES_BY_ACTION[Action.SUPPRESS]
PAUSE_CODES = CODES_BY_ACTION[Action.PAUSE]


class DeliveryAction(StrEnum):
    """What a delivery error (a final `undelivered`/`failed` status with this code) does, after the send."""

    PAUSE = "pause"  # the sender cannot deliver anything (30034): pause the campaign with the reason
    PAUSE_ON_SHARE = "pause_on_share"  # carrier filtering (30007): pause once its share of final outcomes is high
    RESEND = "resend"  # maybe transient (30003, 30008): may be sent again later, capped (off by default)
    UNDELIVERABLE = "undeliverable"  # the number cannot get SMS (30005, 30006): excluded from the tenant's sends


# Delivery error codes -> what they do; their meanings are ERROR_CODES' (one table of meanings for everything).
DELIVERY_CODES: dict[int, DeliveryAction] = {
    30003: DeliveryAction.RESEND,
    30005: DeliveryAction.UNDELIVERABLE,
    30006: DeliveryAction.UNDELIVERABLE,
    30007: DeliveryAction.PAUSE_ON_SHARE,
    30008: DeliveryAction.RESEND,
    30034: DeliveryAction.PAUSE,
}


def delivery_action(error_code: int | None) -> DeliveryAction | None:
    """What a delivery error code does after the send, or None for a code with no rule."""
    return DELIVERY_CODES.get(error_code) if error_code is not None else None


def error_meaning(error_code: int | None) -> str | None:
    """What a Twilio error code means, or None for a code the table does not know."""
    known = ERROR_CODES.get(error_code) if error_code is not None else None
    return known[1] if known else None


def is_ambiguous(http_status: int | None, network: bool = False) -> bool:
    """Whether Twilio may have created the message although the answer was not a 201: no answer, or any 5xx."""
    return network or (http_status is not None and http_status >= 500)


def classify_error(error_code: int | None, http_status: int | None = None, network: bool = False) -> Action:
    """The action for a stored or fresh error: known codes first, then 429 throttle, 5xx retry, 401 pause, 4xx fail."""
    if network:
        return Action.RETRY
    if error_code in ERROR_CODES:
        return ERROR_CODES[error_code][0]
    if http_status == 429:
        return Action.THROTTLE
    if http_status is not None and http_status >= 500:
        return Action.RETRY
    if http_status in (401, 403):
        return Action.PAUSE
    return Action.FAIL


def classify(result: SendResult) -> Action:
    """The action for a failed send (classifying a successful one is a bug)."""
    if result.ok:
        raise ValueError("a successful send has nothing to classify")
    return classify_error(result.error_code, result.http_status, network=result.kind == "network")
