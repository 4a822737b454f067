"""The ledger: a SQLite file by default (WAL mode, a busy timeout, versioned migrations from
`sql/ledger/NNN_*.sql`), or PostgreSQL when it is opened with a `postgresql://` URL (`orchestration.ledger.postgres`,
migrations from `sql/postgres/ledger/NNN_*.sql`, the same versions). Callers see one API: `read()` and `write()`.

On SQLite every write goes through `Ledger.write()`, which opens `BEGIN IMMEDIATE` so that concurrent writers queue
on the busy timeout instead of failing on a lock upgrade; a lock that outlasts the timeout is retried with
jittered back-off, so no person ever sees "database is locked".
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from orchestration.ledger.postgres import PostgresBackend, is_postgres_url, redacted
from orchestration.sqlfiles import SQL_DIR, migration_files

MIGRATIONS_DIR = SQL_DIR / "ledger"
BUSY_TIMEOUT_MS = 30_000
LedgerError = (sqlite3.Error, psycopg.Error)  # what a failed ledger statement raises, on either dialect


def migrations() -> list[tuple[int, Path]]:
    """The SQLite ledger's migrations in order: (version, file)."""
    return migration_files(MIGRATIONS_DIR)


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


class Ledger:
    """One ledger: a SQLite file path, or a `postgresql://` URL. Connections are opened (SQLite) or taken from a
    pool (PostgreSQL) per unit of work; open a `Ledger` anywhere, cheaply."""

    def __new__(cls, location: str | os.PathLike[str], migrate: bool = True) -> Ledger:
        if cls is Ledger and is_postgres_url(location):
            return super().__new__(PostgresLedger)
        return super().__new__(cls)

    def __init__(self, location: str | os.PathLike[str], migrate: bool = True):
        self.path = Path(location)
        self.dialect = "sqlite"
        if migrate:
            self.migrate()

    @property
    def location(self) -> str:
        """What opens this ledger again, in another process: the file's path or the URL."""
        return str(self.path)

    def __repr__(self) -> str:
        return f"Ledger({self.path})"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA foreign_keys = ON")
        return con

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (autocommit; each statement sees a consistent snapshot)."""
        con = self._retry(self._connect)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self, con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """One write transaction on a connection from `read()` that is kept open (BEGIN IMMEDIATE ... COMMIT)."""
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back whole if the block raises."""
        con = self._retry(self._connect)
        try:
            self._retry(lambda: con.execute("BEGIN IMMEDIATE"))
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self._retry(lambda: con.execute("COMMIT"))
        finally:
            con.close()

    @staticmethod
    def _retry(action, attempts: int = 20):
        delay = 0.05
        for attempt in range(attempts):
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if attempt == attempts - 1 or not _is_locked(exc):
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def version(self) -> int:
        with self.read() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; returns the new version."""
        for version, path in migrations():
            with self.write() as con:
                current = con.execute("PRAGMA user_version").fetchone()[0]
                if version <= current:
                    continue
                for statement in _statements(path.read_text(encoding="utf-8")):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {version:d}")
        return self.version()


class PostgresLedger(Ledger):
    """The ledger on PostgreSQL: `Ledger("postgresql://user:pass@host:5432/db")`."""

    def __init__(self, location: str, migrate: bool = True):
        self.url = location
        self.dialect = "postgresql"
        self._backend = PostgresBackend(location)
        if migrate:
            self.migrate()

    @property
    def path(self) -> Path:
        raise AttributeError("a PostgreSQL ledger has no file: use `location`")

    @property
    def location(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"Ledger({redacted(self.url)})"

    def read(self):
        return self._backend.read()

    def write(self):
        return self._backend.write()

    def transaction(self, con):
        return con.transaction()

    def version(self) -> int:
        return self._backend.version()

    def migrate(self) -> int:
        return self._backend.migrate()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows where each one ends)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
