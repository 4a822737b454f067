"""The DuckDB warehouse file: readers (short-lived, or one held per process), atomic copy-on-write publishing.

Writers never touch the live file: `Warehouse.writer()` copies it, works on the copy and publishes it with
`os.replace`, so a failed write leaves the previous warehouse intact and readers are never blocked.
Writers are serialized by an advisory lock file next to the warehouse.

`Warehouse.shared_reader()` serves a process that reads often (previews in the console, the CLI in a loop, the
benchmarks): it keeps one read-only attachment of the file open per process and hands out a cursor per unit of
work. A held attachment keeps the inode it opened; a publish renames a new inode over the path, so the writer is
never blocked, and the next `shared_reader()` sees the new file (device, inode, mtime) and reopens.

Cursors are kept too (a few idle ones per attachment): `SharedSession.execute` prepares each statement text once
per cursor (DuckDB's PREPARE) and runs it with EXECUTE, so a preview repeated on the same file skips parsing (about
0.7 ms of a small preview's statement). DuckDB binds and optimizes an EXECUTE again with its values: the segment
queries' parameters are typed by casts, which leaves them UNKNOWN in the prepared statement, and planning with the
values is what prunes row groups by tenant and id range and turns an empty tenant into an empty result. Prepared
statements live and die with the cursor, and the cursor with the attachment, so none outlives its file.
"""

from __future__ import annotations

import fcntl
import math
import os
import random
import shutil
import threading
import time
import uuid
from collections import OrderedDict
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
# Idle cursors an attachment keeps for the next sessions (more at once are opened and closed as needed), and the
# prepared statements each cursor keeps (least recently used first out): a preview composes a few dozen texts.
IDLE_CURSORS = 4
PREPARED_PER_CURSOR = 64


class WarehouseMissing(UserError):
    """The warehouse has not been built yet."""


@dataclass
class _Cursor:
    """A kept cursor on a held attachment: its prepared statements (statement text -> name) and what its sessions
    keep on it (SharedSession.cursor_state, e.g. a temp table's contents)."""

    con: duckdb.DuckDBPyConnection
    prepared: OrderedDict[str, str] = field(default_factory=OrderedDict)
    state: dict[Hashable, Any] = field(default_factory=dict)
    prepares: int = 0  # statements prepared on it so far (their names: prepared_1, prepared_2, ...)


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
    idle: list[_Cursor] = field(default_factory=list)  # cursors kept for the next sessions (at most IDLE_CURSORS)

    def take(self) -> _Cursor:
        """An idle cursor, or a new one on the attachment (call under _HELD_LOCK)."""
        self.users += 1
        if self.idle:
            return self.idle.pop()
        cursor = self.con.cursor()
        try:
            cursor.execute(f"USE {ATTACHED}")
        except BaseException:
            self.users -= 1
            cursor.close()
            raise
        return _Cursor(cursor)

    def release(self, cursor: _Cursor, keep: bool) -> None:
        """One user is done with `cursor` (call under _HELD_LOCK): kept for the next session when `keep` and there
        is room, else closed; a retired attachment closes with its last user."""
        self.users -= 1
        if keep and not self.retired and len(self.idle) < IDLE_CURSORS:
            self.idle.append(cursor)
        else:
            cursor.con.close()
        if self.retired and self.users == 0:
            self.con.close()

    def retire(self) -> None:
        self.retired = True
        for cursor in self.idle:
            cursor.con.close()
        self.idle.clear()
        if self.users == 0:
            self.con.close()


_T = TypeVar("_T")


@dataclass(frozen=True)
class SharedSession:
    """One unit of work on a process's held attachment: a cursor, and a memo of what was derived from the file.

    The cursor is kept for later sessions: what a session registers or creates on `con` stays there, so a session
    replaces what it reads (re-registering a name, or keeping a temp table's contents in `cursor_state`)."""

    con: duckdb.DuckDBPyConnection
    _held: _Held
    _cursor: _Cursor

    @property
    def cursor_state(self) -> dict[Hashable, Any]:
        """What this session's cursor keeps between the sessions that use it (e.g. which rows a temp table holds)."""
        return self._cursor.state

    def execute(self, sql: str, values: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Runs `sql` (one statement, named $parameters) with `values` as a prepared statement of this cursor:
        prepared the first time the cursor sees the text, then only executed. The values are written into the
        EXECUTE as SQL literals (`sql_literal`), since DuckDB's EXECUTE takes no parameters of its own."""
        cursor = self._cursor
        name = cursor.prepared.get(sql)
        if name is None:
            cursor.prepares += 1
            name = f"prepared_{cursor.prepares}"
            self.con.execute(f"PREPARE {name} AS {sql}")
            cursor.prepared[sql] = name
            if len(cursor.prepared) > PREPARED_PER_CURSOR:
                _, oldest = cursor.prepared.popitem(last=False)
                self.con.execute(f"DEALLOCATE {oldest}")
        else:
            cursor.prepared.move_to_end(sql)
        arguments = ", ".join(f"{key} := {sql_literal(value)}" for key, value in (values or {}).items())
        return self.con.execute(f"EXECUTE {name}({arguments})" if arguments else f"EXECUTE {name}")

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


def sql_literal(value: Any) -> str:
    """`value` (None, bool, int, finite float, str, or a list or tuple of those) as a DuckDB SQL literal; strings
    are quoted with their quotes doubled (DuckDB's standard strings take no backslash escapes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(item) for item in value) + "]"
    raise TypeError(f"no SQL literal for {type(value).__name__} {value!r}")


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
    expected = _expected_columns()
    lacks = sorted(f"{table} lacks {', '.join(sorted(columns - present[table]))}" if table in present
                   else f"no table {table}"
                   for table, columns in expected.items() if columns - present.get(table, set()))  # fmt: skip
    if lacks:
        lacking = "; ".join(lacks)
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

        Use it like `reader()` for one unit of work; temp tables and registered relations stay on the cursor, which
        later sessions may be handed (SharedSession). Global settings (memory_limit, threads) would change every
        cursor's: take `reader()` for those."""
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
            cursor = held.take()
        keep = False
        try:
            yield SharedSession(cursor.con, held, cursor)
            keep = True  # a session that failed may leave its cursor in any state: closed, not kept
        finally:
            with _HELD_LOCK:
                held.release(cursor, keep)

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
