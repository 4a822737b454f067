"""The ledger on PostgreSQL (psycopg 3 and a connection pool), chosen by a `postgresql://` URL.

The callers see what the SQLite ledger gives them: `read()` and `write()` yield a connection whose `execute(sql,
params)` takes the shared SQL files with SQLite's parameter marks (`?`, `:name`; see `sqlfiles.postgres_sql`) and
returns a cursor of rows readable by column name and by index. Parameters are bound client-side (psycopg's
`ClientCursor`), as SQLite does it: a `NULL` or a bare `:name` needs no declared type. A bool is sent as 1 or 0 (the
ledger's flags are integers, as in SQLite) and a `numeric` comes back as an int or a float, never a Decimal.

`write()` is one READ COMMITTED transaction. Where SQLite's single writer was relied upon, the statements lock the
rows they read and then change (`SELECT ... FOR UPDATE` in the files' PostgreSQL variants: the sender's pacing row,
a campaign's lifecycle and runner hold), and claims skip the rows another worker has locked (`FOR UPDATE SKIP
LOCKED`), so several workers claim disjoint chunks. Migrations (`sql/postgres/ledger/NNN_*.sql`, the same versions
as SQLite's) are applied under an advisory lock, each version in its own transaction.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg_pool import ConnectionPool, PoolTimeout

from orchestration.errors import UserError
from orchestration.sqlfiles import POSTGRES_DIR, migration_files, postgres_sql

MIGRATIONS_DIR = POSTGRES_DIR / "ledger"
MIGRATION_LOCK = 0x626B6E74  # the advisory lock key every migrating process takes ("bknt")
POOL_MAX = int(os.environ.get("BKNTC_SMS_LEDGER_POOL_MAX", "16"))
POOL_TIMEOUT_S = 60.0  # a unit of work waits this long for a free connection
CONNECT_TIMEOUT_S = 15.0  # a process's first connection: past it, the URL is reported unreachable

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS ledger_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port, dbname = info.get("host", ""), info.get("port", ""), info.get("dbname", "")
    return f"postgresql://{info.get('user', '')}@{host}{':' + port if port else ''}/{dbname}"


class Row(tuple):
    """A result row, by column name (`row["state"]`) or by index (`row[0]`), like `sqlite3.Row`."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


_ROW_CLASSES: dict[tuple[str, ...], type[Row]] = {}


def _row_factory(cursor: psycopg.Cursor) -> Any:
    names = tuple(column.name for column in cursor.description or ())
    made = _ROW_CLASSES.get(names)
    if made is None:
        made = _ROW_CLASSES[names] = type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in
                                                                                   enumerate(names)}})  # fmt: skip
    return made


class _BoolAsInt(Dumper):
    """Python bools go in as 1 and 0: the ledger's flags are INTEGER columns, as in the SQLite schema."""

    oid = psycopg.postgres.types["int4"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: bool) -> bytes:
        return self.dump(obj)


class _NumericAsNumber(Loader):
    """A numeric result (a literal, sum() of bigints) is an int or a float, as SQLite gives it, never a Decimal."""

    format = Format.TEXT

    def load(self, data) -> int | float:
        text = bytes(data).decode()
        if text.lstrip("-").isdigit():
            return int(text)
        value = Decimal(text)
        return float(value)


class PgConnection:
    """One pooled connection, with the sqlite3.Connection methods the ledger's code uses."""

    def __init__(self, con: psycopg.Connection) -> None:
        self.raw = con

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> psycopg.ClientCursor:
        cursor = self.raw.cursor()
        cursor.execute(postgres_sql(sql), params if params is not None else ())
        return cursor

    def executemany(self, sql: str, seq: Any) -> psycopg.ClientCursor:
        cursor = self.raw.cursor()
        cursor.executemany(postgres_sql(sql), list(seq))
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One transaction on this connection (committed, or rolled back whole if the block raises)."""
        with self.raw.transaction():
            yield self


def _configure(con: psycopg.Connection) -> None:
    con.adapters.register_dumper(bool, _BoolAsInt)
    con.adapters.register_loader("numeric", _NumericAsNumber)
    con.row_factory = _row_factory
    con.cursor_factory = psycopg.ClientCursor


_pools: dict[tuple[str, int], ConnectionPool] = {}
_migrated: set[tuple[str, int]] = set()
_pools_lock = threading.Lock()


def _pool(url: str) -> ConnectionPool:
    key = (url, os.getpid())  # a forked child opens its own pool: connections are not shared across processes
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, timeout=POOL_TIMEOUT_S, open=True,
                                  kwargs={"autocommit": True}, configure=_configure, name="ledger")  # fmt: skip
            try:
                pool.wait(timeout=CONNECT_TIMEOUT_S)
            except PoolTimeout:
                pool.close()
                raise UserError(f"Cannot connect to the PostgreSQL ledger at {redacted(url)} (in "
                                f"{CONNECT_TIMEOUT_S:.0f} s): is the server up, and the URL's user, password and "
                                "database right?") from None  # fmt: skip
            _pools[key] = pool
    return pool


def close_pools() -> None:
    """Closes this process's pools (tests, and a process about to exit)."""
    with _pools_lock:
        for key in [k for k in _pools if k[1] == os.getpid()]:
            _pools.pop(key).close()
        _migrated.clear()


def migrations() -> list[tuple[int, Path]]:
    """The PostgreSQL ledger's migrations in order: (version, file)."""
    return migration_files(MIGRATIONS_DIR)


class PostgresBackend:
    """The pooled connections of one PostgreSQL ledger."""

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def read(self) -> Iterator[PgConnection]:
        with _pool(self.url).connection() as con:
            yield PgConnection(con)

    @contextmanager
    def write(self) -> Iterator[PgConnection]:
        with _pool(self.url).connection() as con, con.transaction():
            yield PgConnection(con)

    def version(self) -> int:
        with self.read() as con:
            if con.execute("SELECT to_regclass('ledger_version')").fetchone()[0] is None:
                return 0
            return con.execute("SELECT coalesce(max(version), 0) FROM ledger_version").fetchone()[0]

    def migrate(self) -> int:
        """Applies the versions above the current one, each in its own transaction, under an advisory lock (two
        processes migrating at once: the second waits, then finds nothing left to do)."""
        key = (self.url, os.getpid())
        if key in _migrated:
            return self.version()
        for version, path in migrations():
            with self.write() as con:
                con.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                con.execute(_VERSION_TABLE)
                current = con.execute("SELECT coalesce(max(version), 0) FROM ledger_version").fetchone()[0]
                if version <= current:
                    continue
                con.raw.execute(path.read_text(encoding="utf-8"))  # a whole script: no parameters, as written
                con.execute("INSERT INTO ledger_version (version) VALUES (?)", (version,))
        _migrated.add(key)
        return self.version()
