"""What a process that previews often keeps of a SQLite ledger: one connection per ledger file, and what was read
from the ledger since it last changed (the suppression lists, the send rules), reused until another connection
commits. SQLite's `PRAGMA data_version` moves on every commit by another connection; it is read before the rows, so a
commit in between makes the next read fetch them again. Opening a ledger connection costs about 0.4 ms, reading the
version a few microseconds.

A PostgreSQL ledger has no such counter: `remembered` computes on a connection from its pool each time."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from orchestration.ledger import Ledger

_T = TypeVar("_T")


@dataclass
class _Watched:
    """One process's kept connection to a ledger file and what was read at its current data_version."""

    con: sqlite3.Connection
    file: tuple[int, int]  # the ledger file's (device, inode) it was opened on
    version: int = -1
    memo: dict[Hashable, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_WATCHED: dict[tuple[int, Path], _Watched] = {}
_WATCHED_LOCK = threading.Lock()


def remembered(ledger: Ledger, key: Hashable, compute: Callable[[Any], _T]) -> _T:
    """`compute(con)`'s answer for `key`, computed on a read connection of `ledger` (rows as sqlite3.Row) once per
    change of the ledger (each time on PostgreSQL). `key` names everything else the answer depends on."""
    watched = _watched(ledger)
    if watched is None:
        with ledger.read() as con:
            return compute(con)
    with watched.lock:
        version = watched.con.execute("PRAGMA data_version").fetchone()[0]
        if version != watched.version:
            watched.version, watched.memo = version, {}
        if key not in watched.memo:
            watched.memo[key] = compute(watched.con)
        return watched.memo[key]


def read(ledger: Ledger, compute: Callable[[Any], _T]) -> _T:
    """`compute(con)` on the process's kept connection to a SQLite ledger (a pooled one on PostgreSQL), for reads
    that depend on more than the ledger (the instant, the numbers) and so are not remembered."""
    watched = _watched(ledger)
    if watched is None:
        with ledger.read() as con:
            return compute(con)
    with watched.lock:
        return compute(watched.con)


def _watched(ledger: Ledger) -> _Watched | None:
    """The kept connection to the SQLite ledger's file (reopened when another file took its path, e.g. a restored
    backup); None for PostgreSQL or a ledger file not created yet."""
    if ledger.dialect != "sqlite":
        return None
    try:
        stat = os.stat(ledger.path)
    except FileNotFoundError:
        return None
    key, file = (os.getpid(), ledger.path.resolve()), (stat.st_dev, stat.st_ino)  # a connection never crosses a fork
    with _WATCHED_LOCK:
        kept = _WATCHED.get(key)
        if kept is None or kept.file != file:
            if kept is not None:
                kept.con.close()
            con = sqlite3.connect(ledger.path, isolation_level=None, check_same_thread=False)
            con.row_factory = sqlite3.Row  # as Ledger.read() gives them
            kept = _WATCHED[key] = _Watched(con, file)
        return kept
