"""The measurements `bench.run_all` drives, one function per stage; each runs in its own process and returns a dict."""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import rss_mb

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
SEED = 11
MARIADB_PORTS = range(35500, 35520)
SIMULATOR_PORT = 35600
TEMPLATE = "Hi {customer_first_name}, it has been a while! Book again at {company_name}: 10% off this week."
BOOKNETIC_PER_TICK, BOOKNETIC_TICK_S = 25, 60

# --- measuring helpers -----------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024




def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(values: list[float]) -> dict[str, Any]:
    """Median, min, max and n of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}  # fmt: skip


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


class PySpy:
    """py-spy sampling this process's on-CPU Python stacks (all threads; waiting in I/O is not sampled)."""

    def __init__(self, out: Path, seconds: float, rate: int = 100):
        self.out, self.seconds, self.rate = out, seconds, rate

    def __enter__(self) -> PySpy:
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(os.getpid()),
                   "--duration", str(max(1, int(self.seconds))), "--rate", str(self.rate), "--format", "raw",
                   "--output", str(self.out), "--nonblocking"]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._process.wait(timeout=self.seconds + 30)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            self._process.wait()

    def stacks(self) -> list[tuple[list[str], int]]:
        """Folded stacks (outermost frame first) with their sample counts."""
        if not self.out.exists():
            return []
        found = []
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                found.append((stack.split(";"), int(count)))
        return found


# What a sampled stack was doing, by the first matching frame text (innermost frames checked first).
CATEGORIES = (
    ("HTTP client (twilio → requests → urllib3 → http.client)", ("twilio/", "requests/", "urllib3/", "http/client",
                                                                 "socket.py", "ssl.py", "email/")),
    ("ledger writes/reads (sqlite3)", ("ledger/store.py", "_claim", "_record", "_settlement", "sqlite")),
    ("thread pool + rate limiter", ("concurrent/futures", "threading.py", "ratelimit.py", "queue.py")),
)  # fmt: skip


def categorize(stacks: list[tuple[list[str], int]]) -> dict[str, Any]:
    """Share of on-CPU samples per category, and the innermost functions that took the most samples."""
    by_category: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in stacks:
        text = ";".join(frames)
        category = next((name for name, marks in CATEGORIES if any(mark in text for mark in marks)), "other Python")
        by_category[category] += count
        leaves[frames[-1].split(" (")[0] + " (" + frames[-1].split(" (")[-1].split("/")[-1]] += count
    total = sum(by_category.values()) or 1
    return {"samples": total, "categories": [(name, n / total) for name, n in by_category.most_common()],
            "leaves": [(name, n / total) for name, n in leaves.most_common(10)]}  # fmt: skip


# --- shared data ------------------------------------------------------------------------------------------


def _generate(customers: int, tenants: int):
    from orchestration.source.synthetic import generate

    return generate(customers, tenants, seed=SEED, as_of=AS_OF)


def _warehouse_from(tables, root: Path):
    """Parquet snapshot of `tables` synced into `root/warehouse.duckdb`."""
    from orchestration.source import open_source
    from orchestration.source.synthetic import write_snapshot
    from orchestration.warehouse import Warehouse
    from orchestration.warehouse.sync import sync

    write_snapshot(tables, root / "snapshot", fmt="parquet")
    warehouse = Warehouse(root / "warehouse.duckdb")
    with open_source(str(root / "snapshot")) as source:
        sync(source, warehouse, AS_OF)
    shutil.rmtree(root / "snapshot")
    return warehouse


# --- generation and sync ------------------------------------------------------------------------------


def stage_generate(work: Path, p: dict) -> dict:
    """generate() repeated; then the last tables written as CSV and Parquet snapshots for the sync stage."""
    from orchestration.source.synthetic import write_snapshot

    seconds, tables = [], None
    for _ in range(p["gen_repeats"]):
        tables = None
        gc.collect()
        tables, took = timed(lambda: _generate(p["customers"], p["tenants"]))
        seconds.append(took)
    rows = {name: table.num_rows for name, table in tables.items()}
    writes = {}
    for fmt in ("parquet", "csv"):
        _, took = timed(lambda fmt=fmt: write_snapshot(tables, work / f"snapshot-{fmt}", fmt=fmt))
        size = sum(f.stat().st_size for f in (work / f"snapshot-{fmt}").iterdir()) / 1e6
        writes[fmt] = {"seconds": took, "mb": size}
    return {"seconds": spread(seconds), "rows": rows, "write": writes, "peak_rss_mb": peak_rss_mb()}


