"""Benchmarks (not tests): each `bench/<name>.py` prints its figures and appends a section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import threading
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
# `bench.run_all` points the scripts it runs at a scratch file, then folds their sections into its report.
SECTIONS_ENV = "BKNTC_BENCH_SECTIONS"


def machine() -> str:
    """One line describing where the figures were measured."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def append_section(title: str, body: str) -> None:
    """Append `## title` with `body` to BENCHMARKS.md (created when missing; other sections are kept)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    target = Path(os.environ.get(SECTIONS_ENV) or BENCHMARKS_MD)
    if not target.exists():
        target.write_text("# Benchmarks\n\nFigures appended by the scripts in `bench/`.\n")
    with target.open("a", encoding="utf-8") as out:
        out.write(f"\n## {title}\n\n_{stamp}, {machine()}_\n\n{body.rstrip()}\n")


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples this process's resident memory every 20 ms while the block runs: `.start`, `.peak` in MB."""

    def __enter__(self) -> PeakRss:
        self.peak = self.start = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
