"""Which MySQL driver streams Booknetic appointments into Arrow fastest: pymysql vs mysqlclient, typed vs raw text."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from bench import append_section
from orchestration.source import open_source
from orchestration.source.mysql import BATCH_ROWS, DRIVER, MySQLURL, connect, server_side_cursor
from orchestration.source.schema import TABLES, conform
from orchestration.source.synthetic import generate, load_mysql
from tests.fixtures.servers import running_mariadb


def _typed_connection(url: MySQLURL, driver: str):
    """A connection with the driver's own Python conversions (int, Decimal, datetime)."""
    options = dict(host=url.host, port=url.port, user=url.user, password=url.password, database=url.database,
                   charset="utf8mb4")
    if driver == "mysqlclient":
        import MySQLdb

        return MySQLdb.connect(**options)
    import pymysql

    return pymysql.connect(**options)


def read_appointments(url: MySQLURL, driver: str, typed: bool) -> int:
    """Stream the appointments table into canonical Arrow batches; returns the row count."""
    spec = TABLES["appointments"]
    connection = _typed_connection(url, driver) if typed else connect(url, driver)
    rows_read = 0
    try:
        cursor = server_side_cursor(connection, driver)
        cursor.execute(f"SELECT {', '.join(spec.column_names)} FROM `{spec.table_name(url.prefix)}` ORDER BY id")
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = list(zip(*rows, strict=True))
            if typed:
                arrays = [pa.array(values, f.type) for values, f in zip(columns, spec.schema, strict=True)]
                batch = pa.RecordBatch.from_arrays(arrays, schema=spec.schema)
            else:
                batch = conform(pa.RecordBatch.from_arrays([pa.array(v, pa.string()) for v in columns],
                                                           names=spec.column_names), "appointments", "bench")
            rows_read += batch.num_rows
        cursor.close()
    finally:
        connection.close()
    return rows_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20k customers instead of 80k")
    parser.add_argument("--url", help="an existing mysql:// URL to load into (default: a throwaway MariaDB)")
    args = parser.parse_args()
    customers = 20_000 if args.quick else 80_000
    tables = generate(customers, 2, seed=1, as_of=datetime(2025, 6, 1, tzinfo=UTC))
    appointments = tables["appointments"].num_rows

    def measure(url: str) -> str:
        started = time.perf_counter()
        load_mysql(tables, url)
        load_seconds = time.perf_counter() - started
        target = MySQLURL.parse(url)
        lines = [f"Loading {customers:,} customers + {appointments:,} appointments (LOAD DATA LOCAL INFILE, all "
                 f"tables): {load_seconds:.1f} s", "",
                 "| driver | values | rows/s reading appointments into canonical Arrow |", "|---|---|---|"]
        for driver in ("pymysql", "mysqlclient"):
            for typed in (True, False):
                best = float("inf")
                for _ in range(2):
                    started = time.perf_counter()
                    assert read_appointments(target, driver, typed) == appointments
                    best = min(best, time.perf_counter() - started)
                kind = "typed (driver converts)" if typed else "raw text (Arrow casts)"
                lines.append(f"| {driver} | {kind} | {appointments / best:,.0f} |")
                print(lines[-1], flush=True)
        started = time.perf_counter()
        with open_source(url) as source:
            rows = sum(batch.num_rows for batch in source.read("appointments"))
        shipped = rows / (time.perf_counter() - started)
        lines += ["", f"`MySQLSource.read('appointments')` as shipped ({DRIVER}): {shipped:,.0f} rows/s"]
        return "\n".join(lines)

    if args.url:
        body = measure(args.url)
    else:
        with tempfile.TemporaryDirectory(prefix="bkntc-bench-mariadb-") as workdir:
            with running_mariadb(Path(workdir)) as url:
                body = measure(url)
    print(body)
    append_section("MySQL driver: reading Booknetic appointments into Arrow (bench_mysql_driver)", body)


if __name__ == "__main__":
    main()