def stage_sync_once(work: Path, p: dict) -> dict:
    """One sync() from `p['source']` into `p['target']` in a fresh process: seconds, rows, per step, peak RSS."""
    from orchestration.source import open_source
    from orchestration.warehouse import Warehouse
    from orchestration.warehouse.sync import sync

    target = Path(p["target"])
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    steps = []
    cpu_before = cpu_seconds()
    with open_source(p["source"]) as source:
        _, seconds = timed(lambda: sync(source, Warehouse(target), AS_OF, progress=steps.append))
    source_rows = sum(s.rows for s in steps if s.step == "raw")
    return {"seconds": seconds, "source_rows": source_rows, "rows_per_s": source_rows / seconds,
            "cpu_s": cpu_seconds() - cpu_before, "peak_rss_mb": peak_rss_mb(),
            "steps": [{"step": s.step, "table": s.table, "rows": s.rows, "seconds": s.seconds}
                      for s in steps]}  # fmt: skip


def stage_read_sql(work: Path, p: dict) -> dict:
    """The baseline: plain `pandas.read_sql` of every Booknetic table over SQLAlchemy (mysqlclient)."""
    import pandas as pd
    import sqlalchemy

    from orchestration.source.mysql import MySQLURL
    from orchestration.source.schema import TABLES

    url = MySQLURL.parse(p["source"])
    engine = sqlalchemy.create_engine(
        f"mysql+mysqldb://{url.user}:{url.password}@{url.host}:{url.port}/{url.database}?charset=utf8mb4")
    rows, started = 0, time.perf_counter()
    per_table = {}
    with engine.connect() as connection:
        for name, spec in TABLES.items():
            frame, took = timed(lambda spec=spec: pd.read_sql(f"SELECT * FROM `{spec.table_name(url.prefix)}`",
                                                               connection))  # fmt: skip
            per_table[name] = {"rows": len(frame), "seconds": took}
            rows += len(frame)
            del frame
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "rows_per_s": rows / seconds, "peak_rss_mb": peak_rss_mb(),
            "tables": per_table}  # fmt: skip


# --- MariaDB: load, sync from it, read_sql baseline, segment queries vs previews ------------------------

# Each segment's members on Booknetic's own tables, as a MariaDB query: the same predicate as
# sql/segments/definitions/*.sql (default parameters), grouped per customer over one tenant's appointments.
MARIADB_SEGMENTS = {
    "recent_bookers": "SUM(created_at > %(as_of)s - 30 * 86400 AND created_at <= %(as_of)s) > 0",
    "upcoming": "SUM(starts_at >= %(as_of)s AND starts_at < %(as_of)s + 7 * 86400 "
                "AND status NOT IN ('canceled', 'rejected')) > 0",
    "first_time": "COUNT(*) = 1",
    "repeat": "COUNT(*) >= 3",
    "lapsed": "MAX(starts_at) < %(as_of)s - 90 * 86400",
    "cancelled_or_rejected": "SUM(status IN ('canceled', 'rejected') AND ((starts_at > %(as_of)s - 30 * 86400 AND "
                             "starts_at <= %(as_of)s) OR (created_at > %(as_of)s - 30 * 86400 AND "
                             "created_at <= %(as_of)s))) > 0",
    "all_customers": None,
    "all_appointments": "COUNT(*) >= 1",
}  # fmt: skip


def _mariadb_members(segment: str, prefix: str) -> str:
    having = MARIADB_SEGMENTS[segment]
    if having is None:
        return f"SELECT id AS customer_id FROM `{prefix}bkntc_customers` WHERE tenant_id = %(tenant)s"
    return (f"SELECT customer_id FROM `{prefix}bkntc_appointments` WHERE tenant_id = %(tenant)s "
            f"GROUP BY customer_id HAVING {having}")  # fmt: skip


