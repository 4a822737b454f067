"""Scheduled sends: the send time (ISO 8601 with an offset, or in the tenant's zone), the max lateness, and whether a
queued campaign is early, due or missed at a given instant (pure functions; the ledger part is in campaigns.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.errors import UserError

DEFAULT_MAX_LATENESS_S = 2 * 3600.0  # a schedule missed by more than this is not sent (listmonk sends stale ones)
FREEZE_AT = ("send", "schedule")  # the audience is frozen at the send time (default) or when it is scheduled
_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_LATENESS = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@dataclass(frozen=True)
class Schedule:
    """When a campaign is sent: `send_at` (Unix seconds), how late it may still start (None: however late), and
    when its audience is frozen."""

    send_at: float
    max_lateness_s: float | None = DEFAULT_MAX_LATENESS_S
    freeze_at: str = "send"

    def __post_init__(self) -> None:
        if self.freeze_at not in FREEZE_AT:
            raise UserError(f"--freeze-at takes {' or '.join(FREEZE_AT)}, not {self.freeze_at!r}.")


def zone_of(name: str | None) -> ZoneInfo | None:
    """The IANA zone of that name (None for None), or a UserError naming it."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"Unknown time zone {name!r}: use an IANA name such as America/New_York or Europe/Berlin.") \
            from None


def parse_send_at(text: str, tenant_zone: str | None) -> float:
    """Unix seconds of an ISO 8601 instant; one without an offset is read in the tenant's zone, and refused when the
    tenant has none."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--send-at must be an ISO 8601 time such as 2026-12-02T10:00:00-05:00, not {text!r}.") \
            from None
    if moment.tzinfo is None:
        zone = zone_of(tenant_zone)
        if zone is None:
            raise UserError(
                f"--send-at {text} has no UTC offset and the tenant has no time zone: add the offset "
                f"({text}-05:00, or {text}Z for UTC) or set the tenant's zone with "
                "`bkntc-sms tenant settings --tenant T --timezone America/New_York`."
            )
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def parse_lateness(text: str) -> float | None:
    """Seconds of a lateness such as 2h, 90m, 1h30m, 1d or 45s; `off` is None (always send, however late)."""
    value = text.strip().lower()
    if value == "off":
        return None
    match = _LATENESS.match(value)
    if not value or match is None:
        raise UserError(f"--max-lateness takes a duration such as 2h, 90m or 1h30m, or off; not {text!r}.")
    return float(sum(int(part) * seconds for part, seconds in zip(match.groups(), _UNITS.values(), strict=True)
                     if part))


def format_lateness(seconds: float | None) -> str:
    """2h, 1h30m, 45s ... ('off' for None): the form parse_lateness reads."""
    if seconds is None:
        return "off"
    left, parts = int(round(seconds)), []
    for unit, size in _UNITS.items():
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


def format_instant(timestamp: float, zone_name: str | None = None) -> str:
    """`2026-12-02 10:00 EST` in the tenant's zone when it has one, else `2026-12-02 15:00 UTC`."""
    zone = zone_of(zone_name) or UTC
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M %Z")


def verdict(send_at: float, max_lateness_s: float | None, now: float) -> str:
    """`early` before the send time, `due` from it until it is later than the max lateness, then `missed`."""
    if now < send_at:
        return "early"
    if max_lateness_s is not None and now > send_at + max_lateness_s:
        return "missed"
    return "due"


def missed_reason(send_at: float, max_lateness_s: float | None, now: float, zone_name: str | None = None) -> str:
    """Why a campaign was not sent: `missed_schedule: scheduled ..., checked ..., max lateness 2h`."""
    return (f"missed_schedule: scheduled {format_instant(send_at, zone_name)}, checked "
            f"{format_instant(now, zone_name)}, max lateness {format_lateness(max_lateness_s)}")
