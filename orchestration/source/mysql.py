"""Booknetic's live MySQL/MariaDB database: read-only, streamed into Arrow; and bulk-loading for demos and tests."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa

from orchestration.errors import UserError
from orchestration.source.base import BookneticSource
from orchestration.source.folder import write_csv
from orchestration.source.schema import OPTIONS_PREFIX, REQUIRED_TABLES, TABLES, Rejects, conform, missing_columns


def _preferred_driver() -> str:
    """mysqlclient (C) returning raw text cast by Arrow measured fastest (bench_mysql_driver); pymysql otherwise."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return "pymysql"
    return "mysqlclient"


DRIVER = _preferred_driver()
BATCH_ROWS = 65_536
_PREFIX = re.compile(r"^[A-Za-z0-9_]*$")
_UNREACHABLE = {2002, 2003, 2005, 2006, 2013}


@dataclass(frozen=True)
class MySQLURL:
    """The parts of `mysql://user:pass@host:port/db?prefix=wp_`; `str()` masks the password."""

    user: str
    password: str
    host: str
    port: int
    database: str
    prefix: str | None  # None: not given, the source finds it among the database's tables
    unix_socket: str | None = None

    @classmethod
    def parse(cls, url: str) -> MySQLURL:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("mysql", "mariadb"):
            raise UserError("a database source must look like mysql://user:pass@host:3306/db?prefix=wp_")
        query = parse_qs(parts.query)
        prefix = query.get("prefix", [None])[0]
        if prefix is not None and not _PREFIX.match(prefix):
            raise UserError(f"table prefix {prefix!r} may only hold letters, digits and _")
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise UserError("the mysql:// URL names no database: add /dbname after the host")
        try:
            port = parts.port or 3306
        except ValueError:
            raise UserError("the port in the mysql:// URL is not a number") from None
        return cls(
            user=unquote(parts.username or ""), password=unquote(parts.password or ""),
            host=parts.hostname or "127.0.0.1", port=port, database=database, prefix=prefix,
            unix_socket=query.get("unix_socket", [None])[0],
        )

    @property
    def where(self) -> str:
        return self.unix_socket or f"{self.host}:{self.port}"

    def __str__(self) -> str:
        password = ":***" if self.password else ""
        prefix = "" if self.prefix is None else f"?prefix={self.prefix}"
        return f"mysql://{self.user}{password}@{self.host}:{self.port}/{self.database}{prefix}"


def connect(url: MySQLURL, driver: str = DRIVER, local_infile: bool = False):
    """A DB-API connection (utf8mb4, text values unconverted); a person's mistake becomes one clear UserError."""
    options = dict(user=url.user, password=url.password, database=url.database, charset="utf8mb4",
                   connect_timeout=10, local_infile=local_infile)
    if url.unix_socket:
        options["unix_socket"] = url.unix_socket
    else:
        options.update(host=url.host, port=url.port)
    if driver == "mysqlclient":
        import MySQLdb as module
        from MySQLdb.converters import conversions
    else:
        import pymysql as module
        from pymysql.converters import conversions
    # Encoders only: values come back as the server's text (bytes or str), which Arrow casts in bulk.
    options["conv"] = {kind: encode for kind, encode in conversions.items() if not isinstance(kind, int)}
    try:
        return module.connect(**options)
    except module.OperationalError as exc:
        code = exc.args[0] if exc.args else None
        if code == 1045:
            raise UserError(f"access denied for user {url.user!r} at {url.where}: check user and password") from None
        if code == 1044:
            raise UserError(f"access denied for user {url.user!r} to database {url.database!r}") from None
        if code == 1049:
            raise UserError(f"unknown database {url.database!r} at {url.where}") from None
        if code in _UNREACHABLE:
            raise UserError(f"cannot reach MySQL/MariaDB at {url.where}: is the server running?") from None
        raise UserError(f"MySQL/MariaDB at {url.where} refused the connection (error {code})") from None