def mariadb_preview(cursor: Any, segment: str, prefix: str, tenant: int) -> tuple[int, list]:
    """The MariaDB version of a preview: the member count and the first 20 members with name and phone."""
    members = _mariadb_members(segment, prefix)
    values = {"tenant": tenant, "as_of": int(AS_OF.timestamp())}
    cursor.execute(f"SELECT COUNT(*) FROM ({members}) AS m", values)
    count = cursor.fetchone()[0]
    cursor.execute(f"SELECT c.id, c.first_name, c.last_name, c.phone_number FROM ({members}) AS m "
                   f"JOIN `{prefix}bkntc_customers` AS c ON c.id = m.customer_id ORDER BY c.id LIMIT 20",
                   values)  # fmt: skip
    return count, cursor.fetchall()


def _subprocess_stage(name: str, work: Path, params: dict) -> dict:
    out = work / f"{name}-{time.monotonic_ns()}.json"
    subprocess.run([sys.executable, "-m", "bench.run_all", "--stage", name, "--work", str(work),
                    "--params", json.dumps(params), "--out", str(out)], check=True)  # fmt: skip
    return json.loads(out.read_text())


def _compare_segments(cursor: Any, warehouse: Any, prefix: str, tenant: int, repeats: int) -> dict:
    """Each segment on MariaDB and as this product's preview, one warm-up each, then interleaved repeats."""
    from orchestration.audiences import SEGMENTS, AudienceQuery, preview

    segments = {}
    for name in SEGMENTS:
        query = AudienceQuery(tenant, name, as_of=AS_OF)
        mariadb_preview(cursor, name, prefix, tenant)  # warm-up, not timed (both sides)
        shown = preview(warehouse, None, query)
        maria, duck, count = [], [], 0
        for _ in range(repeats):  # interleaved, so both see the same load
            (count, _sample), took = timed(lambda name=name: mariadb_preview(cursor, name, prefix, tenant))
            maria.append(took * 1000)
            shown, took = timed(lambda query=query: preview(warehouse, None, query))
            duck.append(took * 1000)
        segments[name] = {"mariadb_ms": spread(maria), "preview_ms": spread(duck), "mariadb_members": count,
                          "preview_members": shown.count + sum(shown.excluded.values()),
                          "ratio": statistics.median(maria) / statistics.median(duck)}  # fmt: skip
        print(f"  segment {name}: MariaDB {statistics.median(maria):.0f} ms, preview "
              f"{statistics.median(duck):.0f} ms", flush=True)  # fmt: skip
    return segments


