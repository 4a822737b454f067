"""Recurring campaign definitions: add, list, pause, resume, remove; when each one's occurrences fall.

A schedule is a five-field cron (`0 10 * * *`) or a simple spec (`day at 10:00`, `weekday at 9:30`, `monday`:
10:00 unless `at` says otherwise), in an IANA time zone (default: the tenant's). Cron times are Dagster's own
(`dagster._utils.schedules`, the code Dagster's schedules run on, daylight-saving changes included): no other cron
library is needed."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from dagster._utils.schedules import cron_string_iterator, is_valid_cron_string, reverse_cron_string_iterator

from orchestration.audiences import AudienceQuery
from orchestration.audiences.query import check_arguments
from orchestration.auth import audit
from orchestration.auth.actor import current
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.messages.shortcodes import check_template
from orchestration.sender.schedule import zone_of
from orchestration.sqlfiles import load_sql
from orchestration.tenants import get_settings
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

DEFAULT_MAX_LATENESS_S = 3600.0  # an occurrence the sensor could not make within an hour of its time is skipped
DEFAULT_AT = "10:00"
STATES = ("active", "paused", "removed")
_DAYS = {"monday": "1", "tuesday": "2", "wednesday": "3", "thursday": "4", "friday": "5", "saturday": "6",
         "sunday": "0", "day": "*", "weekday": "1-5", "weekend": "0,6"}  # fmt: skip
_SPEC = re.compile(r"^(?:every\s+)?([a-z]+?)s?(?:\s+at\s+(\d{1,2}):(\d{2}))?$")


@dataclass(frozen=True)
class RecurringCampaign:
    """One recurring campaign as the ledger holds it (times in Unix seconds)."""

    recurring_id: int
    tenant_id: int
    name: str
    cron: str
    timezone: str
    audience: dict[str, Any]
    template_body: str
    max_lateness_s: float | None
    state: str
    created_by: str
    created_at: float
    evaluated_at: float
    updated_at: float
    last_occurrence_at: float | None = None
    last_campaign_id: int | None = None
    last_campaign_state: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RecurringCampaign:
        values = dict(row)
        values["audience"] = json.loads(values.pop("audience_json"))
        return cls(**values)

    def audience_query(self, as_of: float) -> AudienceQuery:
        """The audience of the occurrence at `as_of`: its windows are relative to the occurrence's time."""
        return AudienceQuery(tenant_id=self.tenant_id, **self.audience, as_of=datetime.fromtimestamp(as_of, UTC))

    def latest_due(self, now: float) -> float | None:
        """The latest occurrence at or before `now` that is not done yet (None: none)."""
        latest = next(reverse_cron_string_iterator(now, self.cron, self.timezone)).timestamp()
        return latest if latest > self.evaluated_at else None

    def next_at(self, after: float) -> float:
        """The first occurrence after `after`."""
        for moment in cron_string_iterator(after, self.cron, self.timezone):
            if moment.timestamp() > after:
                return moment.timestamp()
        raise AssertionError("a cron string has a next time")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_schedule(cron: str | None = None, every: str | None = None) -> str:
    """The cron string of `--cron` or `--every` (exactly one); one UserError for anything else."""
    if (cron is None) == (every is None):
        raise UserError("Give the schedule as --cron '0 10 * * *' or as --every 'day at 10:00' (one of the two).")
    if cron is not None:
        text = " ".join(cron.split())
        if len(text.split(" ")) != 5 or not is_valid_cron_string(text):
            raise UserError(f"--cron takes five cron fields (minute hour day-of-month month day-of-week), e.g. "
                            f"'0 10 * * *' or '30 9 * * 1', not {cron!r}.")
        return text
    match = _SPEC.match(" ".join(str(every).lower().split()))
    if not match or match.group(1) not in _DAYS:
        raise UserError(f"--every takes day, weekday, weekend or a day of the week, optionally 'at HH:MM' "
                        f"(e.g. 'day at 10:00', 'monday at 9:30'), not {every!r}.")
    hour, minute = (int(match.group(2)), int(match.group(3))) if match.group(2) else map(int, DEFAULT_AT.split(":"))
    if hour > 23 or minute > 59:
        raise UserError(f"--every: {hour:02d}:{minute:02d} is not a time of day.")
    return f"{minute} {hour} * * {_DAYS[match.group(1)]}"


def _audience_json(query: AudienceQuery) -> str:
    values = asdict(query)
    values.pop("tenant_id")
    values.pop("as_of")
    return json.dumps(values, sort_keys=True)


