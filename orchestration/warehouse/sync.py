"""Copies a Booknetic source into the DuckDB warehouse: raw tables, the cleaned layer, per-customer facts.

Two copy-on-write units, each published atomically by `Warehouse.writer()`:
1. `load_raw`: every source table, streamed via Arrow into `raw_<table>` (a bad source publishes nothing);
2. `build_cleaned`: the contract tables of `sql/warehouse/schema.sql` and `customer_facts`, rebuilt together
   from the raw tables, so readers always see one consistent cleaned layer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.source import schema as source_schema
from orchestration.sqlfiles import load_sql
from orchestration.warehouse.phones import DEFAULT_REGION, INVALID_PHONE, normalize_distinct
from orchestration.warehouse.store import Warehouse

if TYPE_CHECKING:
    from orchestration.source import BookneticSource

REQUIRED_TABLES = ("customers", "appointments", "services", "locations", "staff")
# Tables the cleaned layer reads but a source may lack (no options table in a bare export, tenants outside SaaS).
OPTIONAL_TABLES = ("options", "tenants")
# The cleaned layer in build order (tenants reads the others; customer_facts reads customers and appointments).
CLEANED_TABLES = ("customers", "appointments", "services", "locations", "staff", "company", "tenants")
FACTS_TABLE = "customer_facts"
# The distinct zones of the ok numbers, which customer_facts.zone_set names (built with the facts).
ZONE_SETS_TABLE = "zone_sets"
# Each tenant's appointment client timezones, which appointments.timezone_id numbers (built with the appointments).
TIMEZONES_TABLE = "client_timezones"
# Values the source could not read as their column's type (read as NULL), per source table and column.
REJECTS_TABLE = "source_rejects"
# Name of the Python logger on which the Dagster assets repeat each StepReport (record attribute `step_report`).
PROGRESS_LOGGER = "orchestration.sync.progress"
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class StepReport:
    """One finished step of a sync: what it built, how many rows, how long it took."""

    step: str
    table: str
    rows: int
    seconds: float

    @property
    def message(self) -> str:
        return f"{self.step} {self.table}: {self.rows:,} rows in {self.seconds:.2f}s"


Progress = Callable[[StepReport], None]


@dataclass
class SyncResult:
    """Rows written per table, by step."""

    raw: dict[str, int] = field(default_factory=dict)
    cleaned: dict[str, int] = field(default_factory=dict)


def as_utc(as_of: datetime) -> datetime:
    """The instant as a naive UTC datetime (how the warehouse stores TIMESTAMPs); naive input is read as UTC."""
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    return as_of


def parse_as_of(text: str) -> datetime:
    """An ISO-8601 instant given by a person (empty: now), as naive UTC."""
    if not text.strip():
        return as_utc(datetime.now(UTC))
    try:
        return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise UserError(f"--as-of {text!r} is not an ISO-8601 date or time (e.g. 2025-06-01T12:00:00Z)") from None


def _report(progress: Progress | None, step: str, table: str, rows: int, started: float) -> None:
    if progress is not None:
        progress(StepReport(step, table, rows, time.perf_counter() - started))


def _checked_name(table: str) -> str:
    if not _TABLE_NAME.match(table):
        raise UserError(f"The source offers a table named {table!r}, which is not a Booknetic table name")
    return table


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {_checked_name(table)}").fetchall()[0][0]


def copy_raw_tables(source: BookneticSource, con: duckdb.DuckDBPyConnection, progress: Progress | None = None
                    ) -> dict[str, int]:
    """Streams every source table into `raw_<table>` (Arrow → DuckDB, no row loops); returns rows per table.

    A value that does not fit its column is read as NULL and counted in the table `source_rejects`."""
    tables = [_checked_name(t) for t in source.tables()]
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise UserError(
            f"{source.description} has no {', '.join(missing)} table"
            f" (expected {', '.join(f'{source.prefix}bkntc_{t}' for t in missing)})"
        )
    stale = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw\\_%' ESCAPE '\\'"
    ).fetchall()
    for (name,) in stale:
        if name.removeprefix("raw_") not in tables:
            con.execute(f"DROP TABLE {_checked_name(name)}")
    rows = {}
    for table in tables:
        started = time.perf_counter()
        _create_from_batches(con, table, source.read(table))
        rows[table] = _count(con, f"raw_{table}")
        _report(progress, "raw", table, rows[table], started)
    for table in OPTIONAL_TABLES:
        if table not in tables:
            _create_from_batches(con, table, iter(()))
    con.register("incoming_rejects", source.rejects.as_table())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {REJECTS_TABLE} AS SELECT * FROM incoming_rejects")
    finally:
        con.unregister("incoming_rejects")
    return rows


def _create_from_batches(con: duckdb.DuckDBPyConnection, table: str, batches: Iterator[pa.RecordBatch]) -> None:
    """CREATE OR REPLACE TABLE raw_<table> from a stream of batches; a UserError raised mid-stream stays one."""
    failure: list[UserError] = []

    def guarded() -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        except UserError as exc:
            failure.append(exc)
            raise

    stream = guarded()
    first = next(stream, None)
    schema = first.schema if first is not None else source_schema.spec(table).schema
    reader = pa.RecordBatchReader.from_batches(schema, stream if first is None else _chain(first, stream))
    con.register("incoming_batches", reader)
    try:
        con.execute(f"CREATE OR REPLACE TABLE raw_{_checked_name(table)} AS SELECT * FROM incoming_batches")
    except duckdb.Error:
        if failure:
            raise failure[0] from None
        raise
    finally:
        con.unregister("incoming_batches")


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def build_cleaned(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime,
    regions: Mapping[int, str] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rebuilds the contract tables and customer_facts from the raw tables; returns rows per table."""
    for table in (*CLEANED_TABLES, TIMEZONES_TABLE, FACTS_TABLE, ZONE_SETS_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(load_sql("warehouse/schema.sql"))
    tenant_regions = pa.table(
        {
            "tenant_id": pa.array(list((regions or {}).keys()), pa.int64()),
            "region": pa.array(list((regions or {}).values()), pa.string()),
        }
    )
    con.register("tenant_regions", tenant_regions)
    try:
        started = time.perf_counter()
        distinct = con.sql(
            load_sql("warehouse/phones_distinct.sql"), params={"default_region": DEFAULT_REGION}
        ).to_arrow_table()
        phone_lookup = normalize_distinct(distinct)
        _report(progress, "phones", "distinct numbers", phone_lookup.num_rows, started)
        con.register("phone_lookup", phone_lookup)
        rows = {}
        for table in CLEANED_TABLES:
            started = time.perf_counter()
            if table == "customers":
                _without_dictionary_fsst(con, lambda: con.execute(load_sql("warehouse/customers.sql"),
                                                                  {"default_region": DEFAULT_REGION}))  # fmt: skip
            else:
                if table == "appointments":  # their timezone_id numbers the tenant's client_timezones
                    con.execute(load_sql(f"warehouse/{TIMEZONES_TABLE}.sql"))
                con.execute(load_sql(f"warehouse/{table}.sql"))
            rows[table] = _count(con, table)
            _report(progress, "clean", table, rows[table], started)
        con.unregister("phone_lookup")
    finally:
        con.unregister("tenant_regions")
    started = time.perf_counter()
    rows[FACTS_TABLE] = build_facts(con, as_of)
    _report(progress, "facts", FACTS_TABLE, rows[FACTS_TABLE], started)
    return rows


def _without_dictionary_fsst(con: duckdb.DuckDBPyConnection, write: Callable[[], object]) -> None:
    """Runs `write` with DuckDB's DICT_FSST string compression off. A preview reads its sample's names, phones and
    e-mails from customers by id, and in a DICT_FSST segment even one row costs the decoding of its dictionary: 4.3 ms
    for one customer, 7 ms for twenty, against 1.7 and 3.1 ms when DuckDB picks among the other methods (200,000
    customers, BENCHMARKS.md); the table grows about 3x (27 MB there), a small part of the warehouse."""
    con.execute("SET disabled_compression_methods = 'dict_fsst'")
    try:
        write()
        con.execute("CHECKPOINT")  # compress now, under this setting, not when the writer closes
    finally:
        con.execute("SET disabled_compression_methods = ''")


def build_facts(con: duckdb.DuckDBPyConnection, as_of: datetime) -> int:
    """(Re)fills customer_facts (and the zone_sets it names) from the cleaned customers and appointments; returns
    the facts' rows."""
    from orchestration.sender.quiet_hours import STRICT_STATE_AREA_CODES  # the sender package reads the warehouse

    for table in (FACTS_TABLE, ZONE_SETS_TABLE):
        con.execute(f"DELETE FROM {table}")
    con.execute(load_sql("warehouse/customer_facts.sql"), {"as_of": as_utc(as_of), "as_of_epoch": _epoch(as_of),
                                                            "strict_area_codes": sorted(STRICT_STATE_AREA_CODES)})
    con.execute(load_sql("warehouse/zone_sets.sql"))
    return _count(con, FACTS_TABLE)


def _epoch(as_of: datetime) -> int:
    return int(as_utc(as_of).replace(tzinfo=UTC).timestamp())


def sync(
    source: BookneticSource,
    warehouse: Warehouse,
    as_of: datetime,
    regions: Mapping[int, str] | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """The whole sync outside Dagster (the assets call the two steps one by one, each in its own writer)."""
    result = SyncResult()
    with warehouse.writer() as con:
        result.raw = copy_raw_tables(source, con, progress)
    with warehouse.writer() as con:
        result.cleaned = build_cleaned(con, as_of, regions, progress)
    return result


def tenant_regions(ledger: Ledger) -> dict[int, str]:
    """Each tenant's default phone region, as set in the ledger (tenants absent there read numbers as US)."""
    with ledger.read() as con:
        return {row["tenant_id"]: row["default_region"] or DEFAULT_REGION
                for row in con.execute(load_sql("warehouse/tenant_regions.sql"))}


def rows_per_tenant(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, int]:
    """Row count of a cleaned table per tenant."""
    name = _checked_name(table)
    return dict(con.execute(f"SELECT tenant_id, count(*) FROM {name} GROUP BY tenant_id ORDER BY 1").fetchall())


def invalid_phone_share(con: duckdb.DuckDBPyConnection) -> float:
    """Share of customers (all tenants) whose phone is present but not a valid number."""
    total, invalid = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE phone_status = $invalid) FROM customers", {"invalid": INVALID_PHONE}
    ).fetchall()[0]
    return invalid / total if total else 0.0