def stage_mariadb(work: Path, p: dict) -> dict:
    """Starts MariaDB, loads the same generated data, then (in child processes) syncs from it and reads it with
    pandas.read_sql; then times each segment on MariaDB against this product's preview on the same data."""
    import MySQLdb

    import tests.fixtures.servers as servers
    from orchestration.source.mysql import MySQLURL
    from orchestration.source.synthetic import load_mysql
    from orchestration.warehouse import Warehouse

    servers.MARIADB_PORTS = MARIADB_PORTS  # this benchmark's port range
    result: dict[str, Any] = {}
    scratch = work / "mariadb"
    scratch.mkdir(exist_ok=True)
    with servers.running_mariadb(scratch) as url:
        target = MySQLURL.parse(url)
        tables = _generate(p["customers"], p["tenants"])
        started = time.perf_counter()
        load_mysql(tables, url)
        result["load_s"] = time.perf_counter() - started
        del tables
        gc.collect()
        connection = MySQLdb.connect(host=target.host, port=target.port, user=target.user,
                                     password=target.password, database=target.database)  # fmt: skip
        cursor = connection.cursor()
        cursor.execute("SELECT @@version")
        result["version"] = cursor.fetchone()[0]
        syncs = [_subprocess_stage("sync_once", work, {"source": url, "target": str(work / "wh-mysql.duckdb")})
                 for _ in range(p["mysql_sync_repeats"])]  # fmt: skip
        result["sync"] = {"runs": syncs, "seconds": spread([s["seconds"] for s in syncs]),
                          "rows_per_s": spread([s["rows_per_s"] for s in syncs]),
                          "peak_rss_mb": spread([s["peak_rss_mb"] for s in syncs])}  # fmt: skip
        bases = [_subprocess_stage("read_sql", work, {"source": url}) for _ in range(p["read_sql_repeats"])]
        result["read_sql"] = {"runs": bases, "seconds": spread([b["seconds"] for b in bases]),
                              "rows_per_s": spread([b["rows_per_s"] for b in bases]),
                              "peak_rss_mb": spread([b["peak_rss_mb"] for b in bases])}  # fmt: skip
        # Booknetic's schema as shipped (primary keys only), then with a covering index for the segment queries;
        # a 2 GB buffer pool holds the whole data set in memory for both.
        cursor.execute("SET GLOBAL innodb_buffer_pool_size = 2147483648")
        prefix = target.prefix
        warehouse = Warehouse(p["warehouse"])
        with warehouse.reader() as con:
            tenant, tenant_customers = con.execute(
                "SELECT tenant_id, count(*) FROM customers GROUP BY 1 ORDER BY 2 DESC LIMIT 1").fetchone()
            tenant_appointments = con.execute(
                "SELECT count(*) FROM appointments WHERE tenant_id = ?", [tenant]).fetchone()[0]
        result["tenant"] = {"id": tenant, "customers": tenant_customers, "appointments": tenant_appointments}
        result["segments_shipped"] = _compare_segments(cursor, warehouse, prefix, tenant, p["segment_repeats"])
        _, result["index_s"] = timed(lambda: cursor.execute(
            f"ALTER TABLE `{prefix}bkntc_appointments` ADD INDEX bench_segments "
            "(tenant_id, customer_id, starts_at, created_at, status), ALGORITHM=INPLACE"))  # fmt: skip
        cursor.execute(f"ALTER TABLE `{prefix}bkntc_customers` ADD INDEX bench_tenant (tenant_id)")
        cursor.execute(f"ANALYZE TABLE `{prefix}bkntc_appointments`, `{prefix}bkntc_customers`")
        cursor.fetchall()
        result["segments"] = _compare_segments(cursor, warehouse, prefix, tenant, p["segment_repeats"])
        cursor.close()
        connection.close()
    shutil.rmtree(scratch, ignore_errors=True)
    (work / "wh-mysql.duckdb").unlink(missing_ok=True)
    return result


# --- audiences: materialization, previews, scaling ---------------------------------------------------------


def _ledger_with_suppression(warehouse: Any, path: Path) -> Any:
    """A ledger suppressing 1% of each tenant's numbers (so previews that exclude the list have work to do)."""
    from orchestration.ledger import Ledger

    with warehouse.reader() as con:
        suppressed = con.execute(
            "SELECT tenant_id, phone_e164 FROM customers WHERE phone_e164 IS NOT NULL USING SAMPLE 1% (bernoulli, 5)"
        ).fetchall()
    ledger = Ledger(path)
    with ledger.write() as con:
        con.executemany("INSERT OR IGNORE INTO tenants (tenant_id) VALUES (?)", {(t,) for t, _ in suppressed})
        con.executemany("INSERT OR IGNORE INTO suppression (tenant_id, phone_e164, source) VALUES (?, ?, 'import')",
                        suppressed)  # fmt: skip
    return ledger


def _audience_point(warehouse: Any, ledger: Any, p: dict, previews: int) -> dict:
    from bench.bench_audiences import random_query
    from orchestration.audiences import filter_options, materialize_segments, preview

    materialize, inner = [], []
    for _ in range(p["materialize_repeats"]):
        started = time.perf_counter()
        with warehouse.writer() as con:
            _, took = timed(lambda con=con: materialize_segments(con, AS_OF))
        materialize.append(time.perf_counter() - started)
        inner.append(took)
    with warehouse.reader() as con:
        tenants = [r[0] for r in con.execute("SELECT tenant_id FROM tenants ORDER BY 1").fetchall()]
        size = con.execute("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM appointments)").fetchone()
    options = {t: filter_options(warehouse, t) for t in tenants}
    rng = random.Random(5)
    latencies = []
    for _ in range(previews):
        tenant = rng.choice(tenants)
        query = random_query(rng, tenant, options[tenant])
        _, took = timed(lambda query=query: preview(warehouse, ledger, query))
        latencies.append(took * 1000)
    ordered = sorted(latencies)
    return {"customers": size[0], "appointments": size[1], "tenants": len(tenants),
            "materialize_s": spread(materialize), "materialize_inner_s": spread(inner),
            "previews": previews, "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[int(0.95 * (len(ordered) - 1))], "max_ms": ordered[-1],
            "mean_ms": statistics.fmean(ordered)}  # fmt: skip


