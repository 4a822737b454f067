"""Benchmark: sync throughput from a snapshot folder (CSV, Parquet): per step, peak memory, copy-on-write cost."""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from bench import PeakRss
from orchestration.source import open_source
from orchestration.source.synthetic import generate, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.phones import normalize_distinct
from orchestration.warehouse.sync import StepReport, sync

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
AS_OF = datetime(2025, 6, 1, tzinfo=UTC)




def run_sync(folder: Path, warehouse: Warehouse) -> tuple[float, list[StepReport], PeakRss]:
    steps: list[StepReport] = []
    with PeakRss() as memory, open_source(str(folder)) as source:
        started = time.perf_counter()
        sync(source, warehouse, AS_OF, regions=None, progress=steps.append)
        seconds = time.perf_counter() - started
    return seconds, steps, memory


def writer_overhead(warehouse: Warehouse) -> float:
    started = time.perf_counter()
    with warehouse.writer():
        pass
    return time.perf_counter() - started


def phone_figures(warehouse: Warehouse) -> list[tuple[str, int, float]]:
    with warehouse.reader() as con:
        distinct = con.sql(
            "SELECT DISTINCT 'US' AS region, phone_number AS phone FROM raw_customers WHERE phone_number IS NOT NULL"
        ).to_arrow_table()
    figures = []
    for label, workers in (("1 process", 1), ("process pool", None)):
        started = time.perf_counter()
        normalize_distinct(pa.table({"region": distinct["region"], "phone": distinct["phone"]}), workers=workers)
        figures.append((label, distinct.num_rows, time.perf_counter() - started))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50k customers instead of 1M")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--tenants", type=int, default=3)
    args = parser.parse_args()
    customers = args.customers or (50_000 if args.quick else 1_000_000)

    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        started = time.perf_counter()
        tables = generate(customers, args.tenants, seed=7, as_of=AS_OF)
        appointments = tables["appointments"].num_rows
        total_rows = sum(t.num_rows for t in tables.values())
        for fmt in ("csv", "parquet"):
            write_snapshot(tables, work / fmt, fmt=fmt)
        del tables
        seconds = time.perf_counter() - started
        print(f"generated {customers:,} customers, {appointments:,} appointments in {seconds:.1f}s")

        results = {}
        for fmt in ("csv", "parquet"):
            warehouse = Warehouse(work / f"warehouse-{fmt}" / "warehouse.duckdb")
            first = run_sync(work / fmt, warehouse)
            again = run_sync(work / fmt, warehouse)  # over an existing warehouse: pays the copy-on-write
            size = warehouse.path.stat().st_size / 2**20
            overhead = writer_overhead(warehouse)
            results[fmt] = (first, again, size, overhead, warehouse)
            print(f"{fmt}: first sync {first[0]:.1f}s ({total_rows / first[0]:,.0f} rows/s), "
                  f"re-sync {again[0]:.1f}s, peak RSS {first[2].peak:,.0f} MB, warehouse {size:,.0f} MB, "
                  f"empty writer() {overhead:.2f}s")
            for step in first[1]:
                print(f"   {step.message}")
        phones = phone_figures(results["parquet"][4])
        for label, count, seconds in phones:
            print(f"phones ({label}): {count:,} distinct in {seconds:.1f}s ({count / seconds:,.0f}/s)")
        report(customers, appointments, total_rows, results, phones)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(customers: int, appointments: int, total_rows: int, results: dict, phones: list) -> None:
    lines = [
        "",
        "## Warehouse sync: snapshot folder → DuckDB raw, cleaned layer, customer facts (bench_sync)",
        "",
        f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {_cpus()} CPUs, "
        f"Python {platform.python_version()}_",
        "",
        f"{customers:,} customers, {appointments:,} appointments, {total_rows:,} source rows in all; "
        "`sync()` outside Dagster, two copy-on-write units (raw; cleaned + facts).",
        "",
        "| format | first sync | rows/s | re-sync (copies the warehouse twice) | peak RSS | warehouse file "
        "| empty `writer()` (copy + publish) |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt, (first, again, size, overhead, _) in results.items():
        lines.append(f"| {fmt} | {first[0]:.1f} s | {total_rows / first[0]:,.0f} | {again[0]:.1f} s "
                     f"| {first[2].peak:,.0f} MB | {size:,.0f} MB | {overhead:.2f} s |")
    lines += ["", "Time per step (first sync):", "", "| step | " + " | ".join(results) + " |",
              "|---|" + "---|" * len(results)]
    by_fmt = {fmt: {(s.step, s.table): s for s in first[1]} for fmt, (first, *_rest) in results.items()}
    for key in by_fmt["csv"]:
        cells = " | ".join(f"{by_fmt[fmt][key].seconds:.2f} s ({by_fmt[fmt][key].rows:,} rows)" for fmt in results)
        lines.append(f"| {key[0]} {key[1]} | {cells} |")
    lines += ["", "Phone normalization of the distinct raw numbers (`phonenumbers` parse + is_valid + format):", ""]
    for label, count, seconds in phones:
        lines.append(f"- {label}: {count:,} distinct numbers in {seconds:.1f} s ({count / seconds:,.0f}/s)")
    with BENCHMARKS.open("a", encoding="utf-8") as out:
        if BENCHMARKS.stat().st_size == 0:
            out.write("# Benchmarks\n\nFigures appended by the scripts in `bench/`.\n")
        out.write("\n".join(lines) + "\n")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