def _read_only(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")


class MySQLSource(BookneticSource):
    """Booknetic's tables in a live database, read in one read-only session per table, streamed in batches."""

    def __init__(self, url: str) -> None:
        self.url = MySQLURL.parse(url)
        self.rejects = Rejects()
        connection = connect(self.url)
        try:
            _read_only(connection)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                    " ORDER BY TABLE_NAME, ORDINAL_POSITION"
                )
                rows = cursor.fetchall()
        finally:
            connection.close()
        self.prefix = self.url.prefix if self.url.prefix is not None else _detect_prefix(rows, self.url)
        self.description = f"MySQL/MariaDB {self.url}"
        physical = {spec.table_name(self.prefix): name for name, spec in TABLES.items()}
        self._columns: dict[str, list[str]] = {}
        for table_name, column_name in rows:
            table_name, column_name = _text(table_name), _text(column_name)
            if table_name in physical:
                self._columns.setdefault(physical[table_name], []).append(column_name.lower())
        missing = [name for name in REQUIRED_TABLES if name not in self._columns]
        if missing:
            names = ", ".join(TABLES[name].table_name(self.prefix) for name in missing)
            raise UserError(f"required Booknetic table missing in database {self.url.database!r}: {names}")
        for name, present in self._columns.items():
            absent = missing_columns(name, present)
            if absent:
                raise UserError(f"table {TABLES[name].table_name(self.prefix)} lacks the column(s) {', '.join(absent)}")

    def tables(self) -> list[str]:
        return [name for name in TABLES if name in self._columns]

    def close(self) -> None:
        """Nothing stays open: each read uses its own connection and closes it."""

    def read(self, table: str) -> Iterator[pa.RecordBatch]:
        if table not in self._columns:
            raise UserError(f"table {table} is not in {self.description}")
        spec = TABLES[table]
        columns = [c.name for c in spec.columns if c.name in self._columns[table]]
        pattern = OPTIONS_PREFIX.replace("_", "\\_") + "%"
        where = f" WHERE option_name LIKE '{pattern}'" if table == "options" else ""
        order = f"BINARY `{spec.key}`" if table == "options" else f"`{spec.key}`"  # code-point order, like Arrow's
        query = (f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM `{spec.table_name(self.prefix)}`"
                 f"{where} ORDER BY {order}")
        yield from _stream(self.url, query, columns, table, spec.table_name(self.prefix), self.rejects)


def _detect_prefix(rows: list[tuple], url: MySQLURL) -> str:
    """The one prefix `X` with a table `Xbkntc_customers` in the database (a URL without ?prefix= relies on it)."""
    anchor = TABLES["customers"].physical
    prefixes = sorted({_text(name)[: -len(anchor)] for name, _ in rows if _text(name).endswith(anchor)})
    prefixes = [prefix for prefix in prefixes if _PREFIX.match(prefix)]
    if not prefixes:
        raise UserError(f"required Booknetic table missing in database {url.database!r}: no *{anchor} table")
    if len(prefixes) > 1:
        raise UserError(f"database {url.database!r} holds several Booknetic installs (prefixes "
                        f"{', '.join(prefixes)}): add ?prefix=... to the URL")
    return prefixes[0]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def server_side_cursor(connection, driver: str = DRIVER):
    """An unbuffered cursor: rows stream from the server as they are fetched, memory stays flat."""
    if driver == "mysqlclient":
        from MySQLdb.cursors import SSCursor
    else:
        from pymysql.cursors import SSCursor
    return connection.cursor(SSCursor)


def _stream(url: MySQLURL, query: str, columns: list[str], table: str, where: str,
            rejects: Rejects) -> Iterator[pa.RecordBatch]:
    connection = connect(url)
    try:
        _read_only(connection)
        cursor = server_side_cursor(connection)
        cursor.execute(query)
        while rows := cursor.fetchmany(BATCH_ROWS):
            arrays = [pa.array(values, pa.string()) for values in zip(*rows, strict=True)]
            yield conform(pa.RecordBatch.from_arrays(arrays, names=columns), table, where, rejects)
        cursor.close()
    finally:
        connection.close()


def _create_statement(name: str, physical: str) -> str:
    spec = TABLES[name]
    if name == "options":
        return (f"CREATE TABLE `{physical}` (`option_id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, "
                "`option_name` VARCHAR(191) NOT NULL DEFAULT '', `option_value` LONGTEXT NOT NULL, "
                "`autoload` VARCHAR(20) NOT NULL DEFAULT 'yes', PRIMARY KEY (`option_id`), "
                "UNIQUE KEY `option_name` (`option_name`)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")
    columns = ", ".join(f"`{c.name}` {c.mysql}" for c in spec.columns)
    return (f"CREATE TABLE `{physical}` ({columns}, PRIMARY KEY (`{spec.key}`)) "
            "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci")


def load_tables(tables: dict[str, pa.Table], url: str) -> None:
    """Replace Booknetic's tables in the database of `url` with `tables`, bulk-loaded with LOAD DATA LOCAL INFILE."""
    target = MySQLURL.parse(url)
    prefix = "wp_" if target.prefix is None else target.prefix
    connection = connect(target, local_infile=True)
    try:
        with connection.cursor() as cursor, tempfile.TemporaryDirectory(prefix="bkntc-load-") as scratch:
            for name, table in tables.items():
                physical = TABLES[name].table_name(prefix)
                path = Path(scratch) / f"{physical}.csv"
                write_csv(table, path)
                cursor.execute(f"DROP TABLE IF EXISTS `{physical}`")
                cursor.execute(_create_statement(name, physical))
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE `{physical}` CHARACTER SET utf8mb4 "
                    "FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n' "
                    f"IGNORE 1 LINES ({', '.join(f'`{c}`' for c in table.column_names)})",
                    (os.fspath(path),),
                )
        connection.commit()
    finally:
        connection.close()