def stage_audiences(work: Path, p: dict) -> dict:
    """Materialization and random previews at each scaling size; the largest uses the sync stage's warehouse."""
    from orchestration.warehouse import Warehouse

    points = []
    for customers in p["scaling"]:
        if customers == p["customers"]:
            warehouse = Warehouse(p["warehouse"])
            previews = p["previews"]
        else:
            root = work / f"scale-{customers}"
            root.mkdir(exist_ok=True)
            warehouse = _warehouse_from(_generate(customers, p["tenants"]), root)
            previews = p["scale_previews"]
        ledger = _ledger_with_suppression(warehouse, work / f"ledger-{customers}.sqlite")
        point = _audience_point(warehouse, ledger, p, previews)
        print(f"  {customers:,} customers: materialize {point['materialize_s']['median']:.2f} s, preview p95 "
              f"{point['p95_ms']:.0f} ms", flush=True)  # fmt: skip
        points.append(point)
    return {"points": points}


def stage_profile_materialize(work: Path, p: dict) -> dict:
    """Materialization on the largest warehouse, segment by segment, with DuckDB's operator profile, the process's
    CPU use (CPU seconds per wall second: 2.0 = both cores busy) and the copy-on-write cost."""
    from orchestration.audiences import SEGMENTS
    from orchestration.audiences.query import AudienceQuery, bind, bound_values, segment_sql
    from orchestration.audiences.suppression import no_suppressed_numbers
    from orchestration.sqlfiles import load_sql
    from orchestration.warehouse import Warehouse

    warehouse = Warehouse(p["warehouse"])
    result: dict[str, Any] = {}
    started, cpu_before = time.perf_counter(), cpu_seconds()
    with warehouse.writer() as con:
        result["copy_s"] = time.perf_counter() - started
        tenants = [r[0] for r in con.execute(load_sql("segments/known_tenants.sql")).fetchall()]
        con.register("suppressed_numbers", no_suppressed_numbers())
        con.execute("SET enable_profiling = 'json'")
        segments = {}
        for name in SEGMENTS:
            out = work / f"profile-{name}.json"
            con.execute(f"SET profiling_output = '{out}'")
            query = AudienceQuery(0, name, as_of=AS_OF)
            sql = segment_sql(query, "members")
            seg_cpu = cpu_seconds()
            statement = f"CREATE OR REPLACE TABLE bench_{name} AS {sql}"
            values = bind(sql, bound_values(query, tenant_ids=tenants))
            _, took = timed(lambda statement=statement, values=values: con.execute(statement, values))
            segments[name] = {"seconds": took, "cpu_per_wall": (cpu_seconds() - seg_cpu) / took,
                              "operators": _top_operators(out)}  # fmt: skip
        con.execute("PRAGMA disable_profiling")
        for name in SEGMENTS:
            con.execute(f"DROP TABLE bench_{name}")
        checkpoint_started = time.perf_counter()
    result["publish_s"] = time.perf_counter() - checkpoint_started
    result["total_s"] = time.perf_counter() - started
    result["cpu_per_wall"] = (cpu_seconds() - cpu_before) / result["total_s"]
    result["segments"] = segments
    return result


def _top_operators(path: Path, n: int = 4) -> list[tuple[str, float]]:
    """The operators that took the most time in DuckDB's JSON profile."""
    found: Counter[str] = Counter()

    def walk(node: dict) -> None:
        name = node.get("name") or node.get("operator_name")
        if name and name not in ("RESULT_COLLECTOR", "CREATE_TABLE_AS"):
            found[name.strip()] += float(node.get("timing", node.get("operator_timing", 0)) or 0)
        for child in node.get("children", []):
            walk(child)

    try:
        profile = json.loads(path.read_text())
        for root in profile.get("operator", [profile]):
            walk(root)
    except (OSError, ValueError):
        return []
    total = sum(found.values()) or 1
    return [(name, seconds / total) for name, seconds in found.most_common(n)]


# --- sending ----------------------------------------------------------------------------------------------


def _simulator(latency_ms: float) -> subprocess.Popen:
    from bench.bench_send import start_simulator

    return start_simulator(latency_ms, SIMULATOR_PORT)


