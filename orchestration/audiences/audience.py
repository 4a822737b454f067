"""Runs audience queries: previews (counts, exclusions, a sample), the streamed recipient list, filter options."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.audiences import watched
from orchestration.audiences.query import (
    AudienceQuery,
    TenantCatalog,
    bind,
    bound_values,
    check_against_catalog,
    check_against_data,
    check_arguments,
    classified_sql,
    counts_sql,
    described_parameters,
    preview_sql,
    segment_sql,
    tenant_catalog,
)
from orchestration.audiences.segments import SEGMENTS
from orchestration.audiences.suppression import no_suppressed_numbers, suppressed_numbers
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.warehouse import SharedSession, Warehouse

if TYPE_CHECKING:
    from orchestration.sender.gates import GatePreview, SendRules, ZoneGroup

EXCLUSIONS = ("no_phone", "invalid_phone", "duplicate_phone", "suppressed", "undeliverable")
# The columns of sql/segments/preview.sql (one row per group of members).
PREVIEW_GROUP = ("exclusion", "timezone_id", "phone_zones", "strict_state", "members", "on_list", "sample_ids",
                 "sample_anchors", "counted")  # fmt: skip
RECIPIENT_COLUMNS = (
    "customer_id", "first_name", "last_name", "full_name", "phone_e164", "email",
    "anchor_appointment_id", "anchor_starts_at", "anchor_ends_at", "anchor_status",
    "service_name", "service_price", "service_duration", "staff_name", "staff_phone",
    "location_name", "location_address", "client_timezone", "phone_zone",
)  # fmt: skip
# RECIPIENT_COLUMNS' dtypes in a preview's sample (the rest: "str"): DuckDB's for these columns when they hold nulls.
RECIPIENT_DTYPES = {"customer_id": "int32", "anchor_appointment_id": "Int32", "anchor_starts_at": "Int64",
                    "anchor_ends_at": "Int64", "service_price": "float64", "service_duration": "Int32"}  # fmt: skip
# DuckDB's working memory while snapshotting recipients; the rest spills to disk (Warehouse.spilling_reader). One
# thread: each DuckDB thread keeps its own buffers, and on the snapshot path the ledger inserts, not the query, set
# the pace (bench/run_all.py measures both).
STREAM_MEMORY_LIMIT = "64MB"


@dataclass(frozen=True)
class Preview:
    """What a campaign to this audience would reach: recipients, exclusions by reason, the first recipients."""

    tenant_id: int
    segment: str
    count: int
    excluded: dict[str, int]
    sample: pd.DataFrame  # RECIPIENT_COLUMNS, ordered by customer_id
    params: dict[str, Any]
    as_of: datetime
    warnings: tuple[str, ...] = ()  # e.g. a status filter no appointment uses yet (accepted: statuses are open)
    # recipients and suppressed members whose number is on the suppression list, excluded or not (they are
    # skipped at send time either way); None when no ledger was given
    on_suppression_list: int | None = None
    # recipients the quiet hours would defer if sent at as_of: {"quiet_hours": {"count", "earliest_send_at",
    # "latest_send_at"}} (Unix seconds; None when nobody is deferred)
    deferred: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """A query's recipient count, exclusions by reason, and its recipients as chunks of RECIPIENT_COLUMNS."""

    count: int
    excluded: dict[str, int]
    chunks: Iterator[pd.DataFrame]


@dataclass(frozen=True)
class FilterOptions:
    """The values a person can filter one tenant's audiences by."""

    services: pd.DataFrame  # service_id, name
    locations: pd.DataFrame  # location_id, name
    statuses: list[str]


