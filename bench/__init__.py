"""Benchmarks (not tests): each `bench/<name>.py` prints its figures and appends a section to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    """One line describing where the figures were measured."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def append_section(title: str, body: str) -> None:
    """Append `## title` with `body` to BENCHMARKS.md (created when missing; other sections are kept)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not BENCHMARKS_MD.exists():
        BENCHMARKS_MD.write_text("# Benchmarks\n\nFigures appended by the scripts in `bench/`.\n")
    with BENCHMARKS_MD.open("a", encoding="utf-8") as out:
        out.write(f"\n## {title}\n\n_{stamp}, {machine()}_\n\n{body.rstrip()}\n")