def _home(root: Path, name: str) -> tuple[Any, Any]:
    from bench.bench_send import simulator_home

    return simulator_home(root, name, SIMULATOR_PORT)


def _build_send_warehouse(path: Path, customers: int) -> None:
    """bench_send's one-tenant warehouse of `customers` valid unique phones, built in a child process."""
    subprocess.run([sys.executable, "-m", "bench.bench_send", "--build-warehouse", str(path), str(customers)],
                   check=True)  # fmt: skip


def _campaign(home: Any, ledger: Any, warehouse_path: Path, rate: float = 0) -> tuple[int, float]:
    from orchestration.audiences import AudienceQuery
    from orchestration.sender import CampaignSettings, create_campaign, launch
    from orchestration.warehouse import Warehouse

    settings = CampaignSettings(rate_limit_per_s=rate)
    campaign = create_campaign(ledger, 1, "bench", TEMPLATE, AudienceQuery(1, "all_customers"), settings)
    _, took = timed(lambda: launch(ledger, Warehouse(warehouse_path), 1, campaign.campaign_id))
    return campaign.campaign_id, took


def _send_run(home: Any, ledger: Any, campaign_id: int, workers: int, seconds: float | None = None,
              phases: dict | None = None, on_chunk: Callable | None = None) -> dict:  # fmt: skip
    """Runs the engine on the campaign (pausing it after `seconds` when given): sent, elapsed, msg/s."""
    from orchestration.sender import CampaignRun, gateway_for, pause

    run = CampaignRun(ledger, 1, campaign_id, gateway_for(home, ledger, 1), workers=workers, on_chunk=on_chunk)
    if phases is not None:
        for phase in ("_claim", "_send", "_record"):
            _time_phase(run, phase, phases)
    timer = threading.Timer(seconds, lambda: pause(ledger, 1, campaign_id)) if seconds else None
    if timer:
        timer.start()
    summary, elapsed = timed(run.run)
    if timer:
        timer.cancel()
    return {"sent": summary.sent, "failed": summary.failed, "elapsed_s": elapsed, "per_s": summary.sent / elapsed}


def _time_phase(run: Any, phase: str, phases: dict) -> None:
    original = getattr(run, phase)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[phase.strip("_")] = phases.get(phase.strip("_"), 0.0) + time.perf_counter() - started

    setattr(run, phase, wrapped)


def stage_send(work: Path, p: dict) -> dict:
    """Throughput at 100k, the concurrency curve, the Booknetic cron design, rate-limit accuracy, pause latency,
    and a profile of the send loop; all against one simulator process with 50 ms latency."""
    from orchestration.sender import status

    result: dict[str, Any] = {}
    simulator = _simulator(50)
    try:
        root = work / "send"
        root.mkdir(exist_ok=True)
        big = root / "send.duckdb"
        _build_send_warehouse(big, p["send_n"])
        home, ledger = _home(root, "throughput")
        campaign_id, snapshot_s = _campaign(home, ledger, big)
        sim_cpu, cpu = cpu_seconds(simulator.pid), cpu_seconds()
        run = _send_run(home, ledger, campaign_id, 64)
        current = status(ledger, 1, campaign_id)
        result["throughput"] = {**run, "recipients": p["send_n"], "snapshot_s": snapshot_s, "workers": 64,
                                "attempt_rows": current.attempts, "engine_cpu_s": cpu_seconds() - cpu,
                                "simulator_cpu_s": cpu_seconds(simulator.pid) - sim_cpu}  # fmt: skip
        print(f"  throughput: {run['per_s']:.0f} msg/s ({run['sent']:,} in {run['elapsed_s']:.1f} s)", flush=True)

        curve_wh = root / "curve.duckdb"
        _build_send_warehouse(curve_wh, p["curve_n"])
        curve = {}
        for workers in (1, 8, 32, 64):
            rates = []
            for i in range(p["curve_repeats"]):
                home, ledger = _home(root, f"curve-{workers}-{i}")
                campaign_id, _ = _campaign(home, ledger, curve_wh)
                rates.append(_send_run(home, ledger, campaign_id, workers, seconds=p["curve_seconds"])["per_s"])
            curve[workers] = spread(rates)
            print(f"  concurrency {workers}: {statistics.median(rates):.0f} msg/s", flush=True)
        result["curve"] = curve
        result["booknetic"] = _booknetic(root, p)
        result["rate"] = {rate: spread([_rate_accuracy(root, rate, p["rate_seconds"], i)
                                        for i in range(p["rate_repeats"])]) for rate in (10, 50)}  # fmt: skip
        result["pause"] = {rate: _pause_latencies(root, rate, p["pause_repeats"]) for rate in (50, 0)}
        result["profile"] = _profile_send(root, curve_wh, p)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    return result


