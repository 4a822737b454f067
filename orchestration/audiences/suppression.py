"""Reads one tenant's numbers to exclude from the ledger as an Arrow table, for DuckDB to subtract: its suppression
list (when a query excludes it) and its undeliverable numbers (always; Twilio said 30005/30006)."""

from __future__ import annotations

import pyarrow as pa

from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

SQLITE_MAX_INTEGER = 2**63 - 1  # a tenant id beyond it has no ledger rows (and SQLite cannot bind it)
_SCHEMA = pa.schema([("tenant_id", pa.int32()), ("phone_e164", pa.string()), ("exclusion", pa.string())])


def suppressed_numbers(ledger: Ledger, tenant_id: int, suppressed: bool = True) -> pa.Table:
    """The tenant's numbers to exclude: columns `tenant_id`, `phone_e164`, `exclusion` ('suppressed' for the
    suppression list when `suppressed`, else 'undeliverable'; a suppressed number counts as suppressed)."""
    if not 0 <= tenant_id <= SQLITE_MAX_INTEGER:  # the warehouse check names the unknown tenant to the person
        return no_suppressed_numbers()
    with ledger.read() as con:
        rows = con.execute(load_sql("segments/suppressed_numbers.sql"),
                           {"tenant_id": tenant_id, "suppressed": int(suppressed)}).fetchall()
    return pa.table({"tenant_id": pa.array([tenant_id] * len(rows), pa.int32()),
                     "phone_e164": pa.array([r[0] for r in rows], pa.string()),
                     "exclusion": pa.array([r[1] for r in rows], pa.string())}, schema=_SCHEMA)  # fmt: skip


def no_suppressed_numbers() -> pa.Table:
    """Nothing to exclude (when a query has no ledger)."""
    return _SCHEMA.empty_table()
