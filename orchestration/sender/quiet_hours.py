"""Quiet hours in the recipient's local time (pure): the sending window, the recipient's zone, and the first instant
a message to them may be sent (now inside the window, else the window's next opening, never earlier)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from orchestration.errors import UserError

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
# Florida's and Oklahoma's telephone solicitation laws allow 08:00-20:00 local time only.
STRICT_STATE_AREA_CODES = frozenset({
    "239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689", "727", "728", "754", "772",
    "786", "813", "850", "863", "904", "941", "954",  # Florida
    "405", "539", "572", "580", "918",  # Oklahoma
})


@dataclass(frozen=True)
class Window:
    """The local wall-clock hours a message may be sent: from `start` (inclusive) to `end` (exclusive)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{'24:00' if self.end == time.max else f'{self.end:%H:%M}'}"

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


DEFAULT_WINDOW = Window(time(8), time(21))  # the US TCPA window
STRICT_STATE_WINDOW = Window(time(8), time(20))


def parse_window(text: str) -> Window:
    """`08:00-21:00` as a Window (the end may be 24:00), or a UserError; an empty or overnight window is refused."""
    match = _WINDOW.match(text.strip())
    if match is None:
        raise UserError(f"Quiet hours take the sending window as HH:MM-HH:MM (such as 08:00-21:00), not {text!r}.")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if end_h == 24 and end_m:
        raise UserError(f"{text!r} ends after 24:00.")
    start = time(start_h, start_m)
    end = time.max if end_h == 24 else time(end_h, end_m)
    if end <= start:
        raise UserError(f"The sending window {text!r} must end after it starts, on the same day.")
    return Window(start, end)


def is_strict_state_number(phone_e164: str) -> bool:
    """Whether the number's area code is in Florida or Oklahoma (+1 numbers only)."""
    return phone_e164.startswith("+1") and phone_e164[2:5] in STRICT_STATE_AREA_CODES


def window_for(phone_e164: str, base: Window, state_rules: bool) -> Window:
    """The window for this number: the base one, narrowed to 08:00-20:00 for Florida and Oklahoma under state
    rules (the stricter of the two at each end)."""
    if not state_rules or not is_strict_state_number(phone_e164):
        return base
    return strict_state_window(base)


def strict_state_window(base: Window) -> Window:
    """`base` narrowed to Florida's and Oklahoma's 08:00-20:00 (the stricter of the two at each end)."""
    return Window(max(base.start, STRICT_STATE_WINDOW.start), min(base.end, STRICT_STATE_WINDOW.end))


@lru_cache(maxsize=4096)
def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=200_000)
def number_zones(phone_e164: str) -> tuple[str, ...]:
    """The zones `phonenumbers` gives the number (several for a region that spans zones; () when unknown)."""
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(phone_e164))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(zone for zone in zones if _zone(zone) is not None)


def own_zone(client_timezone: str | None, phone_e164: str) -> str | None:
    """The zone a recipient carries from the freeze: the anchor appointment's client timezone when Booknetic stored
    a valid one, else the number's zone when it names exactly one; None: the tenant's zone decides at send time."""
    if _zone(client_timezone) is not None:
        return client_timezone
    return single_zone(number_zones(phone_e164))


def single_zone(zones: tuple[str, ...]) -> str | None:
    """The number's zone when its zones (`number_zones`) name exactly one, else None."""
    return zones[0] if len(zones) == 1 else None


def own_zone_of(client_timezone: str | None, number_zone: str | None) -> str | None:
    """`own_zone` of a recipient whose number's single zone is known already (the sync stores every number's zones,
    customers.phone_zones; None when it has none or several)."""
    return client_timezone if _zone(client_timezone) is not None else number_zone


def recipient_zones(stored: str | None, phone_e164: str, tenant_zone: str | None) -> tuple[ZoneInfo, ...]:
    """The zones whose wall clock a message to this recipient must respect: its own (`own_zone`), else the
    tenant's; for a tenant without a zone, every zone the number may be in (it is sent only when all are open)."""
    for name in (stored, tenant_zone):
        if (zone := _zone(name)) is not None:
            return (zone,)
    return _every_zone(number_zones(phone_e164))


def respected_zones(own: str | None, zones: tuple[str, ...], tenant_zone: str | None) -> tuple[ZoneInfo, ...]:
    """`recipient_zones` of a recipient whose own zone and number's zones (`number_zones`, or as the sync stored
    them) are known already."""
    for name in (own, tenant_zone):
        if (zone := _zone(name)) is not None:
            return (zone,)
    return _every_zone(zones)


def _every_zone(names: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    return tuple(zone for zone in map(_zone, names) if zone is not None) or (_zone("UTC"),)


def recipient_zone(client_timezone: str | None, phone_e164: str, tenant_zone: str) -> ZoneInfo:
    """The recipient's zone: the anchor appointment's client timezone when Booknetic stored a valid one, else the
    phone number's zone when it names exactly one, else the tenant's zone."""
    found = _zone(own_zone(client_timezone, phone_e164))
    if found is not None:
        return found
    tenant = _zone(tenant_zone)
    if tenant is None:
        raise ValueError(f"unknown tenant time zone {tenant_zone!r}")
    return tenant


def opening_in_all(now: float, zones: tuple[ZoneInfo, ...], window: Window) -> float:
    """`next_opening` for a recipient whose zone is one of several: the first instant the window is open in all of
    them (the latest of their openings when the windows never overlap)."""
    moment = now
    for _ in range(2 * len(zones) + 2):
        openings = [next_opening(moment, zone, window) for zone in zones]
        if all(opening == moment for opening in openings):
            return moment
        moment = max(openings)
    return moment


def next_opening(now: float, zone: ZoneInfo, window: Window) -> float:
    """`now` when it is inside the window in that zone, else the window's next opening there (Unix seconds). DST
    is honoured: an opening is the first instant the local wall clock shows the window's start (the end of the gap
    when that time is skipped by a spring-forward change)."""
    local = datetime.fromtimestamp(now, zone)
    if window.contains(local.time()):
        return now
    day = local.date() if local.time() < window.start else local.date() + timedelta(days=1)
    return _first_instant_showing(datetime.combine(day, window.start), zone)


def _first_instant_showing(wall: datetime, zone: ZoneInfo) -> float:
    """The first instant whose local wall clock in `zone` shows `wall` or later: the first of two on a fall-back
    night, the end of the gap when `wall` does not exist (spring forward)."""
    early, late = sorted((wall.replace(tzinfo=zone).timestamp(), wall.replace(tzinfo=zone, fold=1).timestamp()))
    if datetime.fromtimestamp(early, zone).replace(tzinfo=None) == wall:
        return early
    low, high = int(early), int(late)  # local(low) is before `wall` (before the gap), local(high) after it
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return float(high)
