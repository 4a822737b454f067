"""What can go wrong in the simulator: Twilio's error catalogue and the fault-injection settings.

Errors by destination suffix (default table, configurable): the last digits of `To` pick a Twilio error.

| To ends in | code  | HTTP | meaning (real Twilio reports it...)                          |
|------------|-------|------|--------------------------------------------------------------|
| 0011       | 21211 | 400  | invalid 'To' number (synchronously)                          |
| 0012       | 21612 | 400  | 'To' not reachable via SMS (synchronously)                   |
| 0014       | 21614 | 400  | 'To' is not a mobile number / landline (synchronously)       |
| 0021       | 21610 | 400  | recipient replied STOP (synchronously)                       |
| 0408       | 21408 | 400  | region not enabled on the account (synchronously)            |
| 0606       | 21606 | 400  | 'From' cannot send to this destination (synchronously)       |
| 0003       | 30003 | 400  | unreachable handset (asynchronously: a delivery failure)     |
| 0005       | 30005 | 400  | unknown handset (asynchronously)                             |
| 0006       | 30006 | 400  | landline or unreachable carrier (asynchronously)             |
| 0008       | 30008 | 400  | unknown error (asynchronously)                               |
| 0034       | 30034 | 400  | unregistered US A2P 10DLC sender (asynchronously)            |

Real Twilio answers 21xxx at create and reports 300xx later as a failed/undelivered status. The simulator
answers every one of them synchronously at create (HTTP 400 with the code), for simplicity: the sender sees
the same code either way. Rate-based error codes may also be HTTP statuses 500/503 (answered as 20500/20503).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

# code -> (HTTP status, Twilio's message)
TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter"),
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21212: (400, "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID."),
    21408: (400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio phone number "
                 "for this destination."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (400, "The 'To' phone number is not currently reachable via SMS"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    30001: (400, "Queue overflow"),
    30003: (400, "Unreachable destination handset"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
    30007: (400, "Message filtered"),
    30008: (400, "Unknown error"),
    30034: (400, "US A2P 10DLC - Message from an Unregistered Number"),
}
HTTP_STATUS_CODES = {500: 20500, 503: 20503}

DEFAULT_SUFFIX_ERRORS: dict[str, int] = {
    "0011": 21211,
    "0012": 21612,
    "0014": 21614,
    "0021": 21610,
    "0408": 21408,
    "0606": 21606,
    "0003": 30003,
    "0005": 30005,
    "0006": 30006,
    "0008": 30008,
    "0034": 30034,
}


def twilio_code(code: int) -> int:
    """A Twilio error code for `code`, which may also be an HTTP status (500 -> 20500)."""
    code = HTTP_STATUS_CODES.get(code, code)
    if code not in TWILIO_ERRORS:
        raise ValueError(f"unknown Twilio error code {code} (known: {', '.join(map(str, sorted(TWILIO_ERRORS)))})")
    return code


def error_body(code: int, message: str | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, Twilio's JSON error body) for a code."""
    status, default = TWILIO_ERRORS[code]
    return status, {
        "code": code,
        "message": message or default,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass(frozen=True)
class Faults:
    """Fault injection. Rates are fractions of creates; one seeded draw per create picks 429, slow, or an error."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    suffix_errors: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SUFFIX_ERRORS))
    rate_429: float = 0.0
    retry_after_s: int = 1
    slow_rate: float = 0.0
    slow_s: float = 30.0
    rate_limit_per_sender: float | None = None

    def __post_init__(self) -> None:
        rates = {twilio_code(int(code)): float(rate) for code, rate in self.error_rates.items()}
        object.__setattr__(self, "error_rates", rates)
        object.__setattr__(self, "suffix_errors", {str(s): twilio_code(int(c)) for s, c in self.suffix_errors.items()})
        total = sum(rates.values()) + self.rate_429 + self.slow_rate
        if any(r < 0 for r in rates.values()) or self.rate_429 < 0 or self.slow_rate < 0 or total > 1:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        if self.rate_limit_per_sender is not None and self.rate_limit_per_sender <= 0:
            raise ValueError("rate_limit_per_sender must be positive")

    def changed(self, changes: dict[str, Any]) -> Faults:
        """A copy with some settings changed (unknown names are a ValueError)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(code): rate for code, rate in self.error_rates.items()}
        return data

    def suffix_error(self, to: str) -> int | None:
        """The error the suffix table assigns to a destination, longest suffix first."""
        for suffix in sorted(self.suffix_errors, key=len, reverse=True):
            if to.endswith(suffix):
                return self.suffix_errors[suffix]
        return None
