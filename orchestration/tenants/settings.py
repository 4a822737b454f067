"""Per-tenant sending settings kept in the ledger: phone region, rate limit, retries, auto-pause, time zone, quiet
hours, state rules and the frequency cap."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from orchestration.auth import audit
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.sqlfiles import load_sql


@dataclass(frozen=True)
class TenantSettings:
    """One tenant's settings (tenant 0 is a single Booknetic site); defaults are those the add-on users know."""

    tenant_id: int
    name: str = ""
    default_region: str = "US"  # phonenumbers region for numbers written without a country code
    rate_limit_per_s: float = 10.0  # messages per second, per tenant
    max_attempts: int = 3
    retry_base_seconds: float = 120.0  # first retry after 120 s, then 240 s, ...
    failure_streak_pause: int = 50  # consecutive failures that auto-pause a campaign
    timezone: str | None = None  # IANA zone (America/New_York): how a --send-at without an offset is read, and the
    # zone of a recipient whose own zone is not known
    quiet_hours: str | None = None  # the sending window in the recipient's local time, or off; None: the default
    # (08:00-21:00, the US TCPA window)
    state_rules: bool | None = None  # Florida and Oklahoma numbers: 08:00-20:00 and at most 3 messages in 24 h;
    # None: the default (on)
    frequency_cap: str = "off"  # at most N messages per number per period across campaigns, e.g. 3/7d


_EDITABLE = tuple(f.name for f in fields(TenantSettings) if f.name != "tenant_id")


def check_tenant_id(tenant_id: Any) -> int:
    """The tenant id as an int >= 0 (Booknetic's NULL tenant is 0), or a UserError."""
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 0:
        raise UserError(f"Tenant must be a whole number >= 0 (0 = a single site), not {tenant_id!r}")
    return tenant_id


def _positive_number(label: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{label} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise UserError(f"{label} must be greater than 0, not {value!r}")
    return number


def _whole_number(label: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UserError(f"{label} must be a whole number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"{label} must be a whole number, not {value!r}") from None
    if not number.is_integer() or number < minimum:
        raise UserError(f"{label} must be a whole number >= {minimum}, not {value!r}")
    return int(number)


def _region(value: Any) -> str:
    region = str(value).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UserError(f"Unknown phone region {value!r}: use a two-letter country code such as US, GB or DE")
    return region


def _timezone(value: Any) -> str | None:
    if value is None:
        return None
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"Unknown time zone {value!r}: use an IANA name such as America/New_York") from None
    return name


def effective_send_rules(settings: TenantSettings) -> tuple[str, bool]:
    """The tenant's quiet hours and state rules as the sender applies them (its own, else the defaults)."""
    from orchestration.sender import gates  # the sender package imports this module

    return (settings.quiet_hours or gates.default_quiet_hours(),
            gates.default_state_rules() if settings.state_rules is None else settings.state_rules)


def _switch(label: str, value: Any) -> bool:
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text not in ("on", "off"):
        raise UserError(f"{label} take on or off, not {value!r}")
    return text == "on"


def validate_settings(settings: TenantSettings) -> TenantSettings:
    """The settings with every value checked and normalized (region upper-cased), or a UserError."""
    from orchestration.sender import gates  # the sender package imports this module
    return TenantSettings(
        tenant_id=check_tenant_id(settings.tenant_id),
        name=str(settings.name).strip(),
        default_region=_region(settings.default_region),
        rate_limit_per_s=_positive_number("Rate limit (messages per second)", settings.rate_limit_per_s),
        max_attempts=_whole_number("Max attempts", settings.max_attempts, 1),
        retry_base_seconds=_positive_number("Retry base (seconds)", settings.retry_base_seconds),
        failure_streak_pause=_whole_number("Failure streak before pause", settings.failure_streak_pause, 1),
        timezone=_timezone(settings.timezone),
        quiet_hours=None if settings.quiet_hours is None else gates.normalized_quiet_hours(str(settings.quiet_hours)),
        state_rules=None if settings.state_rules is None else _switch("State rules", settings.state_rules),
        frequency_cap=gates.normalized_frequency_cap(str(settings.frequency_cap)),
    )


def ensure_tenant_row(con: sqlite3.Connection, tenant_id: int) -> None:
    """Inside a write transaction: make sure the tenant has its row (with default settings)."""
    con.execute(load_sql("ledger/queries/tenant_ensure.sql"), {"tenant_id": check_tenant_id(tenant_id)})


def _from_row(row: sqlite3.Row) -> TenantSettings:
    values = {name: row[name] for name in ("tenant_id", *_EDITABLE)}
    rules = values["state_rules"]
    return TenantSettings(**{**values, "state_rules": None if rules is None else bool(rules)})


def _select(con: sqlite3.Connection, tenant_id: int) -> sqlite3.Row | None:
    return con.execute(load_sql("ledger/queries/tenant_settings_get.sql"), {"tenant_id": tenant_id}).fetchone()


def get_settings(ledger: Ledger, tenant_id: int) -> TenantSettings:
    """The tenant's settings; the defaults when the tenant has never been configured (nothing is written)."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        row = _select(con, tenant_id)
    return _from_row(row) if row else TenantSettings(tenant_id=tenant_id)


def ensure_tenant(ledger: Ledger, tenant_id: int, name: str | None = None) -> TenantSettings:
    """The tenant's settings, creating its row with defaults when missing (and setting its name when given)."""
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        if name is not None:
            con.execute(
                load_sql("ledger/queries/tenant_set_name.sql"), {"tenant_id": tenant_id, "name": str(name).strip()}
            )
        return _from_row(_select(con, tenant_id))


def _stored(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def update_settings(ledger: Ledger, tenant_id: int, **changes: Any) -> TenantSettings:
    """Change some settings (only those given are written, so concurrent updates of others are kept)."""
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise UserError(f"Unknown setting(s): {', '.join(unknown)}; known: {', '.join(_EDITABLE)}")
    given = {name: value for name, value in changes.items() if value is not None}
    checked = validate_settings(replace(TenantSettings(tenant_id=check_tenant_id(tenant_id)), **given))
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        if given:
            values = {name: _stored(getattr(checked, name)) if name in given else None for name in _EDITABLE}
            con.execute(load_sql("ledger/queries/tenant_settings_update.sql"), {"tenant_id": tenant_id, **values})
            audit.record(con, tenant_id, "settings.change", "tenant settings", audit.describe(given))
        return _from_row(_select(con, tenant_id))
