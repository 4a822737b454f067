"""The SQLite ledger: WAL mode, a busy timeout, versioned migrations from `sql/ledger/NNN_*.sql`.

Every write goes through `Ledger.write()`, which opens `BEGIN IMMEDIATE` so that concurrent writers queue on
the busy timeout instead of failing on a lock upgrade; a lock that outlasts the timeout is retried with
jittered back-off, so no person ever sees "database is locked".
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.sqlfiles import SQL_DIR

MIGRATIONS_DIR = SQL_DIR / "ledger"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 30_000


def migrations() -> list[tuple[int, Path]]:
    """The ledger's migrations in order: (version, file)."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


class Ledger:
    """One ledger file. Connections are opened per unit of work; open a `Ledger` anywhere, cheaply."""

    def __init__(self, path: str | os.PathLike[str], migrate: bool = True):
        self.path = Path(path)
        if migrate:
            self.migrate()

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