def preview(warehouse: Warehouse, ledger: Ledger | None, query: AudienceQuery, sample: int = 20) -> Preview:
    """Counts the query's recipients and exclusions and returns the first `sample` recipients by customer id.

    `ledger` (None: nothing is excluded but by phone) gives the undeliverable numbers, the suppression list when
    the query excludes it, and `on_suppression_list`."""
    check_arguments(query)
    query = replace(query, as_of=query.as_of_utc())  # one instant for every statement of this preview
    if sample < 0:
        raise ValueError("sample must be >= 0")
    suppressed = _suppressed(ledger, query)
    sql = preview_sql(query)
    with warehouse.shared_session() as session:
        warnings = _checked(session, query)
        rules = _send_rules(ledger, query)
        values = bound_values(query, sample=max(sample, 1), **zone_values(rules if ledger is not None else None))
        use_suppressed(session, query.tenant_id, suppressed)
        groups = preview_groups(session, query.tenant_id, session.execute(sql, bind(sql, values)).fetchall())
        recipient_groups = [group for group in groups if group["exclusion"] is None]
        ids, anchors = _first_recipients(recipient_groups, sample)
        frame = _sample_details(session, query.tenant_id, ids, anchors)
    count = sum(group["members"] for group in recipient_groups)
    excluded = {reason: sum(group["members"] for group in groups if group["exclusion"] == reason)
                for reason in EXCLUSIONS}  # fmt: skip
    on_list = excluded["suppressed"] if query.exclude_suppressed else None
    if ledger is not None and not query.exclude_suppressed:
        on_list = sum(group["on_list"] for group in recipient_groups)
    gated = _gates(ledger, rules, query, _zone_groups(recipient_groups))
    return Preview(
        tenant_id=query.tenant_id,
        segment=query.segment,
        count=count - gated.capped,
        excluded={**excluded, "frequency_cap": gated.capped},
        deferred={"quiet_hours": {"count": gated.deferred, "earliest_send_at": gated.earliest_send_at,
                                  "latest_send_at": gated.latest_send_at}},
        sample=frame,
        params=described_parameters(query),
        as_of=query.as_of_utc(),
        warnings=tuple(warnings),
        on_suppression_list=on_list,
    )


def _catalog(session: SharedSession, tenant_id: int) -> TenantCatalog:
    """The tenant's catalog (known, services, locations, statuses), read once per published warehouse file."""
    return session.remember(("tenant_catalog", tenant_id), lambda con: tenant_catalog(con, tenant_id))


def _checked(session: SharedSession, query: AudienceQuery) -> list[str]:
    """The query's checks against the tenant's catalog; its warnings."""
    return check_against_catalog(session.con, _catalog(session, query.tenant_id), query)


def preview_groups(session: SharedSession, tenant_id: int, rows: list[tuple]) -> list[dict[str, Any]]:
    """preview.sql's rows as dicts of PREVIEW_GROUP, each with its `client_timezone` named (None: no anchor, or an
    anchor without one) from the tenant's client_timezones, read once per published warehouse file."""
    names = session.remember(("client_timezones", tenant_id), lambda con: dict(con.execute(
        load_sql("segments/client_timezone_names.sql"), {"tenant_id": tenant_id}).fetchall()))  # fmt: skip
    groups = [dict(zip(PREVIEW_GROUP, row, strict=True)) for row in rows]
    for group in groups:
        group["client_timezone"] = names.get(group["timezone_id"])
    return groups


def use_suppressed(session: SharedSession, tenant_id: int, numbers: pa.Table) -> None:
    """Makes `numbers` (suppressed_numbers() of the tenant) the tenant's rows of the session cursor's temp table
    `suppressed_numbers`, which the segment queries read. The cursor keeps the table between sessions, and which
    table of each tenant it holds, so the rows are replaced only when the ledger gave new ones: registering a relation
    changes the catalog, after which DuckDB prepares the cursor's statements again from their text (measured: that
    cost what preparing saves). Other tenants' rows never match (classified_members.sql reads only the tenants in
    scope, and joins by tenant)."""
    loaded = session.cursor_state.get("suppressed_numbers")
    if loaded is None:
        session.con.execute(load_sql("segments/suppressed_numbers_table.sql"))
        loaded = session.cursor_state["suppressed_numbers"] = {}
    if loaded.get(tenant_id) is not numbers:
        loaded.pop(tenant_id, None)  # a failure below leaves it unknown, so the next session replaces it again
        session.con.execute("DELETE FROM suppressed_numbers WHERE tenant_id = $tenant_id", {"tenant_id": tenant_id})
        if numbers.num_rows:
            session.con.from_arrow(numbers).insert_into("suppressed_numbers")
        loaded[tenant_id] = numbers


