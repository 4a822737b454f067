"""Claim-time gates: quiet hours in the recipient's local time and the frequency cap across campaigns.

A claimed chunk passes the gates inside the claim's transaction, before any request. A recipient outside its
sending window is deferred to the window's next opening (its `due_at` moves, `deferred_reason` says why): it stays
pending in the ledger, so a pause, a cancel or a crash keeps it, and the run waits for it like for a retry. A
recipient whose number has had its cap of messages (every campaign of the tenant, sent or being sent) is skipped as
`frequency_cap`, or deferred until its oldest counted message leaves the cap's period (campaign setting `on_cap`).
Florida and Oklahoma numbers get 08:00-20:00 and at most 3 messages in 24 h while the tenant's state rules are on.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from orchestration.errors import UserError
from orchestration.sender.quiet_hours import (
    DEFAULT_WINDOW,
    STRICT_STATE_WINDOW,
    Window,
    is_strict_state_number,
    opening_in_all,
    own_zone_of,
    parse_window,
    recipient_zones,
    respected_zones,
    single_zone,
    strict_state_window,
)
from orchestration.sqlfiles import load_sql

ON_CAP = ("skip", "defer")
OFF = "off"
DEFAULT_QUIET_HOURS_ENV = "BKNTC_SMS_DEFAULT_QUIET_HOURS"  # the default window of tenants that set none; off: none
_CAP = re.compile(r"^(\d+)\s*/\s*(\d+)\s*([dh])$")
_UNIT_S = {"d": 86_400, "h": 3_600}


@dataclass(frozen=True)
class FrequencyCap:
    """At most `messages` messages to one number in any `period_s` seconds."""

    messages: int
    period_s: float

    def __str__(self) -> str:
        seconds = int(self.period_s)
        period = f"{seconds // 86_400}d" if seconds % 86_400 == 0 else f"{seconds // 3600}h"
        return f"{self.messages}/{period}"


STRICT_STATE_CAP = FrequencyCap(3, 86_400.0)  # Florida's and Oklahoma's limit: 3 messages per 24 h


def parse_frequency_cap(text: str) -> FrequencyCap | None:
    """`3/7d` (or hours: `2/24h`) as a FrequencyCap; `off` is None; anything else a UserError."""
    value = text.strip().lower()
    if value == OFF:
        return None
    match = _CAP.match(value)
    if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise UserError(f"--frequency-cap takes messages/period such as 3/7d or 2/24h, or off; not {text!r}.")
    return FrequencyCap(int(match.group(1)), float(int(match.group(2)) * _UNIT_S[match.group(3)]))


def parse_quiet_hours(text: str) -> Window | None:
    """A sending window `HH:MM-HH:MM`; `off` is None (any hour, except where state rules say otherwise)."""
    return None if text.strip().lower() == OFF else parse_window(text)


def normalized_quiet_hours(text: str) -> str:
    """The setting as stored: `08:00-21:00` or `off` (a UserError for anything else)."""
    window = parse_quiet_hours(text)
    return OFF if window is None else str(window)


def default_quiet_hours() -> str:
    """The window of a tenant that did not set one: 08:00-21:00, or $BKNTC_SMS_DEFAULT_QUIET_HOURS (`off` also
    turns the state rules off by default: the test suite sends at any hour of the day)."""
    return normalized_quiet_hours(os.environ.get(DEFAULT_QUIET_HOURS_ENV) or str(DEFAULT_WINDOW))


def default_state_rules() -> bool:
    return default_quiet_hours() != OFF


def normalized_frequency_cap(text: str) -> str:
    cap = parse_frequency_cap(text)
    return OFF if cap is None else str(cap)


def check_on_cap(value: str) -> str:
    if value not in ON_CAP:
        raise UserError(f"--on-cap takes {' or '.join(ON_CAP)}, not {value!r}.")
    return value


@dataclass(frozen=True)
class SendRules:
    """What the gates enforce for one campaign: its window (None: any hour), the state rules, the tenant's zone
    (None: not set), the tenant's cap (None: off) and what a capped recipient gets."""

    window: Window | None = DEFAULT_WINDOW
    state_rules: bool = True
    tenant_zone: str | None = None
    cap: FrequencyCap | None = None
    on_cap: str = "skip"

    @classmethod
    def of(cls, con: sqlite3.Connection, tenant_id: int, quiet_hours: str | None = None,
           on_cap: str = "skip") -> SendRules:  # fmt: skip
        """The tenant's rules from the ledger, with a campaign's own window (`quiet_hours`) when it has one."""
        row = con.execute(load_sql("sender/gate_tenant_rules.sql"), {"tenant_id": tenant_id}).fetchone()
        tenant = dict(row) if row is not None else {}
        state_rules = tenant.get("state_rules")
        return cls(
            window=parse_quiet_hours(quiet_hours or tenant.get("quiet_hours") or default_quiet_hours()),
            state_rules=default_state_rules() if state_rules is None else bool(state_rules),
            tenant_zone=tenant.get("timezone"),
            cap=parse_frequency_cap(tenant.get("frequency_cap") or OFF),
            on_cap=on_cap,
        )

    @classmethod
    def for_campaign(cls, con: sqlite3.Connection, campaign: Any) -> SendRules:
        """The rules a campaign's claims pass: none for a test message to one's own phone (sent at once)."""
        if campaign.kind == "test":
            return cls(window=None, state_rules=False)
        return cls.of(con, campaign.tenant_id, campaign.quiet_hours, campaign.on_cap)

    def window_of(self, phone_e164: str) -> Window | None:
        """The number's window: the campaign's, narrowed to 08:00-20:00 for Florida and Oklahoma under state rules."""
        return self.window_of_numbers(is_strict_state_number(phone_e164))

    def window_of_numbers(self, strict_state: bool) -> Window | None:
        """`window_of` the numbers in Florida and Oklahoma (`strict_state`), or of the others."""
        if not (self.state_rules and strict_state):
            return self.window
        return STRICT_STATE_WINDOW if self.window is None else strict_state_window(self.window)

    def caps_of(self, phone_e164: str) -> tuple[FrequencyCap, ...]:
        strict = (STRICT_STATE_CAP,) if self.state_rules and is_strict_state_number(phone_e164) else ()
        return ((self.cap,) if self.cap else ()) + strict

    @property
    def capped_numbers(self) -> str | None:
        """Which numbers a cap counts messages for: `every` (the tenant's cap), `strict_state` (Florida's and
        Oklahoma's, under state rules), None (no cap)."""
        return "every" if self.cap else "strict_state" if self.state_rules else None

    @property
    def longest_cap_s(self) -> float:
        periods = [cap.period_s for cap in (self.cap, STRICT_STATE_CAP if self.state_rules else None) if cap]
        return max(periods, default=0.0)

    def capped_until(self, phone_e164: str, times: list[float], now: float) -> float | None:
        """When the number may have one more message (None: now), given its counted messages' times (sorted)."""
        until = None
        for cap in self.caps_of(phone_e164):
            recent = times[bisect_right(times, now - cap.period_s):]
            if len(recent) >= cap.messages:
                frees_at = recent[len(recent) - cap.messages] + cap.period_s
                until = frees_at if until is None else max(until, frees_at)
        return until


