"""The message lifecycle, lazily: each message gets its scheduled instants at create, its status is read off the clock.

A sender (the From number, or the Messaging Service SID) drains its own FIFO queue at its throughput in message
segments per second (Twilio's defaults by sender type, `Faults.sender_throughput` per sender). When its turn comes a
message is `sending` for segments/throughput seconds, then `sent` (`date_sent` set), then `delivery_delay_s` later
`delivered` or, with a delivery error, `undelivered`. A `failed` message (30034, 30001) fails at its turn and is
never sent. In fast mode every turn is immediate. Nothing runs in the background for this: `render()` computes what
Twilio would show at a given instant.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from orchestration.simulator.faults import DELIVERY_ERRORS, TWILIO_ERRORS, Faults

LONG_CODE_MPS = 1.0
TOLL_FREE_MPS = 3.0
SHORT_CODE_MPS = 100.0
ALPHANUMERIC_MPS = 10.0
MESSAGING_SERVICE_MPS = 10.0
INTERNATIONAL_LONG_CODE_MPS = 10.0
TOLL_FREE = re.compile(r"^\+1(800|833|844|855|866|877|888)\d{7}$")
PRICE_PER_SEGMENT = "0.00790"


class Clock:
    """Wall-clock seconds since the epoch that never go backwards: a wall instant at start plus monotonic time."""

    def __init__(self) -> None:
        self._wall = time.time()
        self._mono = time.monotonic()

    def now(self) -> float:
        return self._wall + (time.monotonic() - self._mono)


class ManualClock(Clock):
    """A clock the tests move by hand (`advance`)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def rfc2822(instant: float | datetime) -> str:
    """Twilio's date format: RFC 2822, whole seconds, +0000."""
    if not isinstance(instant, datetime):
        instant = datetime.fromtimestamp(int(instant), UTC)
    return format_datetime(instant.astimezone(UTC).replace(microsecond=0)).replace("-0000", "+0000")


def default_throughput(sender: str) -> float:
    """Twilio's default segments/s for a sender: long code 1, toll-free 3, short code 100, alphanumeric 10,
    Messaging Service 10, other countries' long codes 10."""
    if sender.startswith("MG"):
        return MESSAGING_SERVICE_MPS
    if re.fullmatch(r"\d{5,6}", sender):
        return SHORT_CODE_MPS
    if TOLL_FREE.match(sender):
        return TOLL_FREE_MPS
    if sender.startswith("+1"):
        return LONG_CODE_MPS
    if sender.startswith("+"):
        return INTERNATIONAL_LONG_CODE_MPS
    return ALPHANUMERIC_MPS


def throughput(faults: Faults, sender: str) -> float:
    return faults.sender_throughput.get(sender) or default_throughput(sender)


@dataclass(frozen=True)
class Schedule:
    """The instants of one outbound message (epoch seconds). `sent` is None for a message that fails unsent."""

    created: float
    sending: float
    sent: float | None
    final: float
    final_status: str  # delivered | undelivered | failed
    error_code: int | None
    sender_number: str | None  # the number it goes out from (a Messaging Service's pool number)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        return cls(**data)

    def events(self, service: bool) -> list[tuple[float, str]]:
        """(instant, status) of each change Twilio posts to a StatusCallback (never the initial status)."""
        changes = [(self.sending, "queued")] if service else []
        if self.sent is not None:
            changes.append((self.sent, "sent"))
        changes.append((self.final, self.final_status))
        return changes


class SenderQueues:
    """When each sender is next free: its queue's end. Booking a message moves it by segments / throughput."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free_at: dict[str, float] = {}

    def backlog_s(self, sender: str, now: float) -> float:
        with self._lock:
            return max(0.0, self._free_at.get(sender, now) - now)

    def book(self, sender: str, now: float, seconds: float) -> float:
        """Reserve `seconds` of the sender after what is queued; returns when the message's turn starts."""
        with self._lock:
            start = max(now, self._free_at.get(sender, now))
            self._free_at[sender] = start + seconds
            return start

    def restore(self, sender: str, free_at: float) -> None:
        with self._lock:
            self._free_at[sender] = max(free_at, self._free_at.get(sender, 0.0))

    def clear(self) -> None:
        with self._lock:
            self._free_at.clear()


def plan(
    faults: Faults, queues: SenderQueues, sender: str, now: float, segments: int, error_code: int | None,
    sender_number: str | None,
) -> Schedule:
    """Book a message on its sender's queue and derive every instant of its life."""
    if faults.mode == "fast":
        sending = sent = now
    else:
        duration = segments / throughput(faults, sender)
        sending = queues.book(sender, now, duration)
        sent = sending + duration
    final_status = DELIVERY_ERRORS.get(error_code, "delivered") if error_code else "delivered"
    if final_status == "failed":
        return Schedule(now, sending, None, sending, "failed", error_code, sender_number)
    return Schedule(now, sending, sent, sent + faults.effective_delivery_delay_s, final_status, error_code,
                    sender_number)


def status_at(schedule: Schedule, service: bool, now: float) -> str:
    if now < schedule.sending:
        return "accepted" if service else "queued"
    if now >= schedule.final:
        return schedule.final_status
    if schedule.sent is None or now < schedule.sent:
        return "sending"
    return "sent"


def render(message: dict[str, Any], schedule: Schedule | None, now: float) -> dict[str, Any]:
    """The message JSON as Twilio shows it at `now` (status, date_sent, from, error_code, price, date_updated)."""
    if schedule is None:
        return dict(message)
    service = bool(message.get("messaging_service_sid"))
    status = status_at(schedule, service, now)
    shown = dict(message)
    shown["status"] = status
    changed = schedule.created
    if status not in ("queued", "accepted"):
        shown["from"] = schedule.sender_number or message["from"]
        changed = schedule.sending
    if schedule.sent is not None and now >= schedule.sent:
        shown["date_sent"] = rfc2822(schedule.sent)
        price = float(PRICE_PER_SEGMENT) * int(message.get("num_segments") or 1)
        shown["price"] = f"-{price:.5f}"
        changed = schedule.sent
    if status in ("delivered", "undelivered", "failed"):
        changed = schedule.final
        if schedule.error_code:
            shown["error_code"] = schedule.error_code
            shown["error_message"] = TWILIO_ERRORS[schedule.error_code][1]
    shown["date_updated"] = rfc2822(changed)
    return shown
