"""Benchmark of issue 17's goals in one run: preview latency (held warehouse attachment, and a fresh connection per
preview for comparison), the floor (an empty tenant), where a preview's time goes, each segment against MariaDB as
shipped and indexed (--mariadb), materialization of every segment and the launch of a 1M-recipient campaign."""

from __future__ import annotations

import argparse
import os
import random
import shutil
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
from orchestration.audiences import AudienceQuery, filter_options, materialize_segments, preview
from orchestration.audiences.audience import (
    _checked,
    _first_recipients,
    _gates,
    _sample_details,
    _send_rules,
    _suppressed,
    _zone_groups,
    preview_groups,
    use_suppressed,
    zone_values,
)
from orchestration.audiences.query import bind, bound_values, preview_sql
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
        suppressed = mark("suppression list (ledger, cached)", lambda: _suppressed(ledger, query))
        rules = mark("send rules (ledger)", lambda: _send_rules(ledger, query))
        opened = time.perf_counter()
        with warehouse.shared_session() as session:
            marks.setdefault("cursor on the held attachment", []).append((time.perf_counter() - opened) * 1000)
            mark("tenant and filter checks (catalog remembered per file)", lambda session=session: _checked(
                session, query))
            mark("suppression list on the cursor", lambda session=session, suppressed=suppressed: use_suppressed(
                session, query.tenant_id, suppressed))
            sql = preview_sql(query)
            values = bound_values(query, sample=20, **zone_values(rules))
            rows = mark("member groups: counts, first ids, zones (one prepared statement)", lambda session=session,
                        sql=sql, values=values: session.execute(sql, bind(sql, values)).fetchall())  # fmt: skip
            groups = preview_groups(session, query.tenant_id, rows)
            recipients = [group for group in groups if group["exclusion"] is None]
            ids, anchors = _first_recipients(recipients, 20)
            mark("sample details (DataFrame)", lambda session=session, ids=ids, anchors=anchors: _sample_details(
                session, query.tenant_id, ids, anchors))  # fmt: skip
        mark("quiet hours and cap per zone group", lambda recipients=recipients, rules=rules: _gates(
            ledger, rules, query, _zone_groups(recipients)))  # fmt: skip
    return {name: statistics.median(values) for name, values in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--previews", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the random previews (for the spread)")
    parser.add_argument("--repeats", type=int, default=3, help="materializations and launches")
    parser.add_argument("--launch", type=int, default=1_000_000, help="recipients of the launch (0: none)")
    parser.add_argument("--work", help="reuse (or build) the generated data in this folder")
    parser.add_argument("--mariadb", action="store_true", help="also each segment against a throwaway MariaDB")
    parser.add_argument("--mariadb-port", type=int, default=None, help="first of 20 ports to try for MariaDB")
    parser.add_argument("--quick", action="store_true",
                        help="30,000 customers, 40 previews, one round, with MariaDB (make bench-quick)")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.previews, args.rounds, args.repeats, args.launch = 30_000, 40, 1, 1, 30_000
        args.mariadb = True

    with tempfile.TemporaryDirectory(prefix="bench-preview-") as scratch:
        root = Path(args.work or scratch)
        root.mkdir(parents=True, exist_ok=True)
        # First, while this process is small: a child inherits its parent's peak RSS through fork and exec (Linux).
        launches = _launches(root, args) if args.launch else []
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

        rounds, fresh = [], []
        for number in range(args.rounds):
            held = []
            for chunk in range(0, len(queries), 20):  # the first round interleaves fresh connections, same load
                if number == 0:
                    fresh += latencies(FreshWarehouse(warehouse.path), ledger, queries[chunk:chunk + 20])
                held += latencies(warehouse, ledger, queries[chunk:chunk + 20])
            rounds.append(percentiles(held))
        floor_fresh = latencies(FreshWarehouse(warehouse.path), ledger,
                                [AudienceQuery(EMPTY_TENANT, "all_customers", as_of=AS_OF)] * 30)
        floor_held = latencies(warehouse, ledger, [AudienceQuery(EMPTY_TENANT, "all_customers", as_of=AS_OF)] * 30)
        profile = {name: steps(warehouse, ledger, AudienceQuery(largest, name, exclude_suppressed=True, as_of=AS_OF),
                               15) for name in ("all_customers", "upcoming", "lapsed")}  # fmt: skip
        figures = {**{f"held, round {i + 1}": f for i, f in enumerate(rounds)}, "fresh (round 1)": percentiles(fresh),
                   "floor held": percentiles(floor_held), "floor fresh": percentiles(floor_fresh)}  # fmt: skip
        for name, f in figures.items():
            print(f"{name}: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, max {f['max']:.1f} ms", flush=True)
        for name, marks in profile.items():
            print(f"profile {name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in marks.items()), flush=True)
        materialize = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            with warehouse.writer() as con:
                materialize_segments(con, AS_OF)
            materialize.append(time.perf_counter() - started)
        print(f"materialize: {_spread(materialize, 's', 2)}", flush=True)
        comparison, ratios = _mariadb(root, warehouse, largest, args) if args.mariadb else ("", None)

    p50s, p95s = [f["p50"] for f in rounds], [f["p95"] for f in rounds]
    goals = [
        f"| preview p50, {args.previews} random previews × {args.rounds} rounds | ≤ 15 ms | {_spread(p50s, 'ms')} | "
        f"{_met(statistics.median(p50s) <= 15)} |",
        f"| preview p95 | ≤ 40 ms | {_spread(p95s, 'ms')} | {_met(statistics.median(p95s) <= 40)} |",
        f"| floor (a tenant without data), p50 | – | {figures['floor held']['p50']:.1f} ms | – |",
        f"| materialize every segment, all tenants | ≤ 3 s | {_spread(materialize, 's', 2)} | "
        f"{_met(statistics.median(materialize) <= 3)} |",
    ]
    if ratios:
        shipped, indexed = ratios
        goals += [f"| MariaDB as shipped / preview, per segment | median ≥ 20×, none below 1× | median "
                  f"{statistics.median(shipped):.1f}×, lowest {min(shipped):.2f}× | "
                  f"{_met(statistics.median(shipped) >= 20 and min(shipped) >= 1)} |",
                  f"| MariaDB indexed / preview, per segment | median ≥ 5×, none below 1× | median "
                  f"{statistics.median(indexed):.1f}×, lowest {min(indexed):.2f}× | "
                  f"{_met(statistics.median(indexed) >= 5 and min(indexed) >= 1)} |"]  # fmt: skip
    if launches:
        seconds, peaks = [r["snapshot_s"] for r in launches], [r["peak_rss_mb"] for r in launches]
        goals += [f"| launch of {args.launch:,} recipients (fresh process) | ≤ 30 s | {_spread(seconds, 's')} | "
                  f"{_met(statistics.median(seconds) <= 30)} |",
                  f"| its peak RSS | ≤ 300 MB | {_spread(peaks, 'MB', 0)} (before launch "
                  f"{launches[0]['rss_before_mb']:.0f} MB) | {_met(statistics.median(peaks) <= 300)} |"]  # fmt: skip
    print("\n".join(goals))
    rows = "\n".join(f"| {name} | {f['p50']:.1f} | {f['p95']:.1f} | {f['max']:.1f} |" for name, f in figures.items())
    steps_header = " | ".join(profile["all_customers"])
    steps_rows = "\n".join(f"| {name} | " + " | ".join(f"{v:.1f}" for v in marks.values()) + " |"
                           for name, marks in profile.items())
    goals_rows = "\n".join(goals)
    append_section(
        "Issue 17: previews, materialization and launch against their goals (bench_preview)",
        f"""_{sizes[0]:,} customers, {sizes[1]:,} appointments, {len(tenants)} tenants; {args.previews} random
segment/filter previews (half excluding a 1% suppression list) per round on the held attachment, the first round
interleaved in blocks of 20 with a fresh connection per preview; the floor is `all_customers` of a tenant without
data (30 runs); load average at the end {", ".join(f"{x:.1f}" for x in os.getloadavg())}._

| goal | target | measured (median (min–max, n)) | met |
|---|---|---|---|
{goals_rows}

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

    servers.MARIADB_PORTS = range(args.mariadb_port, args.mariadb_port + 20) if args.mariadb_port else MARIADB_PORTS
    shutil.rmtree(root / "mariadb", ignore_errors=True)  # throwaway: a kept datadir (a reused --work) has the tables
    (root / "mariadb").mkdir()
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
    return "\n".join(lines).replace("{tenant}", str(tenant)), (ratios_s, ratios_i)


def _launches(root: Path, args: argparse.Namespace) -> list[dict]:
    """Launches of an `args.launch`-recipient campaign, each in a fresh process (bench.stages.stage_snapshot)."""
    from bench.run_all import run_stage

    return [run_stage("snapshot", root, {"big_n": args.launch, "send_seconds": 0}) for _ in range(args.repeats)]


def _spread(values: list[float], unit: str, digits: int = 1) -> str:
    return (f"{statistics.median(values):,.{digits}f} {unit} ({min(values):,.{digits}f}–{max(values):,.{digits}f}, "
            f"n={len(values)})")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


if __name__ == "__main__":
    main()