def _first_recipients(groups: list[dict[str, Any]], sample: int) -> tuple[list[int], list[int | None]]:
    """The first `sample` recipients by customer id across the recipient groups (each group holds its own first
    ones, so these are among them), and their anchor appointments (None: no anchor), in the same order."""
    pairs = sorted(pair for group in groups
                   for pair in zip(group["sample_ids"] or (), group["sample_anchors"] or (), strict=True))[:sample]
    return [customer for customer, _ in pairs], [anchor or None for _, anchor in pairs]


def _sample_details(session: SharedSession, tenant_id: int, ids: list[int], anchors: list[int | None]
                    ) -> pd.DataFrame:  # fmt: skip
    """The sample's RECIPIENT_COLUMNS in the order of `ids` (ascending): its customers and their anchor appointments
    (_sample_sql, one statement), each anchor paired with the customer it belongs to and given its
    service, staff and location from the tenant's directory, as anchored.sql joins them for the recipient list."""
    if not ids:
        return _empty_sample().copy()
    wanted = [anchor for anchor in anchors if anchor is not None]
    sql = _sample_sql(bool(wanted))
    values = {"tenant_id": tenant_id, "first_id": min(ids), "last_id": max(ids), "customer_ids": ids,
              "anchor_ids": wanted}  # fmt: skip
    people, appointments = session.execute(sql, bind(sql, values)).fetchone()
    customers = {person[0]: person for person in people}
    details = {(appointment[1], appointment[0]): appointment for appointment in appointments}
    services, staff, locations = _directory(session, tenant_id)
    rows = []
    for customer_id, anchor in zip(ids, anchors, strict=True):
        person = customers.get(customer_id)
        if person is None:
            continue
        appointment = details.get((customer_id, anchor))
        if appointment is None:  # no anchor (or not the member's own appointment): as anchored.sql's LEFT JOIN
            rows.append((*person[:6], *_NO_ANCHOR, person[6]))
            continue
        appointment_id, _, starts_at, ends_at, status, service_id, staff_id, location_id, timezone = appointment
        rows.append((*person[:6], appointment_id, starts_at, ends_at, status, *services.get(service_id, _NO_SERVICE),
                     *staff.get(staff_id, _NO_STAFF), *locations.get(location_id, _NO_LOCATION), timezone, person[6]))
    return _sample_frame(rows)


@functools.cache
def _sample_sql(anchored: bool) -> str:
    """The sample's customers and (when some members have an anchor) their anchors, as two lists in one row
    (sql/segments/sample_customers.sql and sample_anchors.sql); without anchors the statement is about a third
    cheaper to plan."""
    anchors = f"coalesce(({load_sql('segments/sample_anchors.sql')}), [])" if anchored else "[]"
    return f"SELECT coalesce(({load_sql('segments/sample_customers.sql')}), []) AS customers,\n{anchors} AS anchors"


def _directory(session: SharedSession, tenant_id: int) -> tuple[dict[int, tuple], dict[int, tuple], dict[int, tuple]]:
    """The tenant's services (name, price, duration), staff (name, phone) and locations (name, address) by id, read
    once per published warehouse file (sql/segments/sample_directory.sql)."""

    def read(con: duckdb.DuckDBPyConnection) -> tuple[dict[int, tuple], dict[int, tuple], dict[int, tuple]]:
        lists = con.execute(load_sql("segments/sample_directory.sql"), {"tenant_id": tenant_id}).fetchone()
        services, staff, locations = ({entry[0]: tuple(entry[1:]) for entry in entries} for entries in lists)
        return services, staff, locations

    return session.remember(("sample_directory", tenant_id), read)


