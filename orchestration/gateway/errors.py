"""What the sender does about a failed send, by Twilio error code: retry, fail, suppress, or pause the campaign."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.gateway.gateway import SendResult


class Action(StrEnum):
    RETRY = "retry"  # transient: back off and send again
    FAIL = "fail"  # this recipient cannot get the message: give up on them
    SUPPRESS = "suppress"  # the recipient opted out: add to the suppression list, never send again
    PAUSE = "pause"  # account/config problem: every further send would fail the same way


RETRY_CODES = frozenset({20429, 30001, 30003, 30008})
FAIL_CODES = frozenset({21211, 21612, 21614, 30005, 30006})
SUPPRESS_CODES = frozenset({21610})
PAUSE_CODES = frozenset({20003, 21408, 21606, 30034})


def classify_error(error_code: int | None, http_status: int | None = None, network: bool = False) -> Action:
    """The action for a stored or fresh error: known codes first, then 5xx/429 retry, 401 pause, other 4xx fail."""
    if network:
        return Action.RETRY
    for codes, action in (
        (PAUSE_CODES, Action.PAUSE),
        (SUPPRESS_CODES, Action.SUPPRESS),
        (RETRY_CODES, Action.RETRY),
        (FAIL_CODES, Action.FAIL),
    ):
        if error_code in codes:
            return action
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return Action.RETRY
    if http_status == 401:
        return Action.PAUSE
    return Action.FAIL


def classify(result: SendResult) -> Action:
    """The action for a failed send (classifying a successful one is a bug)."""
    if result.ok:
        raise ValueError("a successful send has nothing to classify")
    return classify_error(result.error_code, result.http_status, network=result.kind == "network")
