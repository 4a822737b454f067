"""Reads one tenant's suppressed numbers from the ledger as an Arrow table, for DuckDB to subtract."""

from __future__ import annotations

import pyarrow as pa

from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

_SCHEMA = pa.schema([("phone_e164", pa.string())])


def suppressed_numbers(ledger: Ledger, tenant_id: int) -> pa.Table:
    """The tenant's suppression list: one column `phone_e164`."""
    with ledger.read() as con:
        rows = con.execute(load_sql("segments/suppressed_numbers.sql"), (tenant_id,)).fetchall()
    return pa.table({"phone_e164": pa.array([r[0] for r in rows], pa.string())}, schema=_SCHEMA)


def no_suppressed_numbers() -> pa.Table:
    """An empty suppression list (when a query does not exclude it)."""
    return _SCHEMA.empty_table()
