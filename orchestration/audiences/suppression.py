"""Reads one tenant's suppressed numbers from the ledger as an Arrow table, for DuckDB to subtract."""

from __future__ import annotations

import pyarrow as pa

from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

_SCHEMA = pa.schema([("tenant_id", pa.int32()), ("phone_e164", pa.string())])


def suppressed_numbers(ledger: Ledger, tenant_id: int) -> pa.Table:
    """The tenant's suppression list: columns `tenant_id`, `phone_e164`."""
    with ledger.read() as con:
        phones = [r[0] for r in con.execute(load_sql("segments/suppressed_numbers.sql"), (tenant_id,)).fetchall()]
    return pa.table({"tenant_id": pa.array([tenant_id] * len(phones), pa.int32()),
                     "phone_e164": pa.array(phones, pa.string())}, schema=_SCHEMA)  # fmt: skip


def no_suppressed_numbers() -> pa.Table:
    """An empty suppression list (when a query does not exclude it)."""
    return _SCHEMA.empty_table()