@functools.cache
def _empty_sample() -> pd.DataFrame:
    """The sample of an audience without recipients, built once (a preview copies it): building a frame of
    RECIPIENT_DTYPES costs about a millisecond, a tenth of an empty preview."""
    return _sample_frame([])


def _sample_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of RECIPIENT_COLUMNS as a DataFrame of RECIPIENT_DTYPES (the same whether a column holds nulls or not)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(RECIPIENT_COLUMNS)
    return pd.DataFrame({name: pd.array(list(values), dtype=RECIPIENT_DTYPES.get(name, "str"))
                         for name, values in zip(RECIPIENT_COLUMNS, columns, strict=True)})  # fmt: skip


# RECIPIENT_COLUMNS from anchor_appointment_id to client_timezone for a sample member without an anchor, and the
# directory's entries where an anchor's service, staff or location is not in it (anchored.sql's LEFT JOINs)
_NO_ANCHOR = (None,) * 12
_NO_SERVICE, _NO_STAFF, _NO_LOCATION = (None,) * 3, (None,) * 2, (None,) * 2


def recipients(
    warehouse: Warehouse, ledger: Ledger | None, query: AudienceQuery, chunk_size: int = 50_000
) -> Iterator[pd.DataFrame]:
    """Every recipient of the query in customer-id order, as DataFrames of at most `chunk_size` rows
    (RECIPIENT_COLUMNS; anchor columns are null for segments without an anchor appointment).

    The reader connection stays open while the caller iterates: consume the iterator in one unit of work."""
    with snapshot(warehouse, ledger, query, chunk_size) as frozen:
        yield from frozen.chunks


@contextmanager
def snapshot(
    warehouse: Warehouse, ledger: Ledger | None, query: AudienceQuery, chunk_size: int = 50_000
) -> Iterator[Snapshot]:
    """The query's counts and its recipients (as `recipients` yields them) from one evaluation of the segment, so
    both describe the same audience; iterate `.chunks` inside the block.

    The evaluation keeps only each member's ids and exclusion (a temporary table); each chunk is then one page of
    recipients in customer-id order, joined with its details on its own, so neither DuckDB nor Python ever holds
    the whole audience's rows. DuckDB works within STREAM_MEMORY_LIMIT on one thread of a private in-memory
    database and spills the rest to a private folder beside the warehouse, removed when the block ends."""
    check_arguments(query)
    query = replace(query, as_of=query.as_of_utc())
    suppressed = _suppressed(ledger, query)
    with (
        warehouse.spilling_reader() as con,
        tempfile.TemporaryDirectory(prefix=f".{warehouse.path.name}.spill-", dir=warehouse.path.parent) as spill,
    ):
        check_against_data(con, query)
        con.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT}'")
        con.execute("SET threads = 1")
        con.execute("SET temp_directory = $spill", {"spill": spill})
        con.register("suppressed_numbers", suppressed)
        members = classified_sql(query)
        con.execute(f"CREATE TEMP TABLE snapshot_members AS {members}", bind(members, bound_values(query)))
        count, excluded = _by_reason(con.execute(load_sql("segments/snapshot_counts.sql")).fetchall())
        yield Snapshot(count, excluded, _pages(con, query, chunk_size))


def _pages(con: duckdb.DuckDBPyConnection, query: AudienceQuery, chunk_size: int) -> Iterator[pd.DataFrame]:
    """The snapshot's recipients page by page, in customer-id order."""
    pages = con.execute(load_sql("segments/snapshot_pages.sql"), {"page": chunk_size}).fetchall()
    sql = segment_sql(query, "page", classified=False)
    for first_id, last_id in pages:
        values = bind(sql, bound_values(query, first_id=first_id, last_id=last_id))
        yield con.execute(sql, values).fetch_df()[list(RECIPIENT_COLUMNS)]


