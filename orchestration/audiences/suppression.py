"""Reads one tenant's numbers to leave out from the ledger as an Arrow table, for DuckDB to subtract: its suppression
list (excluded when a query excludes it) and its undeliverable numbers (always; Twilio said 30005/30006).

A process that previews often reads them once per ledger change (watched.remembered)."""

from __future__ import annotations

import pyarrow as pa

from orchestration.audiences import watched
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

SQLITE_MAX_INTEGER = 2**63 - 1  # a tenant id beyond it has no ledger rows (and SQLite cannot bind it)
_SCHEMA = pa.schema([("tenant_id", pa.int32()), ("phone_e164", pa.string()), ("listed", pa.bool_()),
                     ("undeliverable", pa.bool_())])  # fmt: skip


def suppressed_numbers(ledger: Ledger, tenant_id: int) -> pa.Table:
    """The tenant's numbers to leave out: columns `tenant_id`, `phone_e164`, `listed` (on the suppression list) and
    `undeliverable` (Twilio reported it cannot receive SMS); each number once."""
    if not 0 <= tenant_id <= SQLITE_MAX_INTEGER:  # the warehouse check names the unknown tenant to the person
        return no_suppressed_numbers()

    def read(con) -> pa.Table:
        return _table(tenant_id, con.execute(load_sql("segments/suppressed_numbers.sql"),
                                             {"tenant_id": tenant_id}).fetchall())  # fmt: skip

    return watched.remembered(ledger, ("suppressed_numbers", tenant_id), read)


def _table(tenant_id: int, rows: list) -> pa.Table:
    return pa.table({"tenant_id": pa.array([tenant_id] * len(rows), pa.int32()),
                     "phone_e164": pa.array([r[0] for r in rows], pa.string()),
                     "listed": pa.array([bool(r[1]) for r in rows], pa.bool_()),
                     "undeliverable": pa.array([bool(r[2]) for r in rows], pa.bool_())}, schema=_SCHEMA)  # fmt: skip


_NONE = _SCHEMA.empty_table()


def no_suppressed_numbers() -> pa.Table:
    """Nothing to leave out (a query without a ledger, the materialized segments): one table (Arrow tables are
    immutable), so a preview's cursor that holds it for a tenant need not replace it (audience.use_suppressed)."""
    return _NONE
