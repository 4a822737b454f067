"""How fast the synthetic generator makes 1M customers / ~5M appointments, and writes and reads them as snapshots."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import append_section
from orchestration.source import open_source
from orchestration.source.synthetic import generate, write_snapshot


def _size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k customers instead of 1M")
    args = parser.parse_args()
    customers = 100_000 if args.quick else 1_000_000

    started = time.perf_counter()
    tables = generate(customers, 2, seed=7, as_of=datetime(2025, 6, 1, tzinfo=UTC))
    generate_seconds = time.perf_counter() - started
    appointments = tables["appointments"].num_rows
    lines = [f"{customers:,} customers, {appointments:,} appointments, 2 tenants", "",
             "| step | seconds | rows/s (appointments) |", "|---|---|---|",
             f"| generate (all tables) | {generate_seconds:.1f} | {appointments / generate_seconds:,.0f} |"]
    print(lines[-1], flush=True)
    with tempfile.TemporaryDirectory(prefix="bkntc-bench-snapshot-") as scratch:
        for fmt in ("csv", "parquet"):
            folder = Path(scratch) / fmt
            started = time.perf_counter()
            write_snapshot(tables, folder, fmt=fmt)
            seconds = time.perf_counter() - started
            lines.append(f"| write {fmt} snapshot ({_size_mb(folder):,.0f} MB) | {seconds:.1f} | "
                         f"{appointments / seconds:,.0f} |")
            print(lines[-1], flush=True)
            started = time.perf_counter()
            with open_source(str(folder)) as source:
                rows = sum(batch.num_rows for batch in source.read("appointments"))
            seconds = time.perf_counter() - started
            lines.append(f"| read {fmt} appointments into canonical Arrow | {seconds:.1f} | {rows / seconds:,.0f} |")
            print(lines[-1], flush=True)
    body = "\n".join(lines)
    append_section("Synthetic Booknetic data: generate, write, read (bench_generate)", body)


if __name__ == "__main__":
    main()
