"""Sync assets: `booknetic_raw` copies the source in; one multi-asset rebuilds the cleaned layer and facts."""

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.warehouse.quality import phone_status_counts
from orchestration.warehouse.source_spec import has_password, load_source_spec, read_spec_file
from orchestration.warehouse.sync import (
    CLEANED_TABLES,
    FACTS_TABLE,
    PROGRESS_LOGGER,
    StepReport,
    build_cleaned,
    copy_raw_tables,
    parse_as_of,
    rows_per_tenant,
    tenant_regions,
)

GROUP = "sync"
# The CLI listens here to draw its progress display; Dagster's own log gets the same lines.
progress_log = logging.getLogger(PROGRESS_LOGGER)


class SyncConfig(dg.Config):
    """Run config of a sync: where to read and the as-of instant.

    Dagster stores run configs in clear, so a URL with a password never goes in `source`: it lives in a 0600
    file, the home's remembered source (both fields empty) or the file named by `source_file`.
    """

    source: str = ""  # a snapshot folder, or a mysql:// URL without a password
    source_file: str = ""  # a file holding the spec (what `bkntc-sms sync` uses)
    as_of: str = ""  # ISO-8601; empty: now (UTC)

    def spec(self, home: HomeResource) -> str:
        if has_password(self.source):
            raise UserError("a source URL with a password cannot go in the run config (Dagster stores it in "
                            "clear): run `bkntc-sms sync --source URL`, which keeps it in a 0600 file")
        if self.source:
            return self.source
        if self.source_file:
            return read_spec_file(Path(self.source_file))
        return load_source_spec(home.home())


def _progress(context: dg.AssetExecutionContext):
    def report(step: StepReport) -> None:
        context.log.info(step.message)
        progress_log.info(step.message, extra={"step_report": step})

    return report


def _as_of(config: SyncConfig) -> datetime:
    return parse_as_of(config.as_of)


@dg.asset(group_name=GROUP, kinds={"duckdb"}, description="Every Booknetic source table, copied into raw_<table>.")
def booknetic_raw(context: dg.AssetExecutionContext, config: SyncConfig, home: HomeResource) -> dg.MaterializeResult:
    source = open_source(config.spec(home))
    try:
        with home.warehouse().writer() as con:
            rows = copy_raw_tables(source, con, _progress(context))
    finally:
        source.close()
    return dg.MaterializeResult(
        metadata={"source": source.description, "rows": sum(rows.values()), **{f"rows/{t}": n for t, n in rows.items()},
                  "rejected_values": source.rejects.total}
    )


_DESCRIPTIONS = {
    "customers": "Customers with E.164 phones and a phone status, per tenant.",
    "appointments": "Appointments with Unix seconds and UTC timestamps, per tenant.",
    "services": "Services, per tenant.",
    "locations": "Locations, per tenant.",
    "staff": "Staff, per tenant.",
    "company": "Company details from WordPress options, per tenant.",
    "tenants": "Every tenant seen in the data (0 on a single site).",
    FACTS_TABLE: "Per-customer appointment facts as of the sync's as_of.",
}
_SOURCES = {FACTS_TABLE: ["customers", "appointments"], "tenants": list(CLEANED_TABLES[:-1])}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            group_name=GROUP,
            kinds={"duckdb"},
            description=_DESCRIPTIONS[name],
            deps=["booknetic_raw", *_SOURCES.get(name, [])],
        )
        for name in (*CLEANED_TABLES, FACTS_TABLE)
    ],
    can_subset=False,
)
def warehouse_cleaned(
    context: dg.AssetExecutionContext, config: SyncConfig, home: HomeResource
) -> Iterator[dg.MaterializeResult]:
    """The contract tables and customer_facts, rebuilt from the raw tables and published together."""
    as_of = _as_of(config)
    with home.warehouse().writer() as con:
        rows = build_cleaned(con, as_of, tenant_regions(home.ledger()), _progress(context))
        per_tenant = {table: rows_per_tenant(con, table) for table in rows}
        phones = phone_status_counts(con)
    for table, count in rows.items():
        metadata: dict[str, object] = {
            "rows": count,
            "rows_per_tenant": {str(t): n for t, n in per_tenant[table].items()},
        }
        if table == "customers":
            metadata["invalid_phone_share"] = round(phones.invalid_share, 4)
            metadata["no_phone_share"] = round(phones.no_phone_share, 4)
        if table == FACTS_TABLE:
            metadata["as_of"] = as_of.isoformat() + "Z"
        yield dg.MaterializeResult(asset_key=table, metadata=metadata)
