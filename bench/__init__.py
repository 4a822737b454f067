"""Benchmarks (not tests): each `bench/<name>.py` prints its figures and appends a section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
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
