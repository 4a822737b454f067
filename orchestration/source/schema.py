"""The canonical Arrow shape of each Booknetic table, and the one cast every reader applies to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

INT = pa.int64()
TEXT = pa.string()
# Booknetic lets a business show up to 4 decimals (KWD, BHD...); FLOAT/DOUBLE columns are rounded to that scale.
MONEY_SCALE = 4
MONEY = pa.decimal128(18, MONEY_SCALE)
DATE = pa.date32()
# How many row keys a reject keeps as examples (no values: a bad value may be a person's data).
REJECT_SAMPLE = 5
_INTEGER = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class Column:
    """One column: canonical Arrow type, the MySQL type Booknetic gives it, and whether a source must have it."""

    name: str
    type: pa.DataType
    mysql: str
    required: bool = True


@dataclass(frozen=True)
class TableSpec:
    """One Booknetic table: logical name, physical name without the WordPress prefix, columns, primary key."""

    name: str
    physical: str
    columns: tuple[Column, ...]
    key: str
    required: bool = True

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=True) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def table_name(self, prefix: str) -> str:
        return f"{prefix}{self.physical}"


def _c(name: str, type_: pa.DataType, mysql: str, required: bool = True) -> Column:
    return Column(name, type_, mysql, required)


def _tenant() -> Column:
    return _c("tenant_id", INT, "INT NULL", required=False)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("customers", "bkntc_customers", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("user_id", INT, "INT NULL", required=False),
            _c("first_name", TEXT, "VARCHAR(255)"),
            _c("last_name", TEXT, "VARCHAR(255)"),
            _c("phone_number", TEXT, "VARCHAR(255)"),
            _c("email", TEXT, "VARCHAR(255)"),
            _c("birthdate", DATE, "DATE NULL", required=False),
            _c("gender", TEXT, "VARCHAR(20)", required=False),
            _c("notes", TEXT, "TEXT", required=False),
            _c("profile_image", TEXT, "VARCHAR(255)", required=False),
            _c("created_by", INT, "INT NULL", required=False),
            # Booknetic writes 'Y-m-d H:i:s' (admin) or 'Y-m-d' (front-end booking); a VARCHAR keeps both as written.
            _c("created_at", TEXT, "VARCHAR(19) NULL", required=False),
            _tenant(),
        ), key="id"),
        TableSpec("appointments", "bkntc_appointments", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("location_id", INT, "INT"),
            _c("service_id", INT, "INT"),
            _c("staff_id", INT, "INT"),
            _c("customer_id", INT, "INT"),
            _c("status", TEXT, "VARCHAR(50)"),
            _c("starts_at", INT, "INT"),
            _c("ends_at", INT, "INT"),
            _c("busy_from", INT, "INT", required=False),
            _c("busy_to", INT, "INT", required=False),
            _c("weight", INT, "INT", required=False),
            _c("payment_method", TEXT, "VARCHAR(50)", required=False),
            _c("payment_status", TEXT, "VARCHAR(20)", required=False),
            _c("paid_amount", MONEY, "DECIMAL(18,4)", required=False),
            _c("note", TEXT, "TEXT", required=False),
            _c("locale", TEXT, "VARCHAR(20)", required=False),
            _c("client_timezone", TEXT, "VARCHAR(100)", required=False),
            _c("created_at", INT, "INT"),
            _tenant(),
        ), key="id"),
        TableSpec("services", "bkntc_services", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("name", TEXT, "VARCHAR(255)"),
            _c("price", MONEY, "DECIMAL(18,4)"),
            _c("category_id", INT, "INT", required=False),
            _c("duration", INT, "INT"),
            _c("is_active", INT, "INT", required=False),
            _c("is_visible", INT, "INT", required=False),
            _c("color", TEXT, "VARCHAR(20)", required=False),
            _tenant(),
        ), key="id"),
        TableSpec("locations", "bkntc_locations", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("name", TEXT, "VARCHAR(255)"),
            _c("address", TEXT, "TEXT"),
            _c("phone_number", TEXT, "VARCHAR(255)", required=False),
            _c("is_active", INT, "INT", required=False),
            _tenant(),
        ), key="id"),
        TableSpec("staff", "bkntc_staff", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("name", TEXT, "VARCHAR(255)"),
            _c("email", TEXT, "VARCHAR(255)", required=False),
            _c("phone_number", TEXT, "VARCHAR(255)", required=False),
            _c("profession", TEXT, "VARCHAR(255)", required=False),
            _c("is_active", INT, "INT", required=False),
            _tenant(),
        ), key="id"),
        TableSpec("service_categories", "bkntc_service_categories", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("name", TEXT, "VARCHAR(255)"),
            _c("parent_id", INT, "INT", required=False),
            _tenant(),
        ), key="id"),
        TableSpec("tenants", "bkntc_tenants", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("user_id", INT, "INT NULL", required=False),
            _c("email", TEXT, "VARCHAR(255)", required=False),
            _c("full_name", TEXT, "VARCHAR(255)"),
            _c("domain", TEXT, "VARCHAR(255)", required=False),
            _c("plan_id", INT, "INT NULL", required=False),
            _c("expires_in", TEXT, "DATE NULL", required=False),
            _c("inserted_at", TEXT, "DATETIME NULL", required=False),
            _c("verified_at", TEXT, "DATETIME NULL", required=False),
            _c("active_subscription", TEXT, "VARCHAR(255) NULL", required=False),
            _c("money_balance", MONEY, "DECIMAL(18,4) NULL", required=False),
        ), key="id", required=False),
        TableSpec("options", "options", (
            _c("option_name", TEXT, "VARCHAR(191) NOT NULL"),
            _c("option_value", TEXT, "LONGTEXT NOT NULL"),
        ), key="option_name", required=False),
    )
}

REQUIRED_TABLES = [name for name, spec in TABLES.items() if spec.required]
OPTIONS_PREFIX = "bkntc_"


def spec(table: str) -> TableSpec:
    """The spec of a logical table name; an unknown name is a bug of the caller."""
    return TABLES[table]


def missing_columns(table: str, present: list[str]) -> list[str]:
    """The required columns of `table` that are not among `present` (case-insensitive, like MySQL)."""
    have = {name.lower() for name in present}
    return [c.name for c in TABLES[table].columns if c.required and c.name not in have]


@dataclass
class Rejects:
    """Values a reader could not read as their column's type: read as NULL, counted per (table, column).

    A bad value never aborts a sync: the rest of its row (and every other row) is kept, and the sync reports these
    counts (with a few row keys as examples) in the warehouse table `source_rejects` and a Dagster asset check.
    Column `*` counts rows a CSV file could not split into its header's columns (skipped whole).
    """

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, table: str, column: str, count: int, keys: list[str]) -> None:
        if count <= 0:
            return
        self.counts[(table, column)] = self.counts.get((table, column), 0) + count
        sample = self.samples.setdefault((table, column), [])
        sample.extend(keys[: REJECT_SAMPLE - len(sample)])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_table(self) -> pa.Table:
        """(table, column, rejected, sample): one row per column that had bad values."""
        keys = sorted(self.counts)
        return pa.table({
            "source_table": pa.array([t for t, _ in keys], TEXT),
            "source_column": pa.array([c for _, c in keys], TEXT),
            "rejected": pa.array([self.counts[k] for k in keys], INT),
            "sample": pa.array([self.samples.get(k, []) for k in keys], pa.list_(TEXT)),
        })


def _blank_to_null(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    column = pc.utf8_trim_whitespace(column)
    blank = pc.equal(column, "")
    if pa.types.is_date(target):
        blank = pc.or_(blank, pc.equal(column, "0000-00-00"))
    return pc.if_else(blank, pa.scalar(None, TEXT), column)


def _only_matching(column: pa.Array | pa.ChunkedArray, pattern: str) -> pa.Array | pa.ChunkedArray:
    return pc.if_else(pc.match_substring_regex(column, pattern), column, pa.scalar(None, column.type))


def _strict_cast(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """The cast of one column; raises pa.ArrowInvalid on a value that does not fit."""
    source = column.type
    if source.equals(target):
        return column
    if pa.types.is_decimal(target) and (pa.types.is_floating(source) or pa.types.is_decimal(source)):
        return pc.round(column, target.scale).cast(target)
    if pa.types.is_decimal(target) and pa.types.is_string(source):
        return _strict_cast(column.cast(pa.float64()), target)
    return column.cast(target)


def _per_value(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array:
    """The slow path, for a batch that still has a value the vectorized cast refuses: one value at a time."""
    values = []
    for value in column.to_pylist():
        try:
            values.append(_strict_cast(pa.array([value], column.type), target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values.append(None)
    return pa.array(values, target)


def _cast_column(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """`column` as `target`; a value that cannot be read becomes NULL (the caller counts the new NULLs)."""
    source = column.type
    if source.equals(target):
        return column
    if pa.types.is_null(source):
        return pa.nulls(len(column), target)
    if pa.types.is_string(target) and pa.types.is_timestamp(source):
        return pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_string(target) and pa.types.is_date(source):
        return pc.strftime(column, format="%Y-%m-%d")
    if pa.types.is_large_string(source) or pa.types.is_string_view(source):
        column = column.cast(TEXT)
    if pa.types.is_string(column.type) and not pa.types.is_string(target):
        column = _blank_to_null(column, target)
    try:
        return _strict_cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # A batch with a bad value: drop what cannot be a value of the type (vectorized), then cast what is left.
    if pa.types.is_string(column.type):
        pattern = (_INTEGER if pa.types.is_integer(target) else _DATE if pa.types.is_date(target) else _NUMBER)
        column = _only_matching(column, pattern)
    try:
        return _strict_cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _per_value(column, target)


def _keys(batch: pa.RecordBatch | pa.Table, key: str | None, bad: pa.Array | pa.ChunkedArray) -> list[str]:
    """A few `key=value` labels of the rows flagged in `bad` (the table's key column as the source wrote it)."""
    if key is None:
        return []
    rows = pc.filter(batch.column(key), bad).slice(0, REJECT_SAMPLE).to_pylist()
    return [f"{key}={value}" for value in rows]


def conform(batch: pa.RecordBatch | pa.Table, table: str, where: str,
            rejects: Rejects | None = None) -> pa.RecordBatch | pa.Table:
    """Select and cast `batch` to the canonical schema of `table`; absent optional columns become NULL.

    A value that cannot be read as its column's type becomes NULL and is counted in `rejects` under `where`
    (the file or table name), so one bad row never stops a sync.
    """
    target = TABLES[table]
    names = {name.lower(): name for name in batch.schema.names}
    key = names.get(target.key)
    arrays = []
    for column in target.columns:
        source_name = names.get(column.name)
        if source_name is None:
            arrays.append(pa.nulls(batch.num_rows, column.type))
            continue
        original = batch.column(source_name)
        cast = _cast_column(original, column.type)
        if rejects is not None and not pa.types.is_null(original.type) and cast.null_count:
            lost = pc.and_(pc.is_null(cast), pc.is_valid(_readable_input(original, column.type)))
            count = pc.sum(lost).as_py() or 0
            if count:
                rejects.add(where, column.name, count, _keys(batch, key, lost))
        arrays.append(cast)
    if isinstance(batch, pa.Table):
        return pa.Table.from_arrays(arrays, schema=target.schema)
    return pa.RecordBatch.from_arrays(arrays, schema=target.schema)


def _readable_input(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """The values that say something (not NULL, not blank, not MySQL's zero date): a NULL cast of these is a reject."""
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(TEXT)
    if pa.types.is_string(column.type) and not pa.types.is_string(target):
        return _blank_to_null(column, target)
    return column
