"""Benchmark: materializing every ready segment, preview latency with random filters, streaming recipients."""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import PeakRss, append_section
from orchestration.audiences import (
    SEGMENTS,
    AudienceQuery,
    filter_options,
    materialize_segments,
    preview,
    recipients,
)
from orchestration.ledger import Ledger
from orchestration.source import open_source
from orchestration.source.synthetic import generate, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)




def build(root: Path, customers: int, tenants: int) -> tuple[Warehouse, Ledger, dict[str, int]]:
    """Generated Booknetic data, synced into a warehouse; a ledger suppressing 1% of each tenant's numbers."""
    write_snapshot(generate(customers, tenants, seed=3, as_of=AS_OF), root / "snapshot", fmt="parquet")
    warehouse = Warehouse(root / "warehouse.duckdb")
    with open_source(str(root / "snapshot")) as source:
        sync(source, warehouse, AS_OF)
    with warehouse.reader() as con:
        sizes = dict(zip(("customers", "appointments"), con.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM appointments)").fetchone(), strict=True))
        suppressed = con.execute(
            "SELECT tenant_id, phone_e164 FROM customers WHERE phone_e164 IS NOT NULL USING SAMPLE 1%").fetchall()
    ledger = Ledger(root / "ledger.sqlite")
    with ledger.write() as con:
        con.executemany("INSERT OR IGNORE INTO tenants (tenant_id) VALUES (?)", {(t,) for t, _ in suppressed})
        con.executemany("INSERT OR IGNORE INTO suppression (tenant_id, phone_e164, source) VALUES (?, ?, 'import')",
                        suppressed)  # fmt: skip
    return warehouse, ledger, sizes


def random_query(rng: random.Random, tenant: int, options) -> AudienceQuery:
    name = rng.choice(list(SEGMENTS))
    parameter = SEGMENTS[name].parameter
    value = rng.choice(parameter.choices) if parameter and rng.random() < 0.7 else None
    services = list(options.services["service_id"])
    locations = list(options.locations["location_id"])
    return AudienceQuery(
        tenant_id=tenant,
        segment=name,
        days=value if parameter and parameter.name == "days" else None,
        min=value if parameter and parameter.name == "min" else None,
        service_ids=rng.sample(services, rng.randint(1, min(3, len(services)))) if rng.random() < 0.4 else (),
        location_ids=rng.sample(locations, 1) if locations and rng.random() < 0.3 else (),
        statuses=rng.sample(options.statuses, rng.randint(1, 2)) if rng.random() < 0.3 else (),
        min_appointments=rng.choice([2, 3]) if rng.random() < 0.2 else None,
        exclude_suppressed=rng.random() < 0.5,
        as_of=AS_OF,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50k customers, 20 previews")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--previews", type=int, default=200)
    args = parser.parse_args()
    customers, previews = (50_000, 20) if args.quick else (args.customers, args.previews)

    with tempfile.TemporaryDirectory(prefix="bench-audiences-") as folder:
        started = time.perf_counter()
        warehouse, ledger, sizes = build(Path(folder), customers, args.tenants)
        print(f"data: {sizes} in {time.perf_counter() - started:.1f} s (generate + sync)")

        started = time.perf_counter()
        with PeakRss() as materialize_memory, warehouse.writer() as con:
            written = materialize_segments(con, AS_OF)
        materialize_s = time.perf_counter() - started
        members = {name: sum(t["members"] for t in per.values()) for name, per in written.items()}
        print(f"materialize all segments: {materialize_s:.2f} s, "
              f"peak RSS {materialize_memory.peak:.0f} MB, members {members}")  # fmt: skip

        with warehouse.reader() as con:
            tenants = [r[0] for r in con.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()]
        options = {t: filter_options(warehouse, t) for t in tenants}
        rng = random.Random(5)
        latencies = []
        for _ in range(previews):
            tenant = rng.choice(tenants)
            query = random_query(rng, tenant, options[tenant])
            started = time.perf_counter()
            preview(warehouse, ledger, query)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
        print(f"preview: {previews} random queries, p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")

        largest = max(tenants, key=lambda t: written["all_customers"].get(t, {}).get("members", 0))
        started = time.perf_counter()
        with PeakRss() as stream_memory:
            streamed = sum(len(chunk) for chunk in recipients(warehouse, None, AudienceQuery(
                largest, "all_customers", as_of=AS_OF)))  # fmt: skip
        stream_s = time.perf_counter() - started
        print(f"recipients of tenant {largest}: {streamed:,} in {stream_s:.2f} s, "
              f"RSS {stream_memory.start:.0f} -> peak {stream_memory.peak:.0f} MB")  # fmt: skip

    append_section(
        "Audiences: segment materialization, previews, recipient streaming (bench_audiences)",
        f"""_{sizes['customers']:,} customers, {sizes['appointments']:,} appointments, {len(tenants)} tenants;
generated + synced, then measured on the warehouse file_

| step | figure | goal |
|---|---|---|
| materialize all {len(SEGMENTS)} segments, all tenants (one copy-on-write writer) | {materialize_s:.2f} s \
(peak RSS {materialize_memory.peak:.0f} MB) | <= 10 s at 1M/5M |
| preview, {previews} random segment/filter combinations | p50 {p50:.0f} ms, p95 {p95:.0f} ms, \
max {latencies[-1]:.0f} ms | p95 <= 250 ms |
| stream recipients (all_customers, largest tenant) | {streamed:,} rows in {stream_s:.2f} s, \
RSS {stream_memory.start:.0f} -> {stream_memory.peak:.0f} MB | ~300 MB at 1M |

Members per segment (all tenants, default parameters): {", ".join(f"{k} {v:,}" for k, v in members.items())}.
The MariaDB comparison (same segment queries on the same data) is not measured yet.
""",
    )


if __name__ == "__main__":
    main()
