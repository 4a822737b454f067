"""Plumbing of the reliability suite: its ports, a simulator in its own process, CLI subprocesses, figure files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.config import TWILIO_API_URL_ENV, Home
from orchestration.sender.runner import HTTP_TIMEOUT_ENV
from tests.fixtures.servers import port_is_free, worker_ports

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "reliability"
PORTS = range(35000, 35500)
SECONDS_ENV = "BKNTC_RELIABILITY_SECONDS"
FULL_ENV = "BKNTC_RELIABILITY_FULL"
_next_port = [(os.getpid() * 7) % 100]  # an index into this process's share of PORTS


def free_port() -> int:
    """A port of this suite's range (35000-35499; under pytest-xdist, this worker's share) that nothing listens on
    right now."""
    ports = worker_ports(PORTS)
    for _ in range(len(ports)):
        port = ports[_next_port[0] % len(ports)]
        _next_port[0] += 1
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli.entry", *args]


def cli_env(home: Home, base_url: str | None = None, http_timeout: float | None = None, **extra: str) -> dict:
    """The environment of a CLI subprocess on `home`, sending to `base_url`."""
    env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_EDGE", "TWILIO_REGION", "BKNTC_SMS_FAULT")}
    env["BKNTC_SMS_HOME"] = str(home.root)
    env["PYTHONPATH"] = str(ROOT)
    if base_url:
        env[TWILIO_API_URL_ENV] = base_url
    if http_timeout is not None:
        env[HTTP_TIMEOUT_ENV] = str(http_timeout)
    env.update(extra)
    return env


def run_to_exit(argv: list[str], env: dict | None = None, timeout: float = 300, stdin: str | None = None,
                cwd: Path = ROOT, preexec_fn: Callable[[], None] | None = None,
                ) -> subprocess.CompletedProcess:  # fmt: skip
    """`argv` in its own process until it exits; its stdout and stderr as text, through files rather than pipes.

    A send run's Dagster compute-log capture mirrors the step's output through `tail -F` children, and those can
    outlive the process holding an inherited pipe open: after a crash, until their orphan watcher ends them, and
    (before orchestration/termination.py) whenever the run inherited SIGTERM ignored. `subprocess.run(
    capture_output=True)` then waited for them instead of for the process; waiting for the process is what every
    caller means."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(argv, env=env, cwd=cwd, text=True, stdout=out, stderr=err, preexec_fn=preexec_fn,
                                   stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)  # fmt: skip
        try:
            if stdin is not None:
                process.stdin.write(stdin)
                process.stdin.close()
            process.wait(timeout=timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, process.returncode, out.read(), err.read())


def run_cli(*args: str, env: dict, timeout: float = 300, stdin: str | None = None) -> subprocess.CompletedProcess:
    """One CLI command in its own process; stdout and stderr captured as text."""
    return run_to_exit(cli_argv(*args), env=env, timeout=timeout, stdin=stdin)


class SimulatorProcess:
    """`bkntc-sms simulator` in its own process on a port of this suite; `--record FILE` keeps what it accepted."""

    def __init__(self, workdir: Path, *args: str, seed: int = 1) -> None:
        self.record = workdir / "simulator-record.jsonl"
        self.log = workdir / "simulator.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        argv = cli_argv("simulator", "--port", str(self.port), "--record", str(self.record), "--seed", str(seed),
                        *args)  # fmt: skip
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the simulator exited: {self.log.read_text(errors='replace')}")
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the simulator did not start in 30 s")

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base_url + path, timeout=10) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, int]:
        return self._get("/_sim/stats")

    def accepted(self) -> list[dict[str, Any]]:
        """Every message the simulator accepted, from its record file (it survives the process). A last line the
        simulator is still writing (no newline yet) is left for the next read."""
        if not self.record.exists():
            return []
        text = self.record.read_text(encoding="utf-8")
        complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def messages(self) -> list[dict[str, Any]]:
        """Every message with its current status (`GET /_sim/messages`)."""
        return self._get("/_sim/messages")["messages"]

    def count(self, name: str) -> int:
        """One counter of the simulator's /_sim/stats (0 when it has not happened yet)."""
        return int(self.stats().get(name, 0))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def simulator_process(workdir: Path, *args: str, seed: int = 1) -> Iterator[SimulatorProcess]:
    running = SimulatorProcess(workdir, *args, seed=seed)
    try:
        yield running
    finally:
        running.stop()


def ledger_query(path: Path, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
    """Rows of a read-only query on a ledger file (the test's own look, not the product's)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def full_size() -> bool:
    """Whether the scenarios run at the size RELIABILITY.md reports: `make reliability` sets $BKNTC_RELIABILITY_FULL=1;
    without it (`make test`) the long scenarios run smaller, proving the same premises with fewer iterations."""
    return os.environ.get(FULL_ENV) == "1"


def seconds_window(default: float = 20.0) -> float:
    """How long the timed scenarios run: $BKNTC_RELIABILITY_SECONDS (60 for the full report), else `default`."""
    return float(os.environ.get(SECONDS_ENV) or default)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    """Writes one scenario's measured figures to test-artifacts/reliability/NAME.json (for RELIABILITY.md)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = {"scenario": name, "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, **figures}  # fmt: skip
    path = ARTIFACTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


def ledger_digest(path: Path) -> str:
    """A hash of every row of the ledger (schema included): equal digests mean nothing was written."""
    import hashlib

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode("utf-8")).hexdigest()
    finally:
        con.close()


def file_digest(path: Path) -> str | None:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
