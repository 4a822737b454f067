"""The DuckDB warehouse file: readers (short-lived, or one held per process), atomic copy-on-write publishing.

Writers never touch the live file: `Warehouse.writer()` copies it, works on the copy and publishes it with
`os.replace`, so a failed write leaves the previous warehouse intact and readers are never blocked.
Writers are serialized by an advisory lock file next to the warehouse.

`Warehouse.shared_reader()` serves a process that reads often (previews in the console, the CLI in a loop, the
benchmarks): it keeps one read-only attachment of the file open per process and hands out a cursor per unit of
work. A held attachment keeps the inode it opened; a publish renames a new inode over the path, so the writer is
never blocked, and the next `shared_reader()` sees the new file (device, inode, mtime) and reopens.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from orchestration.errors import UserError
from orchestration.sqlfiles import load_sql

_LOCK_MARKERS = ("lock", "Conflicting lock", "being used by another process")


class WarehouseMissing(UserError):
    """The warehouse has not been built yet."""


@dataclass
class _Held:
    """One process's read-only attachment of a warehouse file, and which file (device, inode, mtime) it is."""

    identity: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    opens: int
    users: int = 0  # cursors handed out and not yet closed
    retired: bool = False  # a newer file was published: close once the last user is done
    # what callers derived from this file's contents (SharedSession.remember): valid exactly as long as the file
    memo: dict[Hashable, Any] = field(default_factory=dict)

    def release(self) -> None:
        """One user is done (call under _HELD_LOCK); a retired attachment closes with its last user."""
        self.users -= 1
        if self.retired and self.users == 0:
            self.con.close()

    def retire(self) -> None:
        self.retired = True
        if self.users == 0:
            self.con.close()


_T = TypeVar("_T")


@dataclass(frozen=True)
class SharedSession:
    """One unit of work on a process's held attachment: a cursor, and a memo of what was derived from the file."""

    con: duckdb.DuckDBPyConnection
    _held: _Held

    def remember(self, key: Hashable, compute: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T:
        """`compute(con)`'s answer for `key`, computed once per published file: a publish makes a new attachment
        with an empty memo, so nothing remembered outlives the data it was read from."""
        memo = self._held.memo
        if key not in memo:
            memo[key] = compute(self.con)  # two threads may both compute it: same file, same answer
        return memo[key]


_HELD: dict[Path, _Held] = {}
_HELD_LOCK = threading.Lock()
# The catalog name under which a shared reader attaches the warehouse file.
ATTACHED = "warehouse"


def _with_lock_retries(connect: Callable[[], duckdb.DuckDBPyConnection], attempts: int) -> duckdb.DuckDBPyConnection:
    delay = 0.01
    for attempt in range(attempts):
        try:
            return connect()
        except duckdb.IOException as exc:
            if attempt == attempts - 1 or not any(m in str(exc) for m in _LOCK_MARKERS):
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")


@cache
def _expected_columns() -> dict[str, frozenset[str]]:
    """Each table of sql/warehouse/schema.sql with its columns, as this version of the code reads them."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(load_sql("warehouse/schema.sql"))
        rows = con.execute(load_sql("warehouse/table_columns.sql"), {"catalog": "memory"}).fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return {table: frozenset(columns) for table, columns in found.items()}


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A UserError when the attached file was built by an older version whose tables lack columns this code reads
    (the warehouse is rebuilt by every sync, so the fix is one sync)."""
    present: dict[str, set[str]] = {}
    for table, column in con.execute(load_sql("warehouse/table_columns.sql"), {"catalog": ATTACHED}).fetchall():
        present.setdefault(table, set()).add(column)
    missing = {table: sorted(columns - present[table]) for table, columns in _expected_columns().items()
               if table in present and columns - present[table]}  # fmt: skip
    if missing:
        lacking = "; ".join(f"{table} lacks {', '.join(columns)}" for table, columns in sorted(missing.items()))
        raise UserError(f"The warehouse at {path} was built by an older version of bkntc-sms ({lacking}): run "
                        "`bkntc-sms sync` once to rebuild it from the Booknetic source.")


def _attached(path: Path) -> duckdb.DuckDBPyConnection:
    """A private in-memory database with the warehouse file attached read-only (not shared with other connects),
    checked to have every column this version reads."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH $path AS {ATTACHED} (READ_ONLY)", {"path": str(path)})
        _check_schema(con, path)
    except BaseException:
        con.close()
        raise
    return con


class Warehouse:
    """One DuckDB warehouse file; every connection lives for one unit of work only."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def reader(self, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; retries with jittered back-off if the file is momentarily locked."""
        if not self.exists:
            raise self._missing()
        con = _with_lock_retries(lambda: duckdb.connect(str(self.path), read_only=True), attempts)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def spilling_reader(self, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private in-memory database with the file attached read-only, for one big unit of work under its own
        settings (memory_limit, threads, temp_directory): unlike a read-only connection to the file, it spills what
        does not fit to its temp_directory instead of failing."""
        if not self.exists:
            raise self._missing()
        con = _with_lock_retries(lambda: _attached(self.path), attempts)
        try:
            con.execute(f"USE {ATTACHED}")
            yield con
        finally:
            con.close()

    @contextmanager
    def shared_reader(self, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on this process's held read-only attachment of the file, reopened when a new file was published.

        Use it like `reader()` for one unit of work; temp tables and registered relations stay private to the
        cursor. Global settings (memory_limit, threads) would change every cursor's: take `reader()` for those."""
        with self.shared_session(attempts) as session:
            yield session.con

    @contextmanager
    def shared_session(self, attempts: int = 40) -> Iterator[SharedSession]:
        """`shared_reader()`'s cursor with the attachment's memo (SharedSession.remember)."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise self._missing() from None
        identity = (info.st_dev, info.st_ino, info.st_mtime_ns)
        key = self.path.resolve()
        with _HELD_LOCK:
            held = _HELD.get(key)
            if held is None or held.identity != identity:
                if held is not None:
                    held.retire()  # cursors still in use finish on the old file, then it closes
                # identity was read before the attach: a publish in between makes the next call reopen, never stale
                con = _with_lock_retries(lambda: _attached(self.path), attempts)
                held = _HELD[key] = _Held(identity, con, (held.opens if held else 0) + 1)
            cursor = held.con.cursor()
            held.users += 1
        try:
            cursor.execute(f"USE {ATTACHED}")
            yield SharedSession(cursor, held)
        finally:
            cursor.close()
            with _HELD_LOCK:
                held.release()

    def shared_reader_opens(self) -> int:
        """How often this process (re)opened its held attachment of the file (0: never)."""
        with _HELD_LOCK:
            held = _HELD.get(self.path.resolve())
            return held.opens if held else 0

    def release_shared_reader(self) -> None:
        """Closes this process's held attachment of the file, if any (the next shared reader opens it again)."""
        with _HELD_LOCK:
            held = _HELD.pop(self.path.resolve(), None)
            if held is not None:
                held.retire()

    def _missing(self) -> WarehouseMissing:
        return WarehouseMissing(
            f"No warehouse at {self.path}: run `bkntc-sms sync --source ...` (or `make demo`) first."
        )

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection on a private copy, published atomically when the block succeeds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
            try:
                if self.exists:
                    shutil.copyfile(self.path, tmp)
                con = duckdb.connect(str(tmp))
                try:
                    yield con
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                os.replace(tmp, self.path)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    leftover.unlink(missing_ok=True)
                fcntl.flock(lock, fcntl.LOCK_UN)

    def tables(self) -> list[str]:
        with self.reader() as con:
            return [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