def add(
    ledger: Ledger, tenant_id: int, name: str, cron: str, query: AudienceQuery, template: str,
    timezone: str | None = None, max_lateness_s: float | None = DEFAULT_MAX_LATENESS_S, now: float | None = None,
) -> RecurringCampaign:  # fmt: skip
    """A new active recurring campaign (its first occurrence is the first after `now`); audited, checked like a
    launch (an analyst only when the tenant lets analysts launch)."""
    check_tenant_id(tenant_id)
    if not name or not name.strip():
        raise UserError("A recurring campaign needs a name.")
    if query.tenant_id != tenant_id:
        raise ValueError("the audience query belongs to another tenant")
    if query.as_of is not None:
        raise UserError("A recurring campaign's audience is evaluated at each occurrence: leave --as-of out.")
    check_arguments(query)
    check_template(template)
    cron = parse_schedule(cron=cron)
    zone = timezone or get_settings(ledger, tenant_id).timezone
    if zone is None:
        raise UserError("Give --timezone (or set the tenant's: tenant settings --timezone America/New_York): a "
                        "recurring campaign's times are local times.")
    zone_of(zone)
    if max_lateness_s is not None and not max_lateness_s > 0:
        raise UserError("--max-lateness must be more than 0 (or off).")
    moment = time.time() if now is None else now
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        recurring_id = con.execute(load_sql("recurring/definition_insert.sql"), {
            "tenant_id": tenant_id, "name": name.strip(), "cron": cron, "timezone": zone,
            "audience_json": _audience_json(query), "template_body": template, "max_lateness_s": max_lateness_s,
            "created_by": current().name, "now": moment}).fetchone()[0]  # fmt: skip
        audit.record(con, tenant_id, "recurring.manage", f"recurring {recurring_id}",
                     f"add: {name.strip()} — {cron} ({zone}), {query.segment}")  # fmt: skip
        return _select(con, tenant_id, recurring_id)


def _select(con: sqlite3.Connection, tenant_id: int, recurring_id: int) -> RecurringCampaign:
    row = con.execute(load_sql("recurring/definition_get.sql"),
                      {"tenant_id": tenant_id, "recurring_id": recurring_id}).fetchone()  # fmt: skip
    if row is None:
        raise UserError(f"Recurring campaign {recurring_id} not found for tenant {tenant_id}.")
    return RecurringCampaign.from_row(row)


def get(ledger: Ledger, tenant_id: int, recurring_id: int) -> RecurringCampaign:
    """The tenant's recurring campaign; another tenant's is "not found"."""
    with ledger.read() as con:
        return _select(con, tenant_id, recurring_id)


def list_recurring(ledger: Ledger, tenant_id: int, with_removed: bool = False) -> list[RecurringCampaign]:
    """The tenant's recurring campaigns with their latest occurrence, oldest first."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        rows = con.execute(load_sql("recurring/definition_list.sql"),
                           {"tenant_id": tenant_id, "with_removed": int(with_removed)}).fetchall()  # fmt: skip
    return [RecurringCampaign.from_row(row) for row in rows]


def active(ledger: Ledger) -> list[RecurringCampaign]:
    """Every tenant's active recurring campaigns (the sensor's work list)."""
    with ledger.read() as con:
        return [RecurringCampaign.from_row(row) for row in con.execute(load_sql("recurring/definitions_active.sql"))]


_ALLOWED = {"pause": ("active",), "resume": ("paused",), "remove": ("active", "paused")}
_TARGET = {"pause": "paused", "resume": "active", "remove": "removed"}


def _change(ledger: Ledger, tenant_id: int, recurring_id: int, action: str, now: float | None) -> RecurringCampaign:
    with ledger.write() as con:
        found = _select(con, tenant_id, recurring_id)
        if found.state not in _ALLOWED[action]:
            raise UserError(f"Cannot {action} recurring campaign {recurring_id}: it is {found.state}.")
        con.execute(load_sql("recurring/definition_set_state.sql"), {
            "tenant_id": tenant_id, "recurring_id": recurring_id, "state": _TARGET[action],
            "now": time.time() if now is None else now})  # fmt: skip
        audit.record(con, tenant_id, "recurring.manage", f"recurring {recurring_id}", f"{action}: {found.name}")
        return _select(con, tenant_id, recurring_id)


def pause(ledger: Ledger, tenant_id: int, recurring_id: int, now: float | None = None) -> RecurringCampaign:
    """No more occurrences until resumed (campaigns already made are not touched)."""
    return _change(ledger, tenant_id, recurring_id, "pause", now)


def resume(ledger: Ledger, tenant_id: int, recurring_id: int, now: float | None = None) -> RecurringCampaign:
    """Occurrences again, from the first after `now` (the ones missed while paused are not made up)."""
    return _change(ledger, tenant_id, recurring_id, "resume", now)


def remove(ledger: Ledger, tenant_id: int, recurring_id: int, now: float | None = None) -> RecurringCampaign:
    """No more occurrences, for good; it stays in the ledger (its campaigns and keys are history)."""
    return _change(ledger, tenant_id, recurring_id, "remove", now)
