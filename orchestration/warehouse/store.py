"""The DuckDB warehouse file: short-lived readers that retry on a lock, and atomic copy-on-write publishing.

Writers never touch the live file: `Warehouse.writer()` copies it, works on the copy and publishes it with
`os.replace`, so a failed write leaves the previous warehouse intact and readers are never blocked.
Writers are serialized by an advisory lock file next to the warehouse.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.errors import UserError

_LOCK_MARKERS = ("lock", "Conflicting lock", "being used by another process")


class WarehouseMissing(UserError):
    """The warehouse has not been built yet."""


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
            raise WarehouseMissing(
                f"No warehouse at {self.path}: run `bkntc-sms sync --source ...` (or `make demo`) first."
            )
        delay = 0.01
        for attempt in range(attempts):
            try:
                con = duckdb.connect(str(self.path), read_only=True)
                break
            except duckdb.IOException as exc:
                if attempt == attempts - 1 or not any(m in str(exc) for m in _LOCK_MARKERS):
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
        try:
            yield con
        finally:
            con.close()

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
