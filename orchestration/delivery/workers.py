"""The callback receiver in several worker processes behind one port (gunicorn), for more callbacks per second than
one Python process can parse.

Each worker is a process of its own, forked before the app is built, so each has its own `CallbackApp`: its own
token cache, its own ledger connection and its own writer thread that commits the reports of its request threads in
batches (`writer.StatusWriter`). Workers write the same ledger: every batch is one BEGIN IMMEDIATE transaction, so
SQLite serialises them, and each report is applied with Twilio's precedence inside it, so two workers receiving
callbacks for one SID (duplicates, out of order) end in the same state as one would. Every worker also runs the
once-a-second sweep (`callbacks.sweep_until`), which is idempotent.
"""

from __future__ import annotations

import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from orchestration.config import Home
from orchestration.delivery.callbacks import CallbackApp, sweep_until

WORKERS = 2
THREADS = 8  # request threads per worker: the reports they wait on are committed together


class CallbackWorkers(BaseApplication):
    """`CallbackApp` served by gunicorn: `workers` processes of `threads` request threads each, on host:port."""

    def __init__(self, home: Home, host: str = "127.0.0.1", port: int = 8090, *, workers: int = WORKERS,
                 threads: int = THREADS, public_url: str | None = None) -> None:
        self.home = home
        self.public_url = public_url
        self.url = f"http://{host}:{port}"
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 5,
            "proc_name": "bkntc-sms-callbacks",
            "control_socket_disable": True,  # its default is one socket path per user, shared by every gunicorn
            "worker_exit": _stop_writer,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> CallbackApp:
        """Runs in each worker, after the fork: its own app, writer and sweep."""
        app = CallbackApp(self.home, public_url=self.public_url)
        threading.Thread(target=sweep_until, args=(app.ledger, threading.Event()), name="callbacks-sweep",
                         daemon=True).start()
        return app


def _stop_writer(server: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook: the worker's writer commits what is queued before the process ends."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, CallbackApp):
        app.writer.stop()
        worker.log.info("Worker %s committed %d status reports in %d batches", worker.pid, app.writer.reports,
                        app.writer.batches)
