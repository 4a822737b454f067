"""An audience query (segment + parameters + filters), its validation, and the bound SQL that runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from orchestration.audiences.segments import MAX_DAYS, Segment, segment
from orchestration.errors import UserError
from orchestration.sqlfiles import load_sql

# Booknetic's appointments.status is a VARCHAR(50).
MAX_STATUS_LENGTH = 50
STATUS_SLUG = re.compile(r"[\w-]+")  # Booknetic's slugs, custom ones too: letters, digits, '-' and '_'
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class AudienceQuery:
    """Who to reach: one tenant's segment, its parameter (`days` or `min`; None = default) and the filters.

    Filters narrow the appointment set first (service ids, location ids, statuses; empty = no filter), then
    `min_appointments` keeps customers with at least that many appointments in the narrowed set; the segment
    predicate is evaluated on the narrowed set. `as_of` (aware, or naive = UTC) defaults to now.
    """

    tenant_id: int
    segment: str
    days: int | None = None
    min: int | None = None
    service_ids: tuple[int, ...] = ()
    location_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    min_appointments: int | None = None
    exclude_suppressed: bool = False
    as_of: datetime | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "service_ids", tuple(int(i) for i in self.service_ids))
        object.__setattr__(self, "location_ids", tuple(int(i) for i in self.location_ids))
        object.__setattr__(self, "statuses", tuple(str(s) for s in self.statuses))

    @property
    def narrows_appointments(self) -> bool:
        """A service, location or status filter narrows the appointment set (a minimum count alone does not)."""
        return bool(self.service_ids or self.location_ids or self.statuses)

    def as_of_utc(self) -> datetime:
        """The query's instant in UTC, to the second (now when unset)."""
        moment = self.as_of or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)


def check_arguments(query: AudienceQuery) -> Segment:
    """The query's segment, after the checks that need no data; one UserError for the first problem found."""
    chosen = segment(query.segment)
    taken = chosen.parameter.name if chosen.parameter else None
    for name in ("days", "min"):
        if getattr(query, name) is not None and name != taken:
            accepts = f"takes --{taken}" if taken else "takes no parameter"
            raise UserError(f"Segment {chosen.name!r} does not take --{name} (it {accepts}).")
    if query.days is not None and not 1 <= query.days <= MAX_DAYS:
        raise UserError(f"--days must be between 1 and {MAX_DAYS}, got {query.days}.")
    if query.min is not None and query.min < 1:
        raise UserError(f"--min must be at least 1, got {query.min}.")
    if query.min_appointments is not None and query.min_appointments < 1:
        raise UserError(f"--min-appointments must be at least 1, got {query.min_appointments}.")
    for status in query.statuses:
        if not STATUS_SLUG.fullmatch(status) or len(status) > MAX_STATUS_LENGTH:
            raise UserError(f"Status {status!r} is not a status slug (1 to {MAX_STATUS_LENGTH} letters, digits, "
                            "'-' or '_').")
    return chosen


@dataclass(frozen=True)
class TenantCatalog:
    """What a query's values are checked against: whether the warehouse knows the tenant, its service and location
    ids, and the status slugs its appointments use (sorted)."""

    tenant_known: bool
    service_ids: frozenset[int]
    location_ids: frozenset[int]
    statuses: tuple[str, ...]


def tenant_catalog(con: duckdb.DuckDBPyConnection, tenant_id: int) -> TenantCatalog:
    """The tenant's catalog in the warehouse, in one statement (sql/segments/tenant_catalog.sql)."""
    known, services, locations, statuses = con.execute(
        load_sql("segments/tenant_catalog.sql"), {"tenant_id": tenant_id}).fetchall()[0]  # fmt: skip
    return TenantCatalog(bool(known), frozenset(services), frozenset(locations), tuple(statuses))


def check_against_data(con: duckdb.DuckDBPyConnection, query: AudienceQuery) -> list[str]:
    """Checks the tenant and the filter values against the tenant's data in the warehouse; returns warnings
    (`check_against_catalog` on the tenant's catalog read now)."""
    return check_against_catalog(con, tenant_catalog(con, query.tenant_id), query)


def check_against_catalog(con: duckdb.DuckDBPyConnection, catalog: TenantCatalog, query: AudienceQuery) -> list[str]:
    """Checks the tenant and the filter values against the tenant's catalog; returns warnings. `con` reads the
    known tenants for the error about an unknown one.

    Statuses are an open set (Booknetic's Custom Appointment Statuses add-on): a slug no appointment of the tenant
    uses yet is accepted, so a campaign can be prepared before its first booking, with a warning saying so."""
    if not catalog.tenant_known:
        tenants = [r[0] for r in con.execute(load_sql("segments/known_tenants.sql")).fetchall()]
        known = ", ".join(map(str, tenants)) or "none yet"
        raise UserError(f"No data for tenant {query.tenant_id} in the warehouse (tenants: {known}).")
    for kind, given, ids in (("service", query.service_ids, catalog.service_ids),
                             ("location", query.location_ids, catalog.location_ids)):  # fmt: skip
        unknown = sorted(set(given) - ids)
        if unknown:
            raise UserError(f"Unknown {kind} id(s) for tenant {query.tenant_id}: {', '.join(map(str, unknown))}.")
    unused = [s for s in query.statuses if s not in catalog.statuses]
    if not unused:
        return []
    return [f"Status {', '.join(repr(s) for s in unused)} matches no appointment of tenant {query.tenant_id} yet; "
            f"known statuses: {', '.join(catalog.statuses) or 'none'}."]


