"""Group commit for status reports: many request threads hand their report to one writer thread, which applies
whatever has queued up in one transaction on its own long-lived ledger connection, then answers each of them.

Each report is still applied with Twilio's precedence (`apply_in`) and is persisted before its caller returns, so a
callback is answered only once its row is committed. One connection for the writer's life also keeps SQLite from
checkpointing and removing the WAL every time a per-request connection closed as the last one (a file sync each).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from typing import Any

from orchestration.delivery.status import Applied, apply_in
from orchestration.ledger import Ledger

log = logging.getLogger(__name__)

MAX_BATCH = 500

_Report = tuple[int, str, str, Any, str, dict[str, Any] | None]  # tenant_id, sid, status, error_code, source, raw


class StatusWriter:
    """Applies status reports in batches from one thread (started on the first report, a daemon)."""

    def __init__(self, ledger: Ledger, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[_Report, Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.reports = 0

    def apply(
        self, tenant_id: int, sid: str, status: str, error_code: Any, source: str, raw: dict[str, Any] | None = None
    ) -> Applied:
        """`apply_status`, committed together with the reports that arrived meanwhile; blocks until committed."""
        self._ensure_started()
        done: Future[Applied] = Future()
        self._queue.put(((tenant_id, sid, status, error_code, source, raw), done))
        return done.result()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="status-writer", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Applies what is queued, then ends the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=10)

    def _work(self) -> None:
        with self.ledger.read() as con:  # one connection for the writer's life; each batch is one transaction
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)
                        break
                    batch.append(item)
                self._commit(con, batch)

    def _commit(self, con: sqlite3.Connection, batch: list[tuple[_Report, Future]]) -> None:
        try:
            results = self._transaction(con, [report for report, _ in batch])
        except Exception:  # noqa: BLE001 - one bad report must not fail the others: each on its own
            log.exception("A batch of %d status reports failed; applying them one by one", len(batch))
            for report, done in batch:
                try:
                    done.set_result(self._transaction(con, [report])[0])
                except Exception as exc:  # noqa: BLE001 - handed to the caller, which answers an error
                    done.set_exception(exc)
            return
        self.batches += 1
        self.reports += len(batch)
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)

    def _transaction(self, con: sqlite3.Connection, reports: list[_Report]) -> list[Applied]:
        with self.ledger.transaction(con):
            return [apply_in(con, tenant_id, sid, status, code, source, raw)
                    for tenant_id, sid, status, code, source, raw in reports]
