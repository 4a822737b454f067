"""What can go wrong in the simulator: Twilio's error catalogue and the fault-injection settings.

Errors by destination suffix (default table, configurable): the last digits of `To` pick a Twilio error. As on
the real Twilio, 21xxx codes are answered synchronously (HTTP 400 at create, nothing is created), while 30xxx
delivery errors never appear at create: the message is created (201, `queued`) and later ends `undelivered` or
`failed` with that `error_code` (when its turn at the sender comes, see `lifecycle.py`).

| To ends in | code  | when                         | meaning                                                    |
|------------|-------|------------------------------|------------------------------------------------------------|
| 0011       | 21211 | at create: HTTP 400          | invalid 'To' number                                        |
| 0012       | 21612 | at create: HTTP 400          | 'To' not reachable via SMS                                 |
| 0014       | 21614 | at create: HTTP 400          | 'To' is not a mobile number                                |
| 0021       | 21610 | at create: HTTP 400          | recipient replied STOP                                     |
| 0408       | 21408 | at create: HTTP 400          | region not enabled on the account                          |
| 0606       | 21606 | at create: HTTP 400          | 'From' cannot send to this destination                     |
| 0003       | 30003 | later: status `undelivered`  | unreachable destination handset                            |
| 0005       | 30005 | later: status `undelivered`  | unknown destination handset                                |
| 0006       | 30006 | later: status `undelivered`  | landline or unreachable carrier                            |
| 0007       | 30007 | later: status `undelivered`  | message filtered by the carrier                            |
| 0008       | 30008 | later: status `undelivered`  | unknown error                                              |
| 0034       | 30034 | later: status `failed`       | unregistered US A2P 10DLC sender (blocked, never sent)     |

Rate-based error codes may also be HTTP statuses 500/502/503 (answered as 20500/20502/20503; a 502 has a load
balancer's HTML body, not Twilio's JSON). A 30xxx code in `error_rates` behaves like the suffix table: the message
is created and fails later with that code.
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
    20502: (502, "Bad Gateway"),
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
    21611: (400, "This 'From' number has exceeded the maximum number of queued messages"),
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
HTTP_STATUS_CODES = {500: 20500, 502: 20502, 503: 20503}
AFTER_CREATE_STATUSES = (500, 502, 503)

# Delivery errors: reported later as the message's final status, never at create (Twilio's error pages).
DELIVERY_ERRORS: dict[int, str] = {
    30001: "failed",  # a Messaging Service's sender queue overflowed (after creation, per error 21611's page)
    30003: "undelivered",
    30005: "undelivered",
    30006: "undelivered",
    30007: "undelivered",
    30008: "undelivered",
    30034: "failed",
}

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
    "0007": 30007,
    "0008": 30008,
    "0034": 30034,
}

MODES = ("fast", "realistic")
RETRY_AFTER_FORMS = ("seconds", "http-date", "none")
REALISTIC_LIST_LAG_S = 1.0
REALISTIC_DELIVERY_DELAY_S = 2.0
DEFAULT_SERVICE_NUMBER = "+15017122661"  # the number a Messaging Service sends from when no pool is configured


def twilio_code(code: int) -> int:
    """A Twilio error code for `code`, which may also be an HTTP status (500 -> 20500)."""
    code = HTTP_STATUS_CODES.get(code, code)
    if code not in TWILIO_ERRORS:
        raise ValueError(f"unknown Twilio error code {code} (known: {', '.join(map(str, sorted(TWILIO_ERRORS)))})")
    return code


def is_delivery_error(code: int) -> bool:
    return code in DELIVERY_ERRORS


def error_body(code: int, message: str | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, Twilio's JSON error body) for a code."""
    status, default = TWILIO_ERRORS[code]
    return status, {
        "code": code,
        "message": message or default,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a fraction between 0 and 1")
    return value


@dataclass(frozen=True)
class Faults:
    """Fault injection and the lifecycle model. Rates are fractions; one seeded draw per create picks at most one
    of: 429, slow, an error before creating (`error_rates`), an error after creating (`error_after_create_rates`)
    or a dropped connection after creating (`drop_after_create_rate`); their sum is at most 1."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rates: dict[int, float] = field(default_factory=dict)
    suffix_errors: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SUFFIX_ERRORS))
    rate_429: float = 0.0
    retry_after_s: int = 1
    slow_rate: float = 0.0
    slow_s: float = 30.0
    rate_limit_per_sender: float | None = None
    # --- lifecycle -----------------------------------------------------------------------------------------
    mode: str = "fast"
    sender_throughput: dict[str, float] = field(default_factory=dict)
    list_lag_s: float | None = None  # None: 0 in fast mode, 1.0 in realistic mode
    delivery_delay_s: float | None = None  # None: 0 in fast mode, 2.0 in realistic mode
    queue_limit_s: float = 36_000.0
    service_numbers: dict[str, list[str]] = field(default_factory=dict)
    # --- more faults ---------------------------------------------------------------------------------------
    error_after_create_rates: dict[int, float] = field(default_factory=dict)
    drop_after_create_rate: float = 0.0
    retry_after_form: str = "seconds"
    list_error_rate: float = 0.0
    # --- webhooks ------------------------------------------------------------------------------------------
    callback_duplicate_rate: float = 0.0
    callback_reorder_rate: float = 0.0
    callback_retries: int = 3
    callback_retry_backoff_s: float = 0.5
    callback_timeout_s: float = 5.0
    incoming_urls: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rates = {twilio_code(int(code)): _fraction("error_rates", rate) for code, rate in self.error_rates.items()}
        object.__setattr__(self, "error_rates", rates)
        object.__setattr__(self, "suffix_errors", {str(s): twilio_code(int(c)) for s, c in self.suffix_errors.items()})
        after: dict[int, float] = {}
        for code, rate in self.error_after_create_rates.items():
            status = int(code)
            status = next((s for s, c in HTTP_STATUS_CODES.items() if c == status), status)  # 20500 -> 500
            if status not in AFTER_CREATE_STATUSES:
                raise ValueError("error_after_create_rates takes HTTP statuses 500, 502 or 503")
            after[status] = _fraction("error_after_create_rates", rate)
        object.__setattr__(self, "error_after_create_rates", after)
        for name in ("rate_429", "slow_rate", "drop_after_create_rate", "list_error_rate",
                     "callback_duplicate_rate", "callback_reorder_rate"):
            object.__setattr__(self, name, _fraction(name, getattr(self, name)))
        total = (sum(rates.values()) + sum(after.values()) + self.rate_429 + self.slow_rate
                 + self.drop_after_create_rate)
        if total > 1 + 1e-9:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        if self.rate_limit_per_sender is not None and self.rate_limit_per_sender <= 0:
            raise ValueError("rate_limit_per_sender must be positive")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if self.retry_after_form not in RETRY_AFTER_FORMS:
            raise ValueError(f"retry_after_form must be one of {', '.join(RETRY_AFTER_FORMS)}")
        throughput = {str(s): float(r) for s, r in self.sender_throughput.items()}
        if any(r <= 0 for r in throughput.values()):
            raise ValueError("sender_throughput rates must be positive")
        object.__setattr__(self, "sender_throughput", throughput)
        for name in ("list_lag_s", "delivery_delay_s"):
            value = getattr(self, name)
            if value is not None and float(value) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.queue_limit_s <= 0:
            raise ValueError("queue_limit_s must be positive")
        if self.callback_retries < 0 or self.callback_retry_backoff_s < 0 or self.callback_timeout_s <= 0:
            raise ValueError("callback_retries and callback_retry_backoff_s must be >= 0, callback_timeout_s > 0")
        pools = {str(s): [str(n) for n in ([numbers] if isinstance(numbers, str) else numbers)]
                 for s, numbers in self.service_numbers.items()}
        if any(not numbers for numbers in pools.values()):
            raise ValueError("service_numbers: every Messaging Service needs at least one number")
        object.__setattr__(self, "service_numbers", pools)
        object.__setattr__(self, "incoming_urls", {str(s): str(u) for s, u in self.incoming_urls.items()})

    @classmethod
    def realistic(cls, **overrides: Any) -> Faults:
        """The realistic preset: per-sender throughput, a list lag of 1 s and a delivery delay of 2 s."""
        settings: dict[str, Any] = {"mode": "realistic", "list_lag_s": REALISTIC_LIST_LAG_S,
                                    "delivery_delay_s": REALISTIC_DELIVERY_DELAY_S}
        return cls(**(settings | overrides))

    @property
    def effective_list_lag_s(self) -> float:
        if self.list_lag_s is not None:
            return float(self.list_lag_s)
        return REALISTIC_LIST_LAG_S if self.mode == "realistic" else 0.0

    @property
    def effective_delivery_delay_s(self) -> float:
        if self.delivery_delay_s is not None:
            return float(self.delivery_delay_s)
        return REALISTIC_DELIVERY_DELAY_S if self.mode == "realistic" else 0.0

    def pool(self, service_sid: str) -> list[str]:
        """The numbers a Messaging Service sends from."""
        return self.service_numbers.get(service_sid) or [DEFAULT_SERVICE_NUMBER]

    def services_of(self, number: str) -> list[str]:
        """The Messaging Services whose pool holds this number."""
        return [sid for sid, numbers in self.service_numbers.items() if number in numbers]

    def changed(self, changes: dict[str, Any]) -> Faults:
        """A copy with some settings changed (unknown names are a ValueError)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(code): rate for code, rate in self.error_rates.items()}
        data["error_after_create_rates"] = {str(code): rate for code, rate in self.error_after_create_rates.items()}
        return data

    def suffix_error(self, to: str) -> int | None:
        """The error the suffix table assigns to a destination, longest suffix first."""
        for suffix in sorted(self.suffix_errors, key=len, reverse=True):
            if to.endswith(suffix):
                return self.suffix_errors[suffix]
        return None