def segment_parameters(query: AudienceQuery) -> dict[str, int]:
    """The segment's parameter with its default filled in (e.g. {'days': 30}); {} for segments without one."""
    chosen = segment(query.segment)
    if chosen.parameter is None:
        return {}
    value = getattr(query, chosen.parameter.name)
    return {chosen.parameter.name: chosen.parameter.default if value is None else value}


def described_parameters(query: AudienceQuery) -> dict[str, Any]:
    """Everything that decides the audience, as plain values (for previews, JSON and Dagster metadata)."""
    return {
        **segment_parameters(query),
        "service_ids": list(query.service_ids),
        "location_ids": list(query.location_ids),
        "statuses": list(query.statuses),
        "min_appointments": query.min_appointments,
        "exclude_suppressed": query.exclude_suppressed,
    }


def _members_sql(query: AudienceQuery) -> str:
    """The CTEs up to `classified_members`: the filtered appointments, the per-customer counts of the narrowed set
    (customer_facts when no service, location or status filter narrows it), the segment's definition (each member
    with its anchor appointment and that appointment's client timezone), the minimum count when the query sets one,
    and the exclusion rules."""
    chosen = segment(query.segment)
    narrowed = "narrowed_filtered" if query.narrows_appointments else "narrowed_all"
    members = "members_all" if query.min_appointments is None else "members_at_least"
    return (
        f"WITH filtered_appointments AS ({load_sql('segments/filtered_appointments.sql')}),\n"
        f"narrowed_customers AS ({load_sql(f'segments/{narrowed}.sql')}),\n"
        f"{_defined_sql(chosen)},\n"
        f"segment_members AS ({load_sql(f'segments/{members}.sql')}),\n"
        f"classified_members AS ({load_sql('segments/classified_members.sql')})"
    )


def _defined_sql(chosen: Segment) -> str:
    """`defined_members`: the definition's members with their phone columns (sql/segments/phoned_members.sql adds
    them to a definition that groups appointments; the others select them from narrowed_customers)."""
    if chosen.groups_appointments:
        return (f"appointment_members AS ({load_sql(chosen.sql_file)}),\n"
                f"defined_members AS ({load_sql('segments/phoned_members.sql')})")
    return f"defined_members AS ({load_sql(chosen.sql_file)})"


def counts_sql(query: AudienceQuery) -> str:
    """Members per exclusion reason (NULL = recipients)."""
    return f"{_members_sql(query)}\n{load_sql('segments/exclusion_counts.sql')}"


def segment_sql(query: AudienceQuery, selection: str, classified: bool = True) -> str:
    """Members with their details: the filtered appointment set, the segment's definition, the exclusion rules,
    then `selection` (`members` or `page`: a file sql/segments/select_<selection>.sql) with the anchor's details.
    Without `classified`, the selection reads members classified before (the snapshot's temporary table).
    Only named SQL files are composed; every value is bound."""
    selected = f"selected_members AS ({load_sql(f'segments/select_{selection}.sql')})\n"
    prefix = f"{_members_sql(query)},\n" if classified else "WITH "
    return f"{prefix}{selected}{load_sql('segments/anchored.sql')}"


def classified_sql(query: AudienceQuery) -> str:
    """The query's members with their exclusion reason (sql/segments/classified_members.sql's columns)."""
    return f"{_members_sql(query)}\nSELECT * FROM classified_members"


def preview_sql(query: AudienceQuery) -> str:
    """A preview's member groups: by exclusion, the recipients by zone, each with its counts and first members
    (sql/segments/preview.sql: binds $sample and $capped_numbers)."""
    return f"{_members_sql(query)}\n{load_sql('segments/preview.sql')}"


def bound_values(query: AudienceQuery, **extra: Any) -> dict[str, Any]:
    """Every value a segment query may bind."""
    return {
        "tenant_ids": [query.tenant_id],
        "as_of": int(query.as_of_utc().timestamp()),
        "service_ids": list(query.service_ids),
        "location_ids": list(query.location_ids),
        "statuses": list(query.statuses),
        "min_appointments": query.min_appointments,
        "exclude_suppressed": query.exclude_suppressed,
        **segment_parameters(query),
        **extra,
    }


def bind(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values `sql` refers to (DuckDB refuses unused parameters); a missing one is a bug and fails loudly."""
    return {name: values[name] for name in dict.fromkeys(_PARAMETER.findall(_strip_comments(sql)))}


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def parse_as_of(text: str) -> datetime | None:
    """An ISO-8601 instant (naive = UTC); empty text means now (None)."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"as-of {text!r} is not an ISO-8601 date or time (e.g. 2025-06-01T12:00:00Z).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