class Openings:
    """When each recipient's window opens, at one instant (`now` when it is open): one computation per window and
    zones, which the recipients of a chunk or an audience share."""

    def __init__(self, rules: SendRules, now: float) -> None:
        self.rules = rules
        self.now = now
        self._memo: dict[tuple, float] = {}

    def __call__(self, phone_e164: str, stored_zone: str | None) -> float:
        window = self.rules.window_of(phone_e164)
        if window is None:
            return self.now
        return self.opening(window, recipient_zones(stored_zone, phone_e164, self.rules.tenant_zone))

    def opening(self, window: Window, zones: tuple[ZoneInfo, ...]) -> float:
        """When `window` opens in all of `zones` (`now` when it is open in all)."""
        key = (window, zones)
        if key not in self._memo:
            self._memo[key] = opening_in_all(self.now, zones, window)
        return self._memo[key]


@dataclass
class HeldBack:
    """What the gates did to one chunk: recipients deferred (id, due at, reason) and skipped for the cap."""

    deferred: list[tuple[int, float, str]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    @property
    def ids(self) -> set[int]:
        return {recipient_id for recipient_id, _, _ in self.deferred} | set(self.skipped)


def recent_messages(con: sqlite3.Connection, tenant_id: int, phones: list[str], since: float
                    ) -> dict[str, list[float]]:  # fmt: skip
    """Each number's messages of every campaign of the tenant since `since` (sent, or claimed and being sent
    now), their times sorted."""
    found: dict[str, list[float]] = {}
    rows = con.execute(load_sql("sender/gate_recent_messages.sql"),
                       {"tenant_id": tenant_id, "phones": json.dumps(phones), "since": since})  # fmt: skip
    for phone, at in rows:
        found.setdefault(phone, []).append(at)
    for times in found.values():
        times.sort()
    return found


def judge(rules: SendRules, rows: list[sqlite3.Row], recent: dict[str, list[float]], now: float) -> HeldBack:
    """The gates' verdict on claimed recipients (recipient_id, phone_e164, timezone), pure."""
    held, opening_of = HeldBack(), Openings(rules, now)
    for row in rows:
        phone = row["phone_e164"]
        opening = opening_of(phone, row["timezone"])
        if opening > now:
            held.deferred.append((row["recipient_id"], opening, "quiet_hours"))
            continue
        until = rules.capped_until(phone, recent.get(phone, []), now) if phone in recent else None
        if until is None:
            continue
        if rules.on_cap == "defer":
            held.deferred.append((row["recipient_id"], until, "frequency_cap"))
        else:
            held.skipped.append(row["recipient_id"])
    return held


def hold_back(con: sqlite3.Connection, rules: SendRules, tenant_id: int, ids_json: str, now: float) -> HeldBack:
    """Inside the claim's write transaction: applies the gates to the claimed ids (a JSON array) and writes what
    they decided; the caller claims the others."""
    rows = con.execute(load_sql("sender/gate_recipients.sql"), {"ids": ids_json}).fetchall()
    capped = [row["phone_e164"] for row in rows if rules.caps_of(row["phone_e164"])]
    recent = recent_messages(con, tenant_id, capped, now - rules.longest_cap_s) if capped else {}
    held = judge(rules, rows, recent, now)
    con.executemany(load_sql("sender/gate_defer.sql"),
                    [{"recipient_id": rid, "due_at": due, "reason": why, "now": now}
                     for rid, due, why in held.deferred])  # fmt: skip
    con.executemany(load_sql("sender/gate_skip_capped.sql"),
                    [{"recipient_id": rid, "now": now} for rid in held.skipped])  # fmt: skip
    return held


@dataclass(frozen=True)
class GatePreview:
    """What the gates would do to an audience sent at one instant: recipients capped (skipped, or deferred by a
    campaign that defers) and recipients deferred by quiet hours with their earliest and latest send times."""

    capped: int = 0
    deferred: int = 0
    earliest_send_at: float | None = None
    latest_send_at: float | None = None


@dataclass(frozen=True)
class ZoneGroup:
    """An audience's recipients who share what the quiet hours look at: the anchor appointment's client timezone,
    the number's zones as the sync stored them (customers.phone_zones) and whether it is in Florida or Oklahoma;
    `counted`: the numbers of those a cap applies to (`SendRules.capped_numbers`)."""

    client_timezone: str | None
    phone_zones: tuple[str, ...]
    strict_state: bool
    recipients: int
    counted: tuple[str, ...] = ()


def preview_rules(con: sqlite3.Connection | None, tenant_id: int) -> SendRules:
    """The rules a preview applies: the tenant's (`con`: a ledger connection), or the default ones without a cap."""
    if con is None:
        return SendRules(default_quiet_hours_window(), default_state_rules())
    return SendRules.of(con, tenant_id)


def preview_gates(con: sqlite3.Connection | None, rules: SendRules, tenant_id: int, groups: list[ZoneGroup],
                  now: float) -> GatePreview:  # fmt: skip
    """The gates' verdict on an audience at `now`, as a preview reports it, from its recipients grouped by zone:
    a recipient at its cap (its messages counted in the ledger `con`; None: no cap) is capped, not deferred; every
    other recipient of a group waits for the group's opening. One opening per window and zones, not per person."""
    phones = [phone for group in groups for phone in group.counted]
    recent = recent_messages(con, tenant_id, phones, now - rules.longest_cap_s) if phones and con else {}
    capped, deferred, openings, opening_of = 0, 0, [], Openings(rules, now)
    for group in groups:
        at_cap = sum(1 for phone in group.counted
                     if phone in recent and rules.capped_until(phone, recent[phone], now) is not None)  # fmt: skip
        capped += at_cap
        window = rules.window_of_numbers(group.strict_state)
        if window is None or group.recipients == at_cap:
            continue
        own = own_zone_of(group.client_timezone, single_zone(group.phone_zones))
        opening = opening_of.opening(window, respected_zones(own, group.phone_zones, rules.tenant_zone))
        if opening > now:
            deferred += group.recipients - at_cap
            openings.append(opening)
    return GatePreview(capped, deferred, min(openings, default=None), max(openings, default=None))


def default_quiet_hours_window() -> Window | None:
    return parse_quiet_hours(default_quiet_hours())