def _booknetic(root: Path, p: dict) -> dict:
    """The add-on's design: a cron tick sends at most 25 messages, one after the other, once a minute. Simulated
    with the tick shortened to `booknetic_tick_s`; the rate is 25 per tick length, scaled back to 60 s."""
    from orchestration.sender import gateway_for

    home, ledger = _home(root, "booknetic")
    gateway = gateway_for(home, ledger, 1)
    tick_s, ticks, busy, sent = p["booknetic_tick_s"], p["booknetic_ticks"], [], 0
    started = time.perf_counter()
    for tick in range(ticks):
        tick_start = time.perf_counter()
        for i in range(BOOKNETIC_PER_TICK):
            sent += gateway.send(f"+1201{5000000 + tick * 100 + i:07d}", "Booknetic cron tick").ok
        busy.append(time.perf_counter() - tick_start)
        time.sleep(max(0.0, tick_start + tick_s - time.perf_counter()))
    elapsed = time.perf_counter() - started
    return {"ticks": ticks, "tick_s": tick_s, "sent": sent, "per_s_shortened": sent / elapsed,
            "per_s_scaled": sent / elapsed * tick_s / BOOKNETIC_TICK_S, "busy_per_tick_s": spread(busy),
            "per_s_design": BOOKNETIC_PER_TICK / BOOKNETIC_TICK_S}  # fmt: skip


def _rate_accuracy(root: Path, rate: float, seconds: float, i: int) -> float:
    from orchestration.sender import CampaignRun, CampaignSettings, gateway_for, send_manual

    home, ledger = _home(root, f"rate{rate:g}-{i}")
    count = int(rate * seconds)
    people = [(f"+1201{3000000 + i:07d}", "") for i in range(count)]
    campaign = send_manual(ledger, 1, people, "Rate test", settings=CampaignSettings(rate_limit_per_s=rate))
    gateway = gateway_for(home, ledger, 1)
    sends: list[float] = []
    send = gateway.send
    gateway.send = lambda to, body: (sends.append(time.perf_counter()), send(to, body))[1]
    CampaignRun(ledger, 1, campaign.campaign_id, gateway).run()
    return (len(sends) - 1) / (max(sends) - min(sends))


def _pause_latencies(root: Path, rate: float, repeats: int) -> dict:
    from orchestration.sender import CampaignRun, CampaignSettings, gateway_for, pause, send_manual

    stopped, after = [], []
    for i in range(repeats):
        home, ledger = _home(root, f"pause{rate:g}-{i}")
        people = [(f"+1201{4000000 + i:07d}", "") for i in range(5000)]
        campaign = send_manual(ledger, 1, people, "Pause test", settings=CampaignSettings(rate_limit_per_s=rate))
        run = CampaignRun(ledger, 1, campaign.campaign_id, gateway_for(home, ledger, 1))
        worker = threading.Thread(target=run.run)
        worker.start()
        time.sleep(1.5)
        paused_at = time.time()
        pause(ledger, 1, campaign.campaign_id)
        worker.join()
        stopped.append(time.time() - paused_at)
        with ledger.read() as con:
            after.append(con.execute("SELECT count(*) FROM attempts WHERE campaign_id = ? AND started_at > ?",
                                     (campaign.campaign_id, paused_at)).fetchone()[0])  # fmt: skip
    return {"stopped_s": spread(stopped), "started_after_pause": max(after)}