def segment_sizes(
    warehouse: Warehouse, ledger: Ledger | None, tenant_id: int, as_of: datetime | None = None
) -> pd.DataFrame:
    """Each ready segment's size with default parameters and no filter (suppression list excluded when a
    ledger is given): columns segment, label, recipients, no_phone, invalid_phone, duplicate_phone, suppressed,
    undeliverable."""
    moment = AudienceQuery(tenant_id, "all_customers", as_of=as_of).as_of_utc()
    queries = [AudienceQuery(tenant_id, name, exclude_suppressed=ledger is not None, as_of=moment) for name in SEGMENTS]
    suppressed = _suppressed(ledger, queries[0])
    rows = []
    with warehouse.shared_session() as session:
        _checked(session, queries[0])
        use_suppressed(session, tenant_id, suppressed)
        for query in queries:
            sql = counts_sql(query)
            count, excluded = _by_reason(session.execute(sql, bind(sql, bound_values(query))).fetchall())
            rows.append({"segment": query.segment, "label": SEGMENTS[query.segment].label, "recipients": count,
                         **excluded})  # fmt: skip
    return pd.DataFrame(rows)


def filter_options(warehouse: Warehouse, tenant_id: int) -> FilterOptions:
    """The tenant's services, locations and the appointment statuses found in its data."""
    with warehouse.shared_session() as session:
        values = {"tenant_id": tenant_id}
        return FilterOptions(
            services=session.con.execute(load_sql("segments/known_services.sql"), values).fetch_df(),
            locations=session.con.execute(load_sql("segments/known_locations.sql"), values).fetch_df(),
            statuses=list(_catalog(session, tenant_id).statuses),
        )


def _send_rules(ledger: Ledger | None, query: AudienceQuery) -> SendRules:
    """The send-time rules of the query's tenant (the default ones without a ledger)."""
    from orchestration.sender.gates import default_quiet_hours, preview_rules  # the sender package imports this one

    if ledger is None:
        return preview_rules(None, query.tenant_id)
    # remembered until the ledger changes; the default window comes from the environment, so it is part of the key
    key = ("send_rules", query.tenant_id, default_quiet_hours())
    return watched.remembered(ledger, key, lambda con: preview_rules(con, query.tenant_id))


def zone_values(rules: SendRules | None) -> dict[str, Any]:
    """The value preview.sql binds for the zones: which numbers need their messages counted for a cap (`rules`: the
    tenant's send rules; None: no ledger, so nothing is counted)."""
    return {"capped_numbers": rules.capped_numbers if rules is not None else None}


def _zone_groups(rows: list[dict[str, Any]] | None) -> list[ZoneGroup]:
    """preview.sql's recipient groups as the gates' preview takes them (the counted numbers' digits as E.164)."""
    from orchestration.sender.gates import ZoneGroup

    return [ZoneGroup(row["client_timezone"], tuple(row["phone_zones"] or ()), row["strict_state"],
                      row["members"], tuple(f"+{key}" for key in row["counted"] or ()))
            for row in rows or ()]  # fmt: skip


def _gates(ledger: Ledger | None, rules: SendRules, query: AudienceQuery, groups: list[ZoneGroup]) -> GatePreview:
    """What the send-time gates would do to the recipients at the preview's instant: the frequency cap (an
    exclusion) and the quiet hours (a deferral)."""
    from orchestration.sender.gates import preview_gates

    moment = query.as_of_utc().timestamp()
    if ledger is None or not any(group.counted for group in groups):
        return preview_gates(None, rules, query.tenant_id, groups, moment)
    return watched.read(ledger, lambda con: preview_gates(con, rules, query.tenant_id, groups, moment))


def _suppressed(ledger: Ledger | None, query: AudienceQuery) -> pa.Table:
    """The numbers to leave out (undeliverable ones whenever the ledger is given, the suppression list when the
    query excludes it) and to count as on the suppression list."""
    if ledger is None:
        if query.exclude_suppressed:
            raise ValueError("excluding the suppression list needs the ledger")
        return no_suppressed_numbers()
    return suppressed_numbers(ledger, query.tenant_id)


def _by_reason(rows: list[tuple]) -> tuple[int, dict]:
    by_reason = dict(rows)
    return by_reason.pop(None, 0), {reason: by_reason.get(reason, 0) for reason in EXCLUSIONS}
