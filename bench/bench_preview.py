"""Benchmark: preview latency with the process's held warehouse attachment vs a fresh connection per preview,
the floor (an empty tenant), where a preview's time goes, and (--mariadb) each segment against MariaDB."""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb

from bench import append_section
from bench.bench_audiences import AS_OF, build, random_query
from orchestration.audiences import AudienceQuery, filter_options, preview
from orchestration.audiences.audience import _suppressed
from orchestration.audiences.query import (
    bind,
    bound_values,
    check_against_data,
    classified_table_sql,
    counted_sql,
    selected_sql,
)
from orchestration.ledger import Ledger
from orchestration.warehouse import Warehouse

EMPTY_TENANT = 999_999


class FreshWarehouse(Warehouse):
    """The warehouse as previews used it before: a new read-only connection for every preview."""

    @contextmanager
    def shared_reader(self, attempts: int = 40) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.reader(attempts) as con:
            yield con


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))], "max": ordered[-1],
            "min": ordered[0]}


def latencies(warehouse: Warehouse, ledger: Ledger, queries: list[AudienceQuery]) -> list[float]:
    took = []
    for query in queries:
        started = time.perf_counter()
        preview(warehouse, ledger, query)
        took.append((time.perf_counter() - started) * 1000)
    return took


def steps(warehouse: Warehouse, ledger: Ledger, query: AudienceQuery, repeats: int) -> dict[str, float]:
    """Median wall milliseconds of each step of a preview (as `preview()` runs them), on the held attachment."""
    query = replace(query, as_of=query.as_of_utc())
    marks: dict[str, list[float]] = {}

    def mark(name: str, action: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = action()
        marks.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return result

    for _ in range(repeats):
        suppressed = mark("suppression list (ledger)", lambda: _suppressed(ledger, query))
        opened = time.perf_counter()
        with warehouse.shared_reader() as con:
            marks.setdefault("cursor on the held attachment", []).append((time.perf_counter() - opened) * 1000)
            mark("tenant and filter checks", lambda con=con: check_against_data(con, query))
            con.register("suppressed_numbers", suppressed)
            sql = classified_table_sql(query)
            mark("segment + exclusions (temp table)", lambda con=con, sql=sql: con.execute(sql, bind(
                sql, bound_values(query))))  # fmt: skip
            mark("counts", lambda con=con: con.execute(counted_sql()).fetchall())
            sample = selected_sql("sample")
            mark("sample with anchor details (DataFrame)", lambda con=con, sample=sample: con.execute(sample, bind(
                sample, bound_values(query, sample=20))).fetch_df())  # fmt: skip
    return {name: statistics.median(values) for name, values in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--previews", type=int, default=200)
    parser.add_argument("--work", help="reuse (or build) the generated data in this folder")
    parser.add_argument("--mariadb", action="store_true", help="also each segment against a throwaway MariaDB")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-preview-") as scratch:
        root = Path(args.work or scratch)
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "warehouse.duckdb").exists():
            build(root, args.customers, args.tenants)
        warehouse, ledger = Warehouse(root / "warehouse.duckdb"), Ledger(root / "ledger.sqlite")
        with warehouse.writer() as con:  # the floor: a tenant the warehouse knows, without any data
            con.execute("DELETE FROM tenants WHERE tenant_id = $t", {"t": EMPTY_TENANT})
            con.execute("INSERT INTO tenants VALUES ($t, 'empty')", {"t": EMPTY_TENANT})
            sizes = con.execute("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM appointments)"
                                ).fetchone()
            tenants = [r[0] for r in con.execute(
                "SELECT tenant_id FROM tenants WHERE tenant_id <> $t ORDER BY 1", {"t": EMPTY_TENANT}).fetchall()]
            largest = con.execute("SELECT tenant_id FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                  ).fetchone()[0]
        options = {t: filter_options(warehouse, t) for t in tenants}
        rng = random.Random(5)
        queries = []
        for _ in range(args.previews):
            tenant = rng.choice(tenants)
            queries.append(random_query(rng, tenant, options[tenant]))

        fresh, held = [], []
        for chunk in range(0, len(queries), 20):  # interleaved, so both see the same machine load
            fresh += latencies(FreshWarehouse(warehouse.path), ledger, queries[chunk:chunk + 20])
            held += latencies(warehouse, ledger, queries[chunk:chunk + 20])
        floor_fresh = latencies(FreshWarehouse(warehouse.path), ledger,
                                [AudienceQuery(EMPTY_TENANT, "all_customers", as_of=AS_OF)] * 30)
        floor_held = latencies(warehouse, ledger, [AudienceQuery(EMPTY_TENANT, "all_customers", as_of=AS_OF)] * 30)
        profile = {name: steps(warehouse, ledger, AudienceQuery(largest, name, exclude_suppressed=True, as_of=AS_OF),
                               15) for name in ("all_customers", "upcoming", "lapsed")}  # fmt: skip
        figures = {"fresh": percentiles(fresh), "held": percentiles(held), "floor fresh": percentiles(floor_fresh),
                   "floor held": percentiles(floor_held)}  # fmt: skip
        for name, f in figures.items():
            print(f"{name}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, max {f['max']:.1f} ms")
        for name, marks in profile.items():
            print(f"profile {name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in marks.items()))
        comparison = _mariadb(root, warehouse, largest, args) if args.mariadb else None

    rows = "\n".join(f"| {name} | {f['p50']:.1f} | {f['p95']:.1f} | {f['max']:.1f} |" for name, f in figures.items())
    steps_header = " | ".join(profile["all_customers"])
    steps_rows = "\n".join(f"| {name} | " + " | ".join(f"{v:.1f}" for v in marks.values()) + " |"
                           for name, marks in profile.items())
    append_section(
        "Previews: held warehouse attachment vs a fresh connection, floor and profile (bench_preview)",
        f"""_{sizes[0]:,} customers, {sizes[1]:,} appointments, {len(tenants)} tenants; {args.previews} random
segment/filter previews (half excluding a 1% suppression list), fresh and held interleaved in blocks of 20; the
floor is `all_customers` of a tenant without data (30 runs)._

| previews | p50 ms | p95 ms | max ms |
|---|---|---|---|
{rows}

Where a held preview's time goes (median wall ms of each step, largest tenant {largest}, 15 runs):

| segment | {steps_header} |
|---|{"---|" * len(profile["all_customers"])}
{steps_rows}
{comparison or ""}""",
    )


def _mariadb(root: Path, warehouse: Warehouse, tenant: int, args: argparse.Namespace) -> str:
    """Each segment on a throwaway MariaDB holding the same data (as shipped, then indexed) vs the held preview."""
    import MySQLdb

    import tests.fixtures.servers as servers
    from bench.stages import MARIADB_PORTS, _compare_segments
    from orchestration.source.mysql import MySQLURL
    from orchestration.source.synthetic import generate, load_mysql

    servers.MARIADB_PORTS = MARIADB_PORTS
    (root / "mariadb").mkdir(exist_ok=True)
    with servers.running_mariadb(root / "mariadb") as url:
        target = MySQLURL.parse(url)
        load_mysql(generate(args.customers, args.tenants, seed=3, as_of=AS_OF), url)  # what build() synced
        connection = MySQLdb.connect(host=target.host, port=target.port, user=target.user,
                                     password=target.password, database=target.database)  # fmt: skip
        cursor = connection.cursor()
        cursor.execute("SET GLOBAL innodb_buffer_pool_size = 1073741824")
        shipped = _compare_segments(cursor, warehouse, target.prefix, tenant, 5)
        cursor.execute(f"ALTER TABLE `{target.prefix}bkntc_appointments` ADD INDEX bench_segments "
                       "(tenant_id, customer_id, starts_at, created_at, status)")
        cursor.execute(f"ALTER TABLE `{target.prefix}bkntc_customers` ADD INDEX bench_tenant (tenant_id)")
        indexed = _compare_segments(cursor, warehouse, target.prefix, tenant, 5)
        connection.close()
    lines = ["", "Each segment on MariaDB (same data, tenant {tenant}) vs the held preview, 5 interleaved runs:", "",
             "| segment | MariaDB shipped ms | MariaDB indexed ms | preview ms | ratio shipped | ratio indexed |",
             "|---|---|---|---|---|---|"]
    for name in shipped:
        s, i = shipped[name], indexed[name]
        lines.append(f"| {name} | {s['mariadb_ms']['median']:.0f} | {i['mariadb_ms']['median']:.0f} | "
                     f"{i['preview_ms']['median']:.1f} | {s['ratio']:.1f}× | {i['ratio']:.1f}× |")
    ratios_s = [v["ratio"] for v in shipped.values()]
    ratios_i = [v["ratio"] for v in indexed.values()]
    lines.append(f"\nMedian ratio as shipped {statistics.median(ratios_s):.1f}× (lowest {min(ratios_s):.2f}×), "
                 f"indexed {statistics.median(ratios_i):.1f}× (lowest {min(ratios_i):.2f}×).")
    return "\n".join(lines).replace("{tenant}", str(tenant))


if __name__ == "__main__":
    main()
