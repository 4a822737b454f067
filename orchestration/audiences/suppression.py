"""Reads one tenant's numbers to leave out from the ledger as an Arrow table, for DuckDB to subtract: its suppression
list (excluded when a query excludes it) and its undeliverable numbers (always; Twilio said 30005/30006).

A process that previews often reads them once per ledger change: each ledger path keeps one SQLite connection
whose `PRAGMA data_version` moves whenever another connection commits, and the tables read since the last move
are reused. The version is read before the rows, so a commit in between makes the next read fetch them again.
A PostgreSQL ledger has no such counter: each call reads the rows from its pool."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

SQLITE_MAX_INTEGER = 2**63 - 1  # a tenant id beyond it has no ledger rows (and SQLite cannot bind it)
_SCHEMA = pa.schema([("tenant_id", pa.int32()), ("phone_e164", pa.string()), ("listed", pa.bool_()),
                     ("undeliverable", pa.bool_())])  # fmt: skip


@dataclass
class _Watched:
    """One process's kept connection to a ledger file and the tables read at its current data_version."""

    con: sqlite3.Connection
    version: int = -1
    tables: dict[int, pa.Table] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_WATCHED: dict[tuple[int, Path], _Watched] = {}
_WATCHED_LOCK = threading.Lock()


def suppressed_numbers(ledger: Ledger, tenant_id: int) -> pa.Table:
    """The tenant's numbers to leave out: columns `tenant_id`, `phone_e164`, `listed` (on the suppression list) and
    `undeliverable` (Twilio reported it cannot receive SMS); each number once."""
    if not 0 <= tenant_id <= SQLITE_MAX_INTEGER:  # the warehouse check names the unknown tenant to the person
        return no_suppressed_numbers()
    if ledger.dialect != "sqlite":
        with ledger.read() as con:
            return _table(tenant_id, con.execute(load_sql("segments/suppressed_numbers.sql"),
                                                 {"tenant_id": tenant_id}).fetchall())  # fmt: skip
    watched = _watched(ledger)
    with watched.lock:
        version = watched.con.execute("PRAGMA data_version").fetchone()[0]
        if version != watched.version:
            watched.version, watched.tables = version, {}
        if tenant_id not in watched.tables:
            rows = watched.con.execute(load_sql("segments/suppressed_numbers.sql"), {"tenant_id": tenant_id}).fetchall()
            watched.tables[tenant_id] = _table(tenant_id, rows)
        return watched.tables[tenant_id]


def _table(tenant_id: int, rows: list) -> pa.Table:
    return pa.table({"tenant_id": pa.array([tenant_id] * len(rows), pa.int32()),
                     "phone_e164": pa.array([r[0] for r in rows], pa.string()),
                     "listed": pa.array([bool(r[1]) for r in rows], pa.bool_()),
                     "undeliverable": pa.array([bool(r[2]) for r in rows], pa.bool_())}, schema=_SCHEMA)  # fmt: skip


def _watched(ledger: Ledger) -> _Watched:
    key = (os.getpid(), ledger.path.resolve())  # a connection never crosses a fork
    with _WATCHED_LOCK:
        if key not in _WATCHED:
            _WATCHED[key] = _Watched(sqlite3.connect(ledger.path, isolation_level=None, check_same_thread=False))
        return _WATCHED[key]


_NONE = _SCHEMA.empty_table()


def no_suppressed_numbers() -> pa.Table:
    """Nothing to leave out (a query without a ledger, the materialized segments): one table (Arrow tables are
    immutable), so a preview's cursor that holds it for a tenant need not replace it (audience.use_suppressed)."""
    return _NONE