def _profile_send(root: Path, warehouse: Path, p: dict) -> dict:
    """Where a send run's time goes: wall time per engine phase (claim and record are SQLite transactions, send
    is the HTTP fan-out), CPU seconds of the engine and the simulator, and py-spy's on-CPU stacks. Run first
    with requests' per-request environment scan put back (the code before the fix), then as shipped."""
    import requests

    from orchestration.tenants.twilio_client import EnvironmentOnceSession

    sim_pid = next(int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _is_simulator(int(pid)))
    result = {}
    for variant in ("before_fix", "shipped"):
        home, ledger = _home(root, f"profile-{variant}")
        campaign_id, _ = _campaign(home, ledger, warehouse)
        phases: dict[str, float] = {}
        shipped = EnvironmentOnceSession.merge_environment_settings
        if variant == "before_fix":
            EnvironmentOnceSession.merge_environment_settings = requests.Session.merge_environment_settings
        try:
            sim_cpu, cpu = cpu_seconds(sim_pid), cpu_seconds()
            spy = PySpy(root / f"send-profile-{variant}.txt", p["profile_seconds"])
            with spy:
                run = _send_run(home, ledger, campaign_id, 64, seconds=p["profile_seconds"], phases=phases)
        finally:
            EnvironmentOnceSession.merge_environment_settings = shipped
        result[variant] = {**run, "phases": phases, "engine_cpu_s": cpu_seconds() - cpu,
                           "simulator_cpu_s": cpu_seconds(sim_pid) - sim_cpu,
                           "py_spy": categorize(spy.stacks())}  # fmt: skip
    return {**result["shipped"], "before_fix": result["before_fix"]}


def _is_simulator(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"simulator" in command and str(SIMULATOR_PORT).encode() in command


def stage_snapshot(work: Path, p: dict) -> dict:
    """Launching a campaign of `big_n` recipients in a fresh process (a child builds its warehouse first): launch
    seconds, peak RSS, and RSS while sending from it for `big_send_seconds`."""
    root = work / f"snapshot-{time.monotonic_ns()}"
    root.mkdir()
    warehouse = root / "big.duckdb"
    _build_send_warehouse(warehouse, p["big_n"])
    simulator = _simulator(50) if p.get("send_seconds") else None
    try:
        home, ledger = _home(root, "big")
        gc.collect()
        before = rss_mb()
        campaign_id, snapshot_s = _campaign(home, ledger, warehouse)
        result = {"recipients": p["big_n"], "snapshot_s": snapshot_s, "rows_per_s": p["big_n"] / snapshot_s,
                  "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}  # fmt: skip
        if simulator:
            samples: list[float] = []
            run = _send_run(home, ledger, campaign_id, 64, seconds=p["send_seconds"],
                            on_chunk=lambda s: samples.append(rss_mb()))  # fmt: skip
            quarter = max(1, len(samples) // 4)
            result["send"] = {**run, "rss_first_quarter_mb": statistics.fmean(samples[:quarter]),
                              "rss_last_quarter_mb": statistics.fmean(samples[-quarter:]),
                              "peak_rss_mb": peak_rss_mb()}  # fmt: skip
    finally:
        if simulator:
            simulator.terminate()
            simulator.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
    return result


# The single-purpose scripts that bench.run_all runs as they are (their own sizes), folding in their sections.
EXTRA_SCRIPTS = ("bench_messages", "bench_simulator", "bench_mysql_driver")


def stage_extras(work: Path, p: dict) -> dict:
    """Runs each script of EXTRA_SCRIPTS (with --quick in a quick run); returns the sections they wrote."""
    from bench import SECTIONS_ENV

    sections = {}
    for script in EXTRA_SCRIPTS:
        out = work / f"{script}.md"
        command = [sys.executable, "-m", f"bench.{script}", *(["--quick"] if p.get("quick") else [])]
        _, took = timed(lambda command=command, out=out: subprocess.run(
            command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, SECTIONS_ENV: str(out)}))  # fmt: skip
        text = out.read_text(encoding="utf-8")
        sections[script] = {"seconds": took, "markdown": text[text.index("\n## "):].strip()}
    return sections


STAGES: dict[str, Callable[[Path, dict], dict]] = {
    "extras": stage_extras,
    "generate": stage_generate,
    "sync_once": stage_sync_once,
    "read_sql": stage_read_sql,
    "mariadb": stage_mariadb,
    "audiences": stage_audiences,
    "profile_materialize": stage_profile_materialize,
    "send": stage_send,
    "snapshot": stage_snapshot,
}
