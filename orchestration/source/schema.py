"""The canonical Arrow shape of each Booknetic table, and the one cast every reader applies to reach it."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from orchestration.errors import UserError

INT = pa.int64()
TEXT = pa.string()
MONEY = pa.decimal128(12, 2)
DATE = pa.date32()


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
            _c("paid_amount", MONEY, "DECIMAL(12,2)", required=False),
            _c("note", TEXT, "TEXT", required=False),
            _c("locale", TEXT, "VARCHAR(20)", required=False),
            _c("client_timezone", TEXT, "VARCHAR(100)", required=False),
            _c("created_at", INT, "INT"),
            _tenant(),
        ), key="id"),
        TableSpec("services", "bkntc_services", (
            _c("id", INT, "INT NOT NULL AUTO_INCREMENT"),
            _c("name", TEXT, "VARCHAR(255)"),
            _c("price", MONEY, "DECIMAL(12,2)"),
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
            _c("money_balance", MONEY, "DECIMAL(12,2) NULL", required=False),
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


def _cast_column(column: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
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
        column = pc.utf8_trim_whitespace(column)
        blank = pc.equal(column, "")
        if pa.types.is_date(target):
            blank = pc.or_(blank, pc.equal(column, "0000-00-00"))
        column = pc.if_else(blank, pa.scalar(None, TEXT), column)
    if pa.types.is_decimal(target) and pa.types.is_floating(column.type):
        column = pc.round(column, 2)
    return column.cast(target)


def conform(batch: pa.RecordBatch | pa.Table, table: str, where: str) -> pa.RecordBatch | pa.Table:
    """Select and cast `batch` to the canonical schema of `table`; absent optional columns become NULL.

    `where` names the file or table in the message of a value that cannot be cast (a person's data, not a bug).
    """
    target = TABLES[table]
    names = {name.lower(): name for name in batch.schema.names}
    arrays = []
    for column in target.columns:
        source_name = names.get(column.name)
        if source_name is None:
            arrays.append(pa.nulls(batch.num_rows, column.type))
            continue
        try:
            arrays.append(_cast_column(batch.column(source_name), column.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            first_line = str(exc).splitlines()[0]
            raise UserError(f"{where}: column {column.name} cannot be read as {column.type}: {first_line}") from None
    if isinstance(batch, pa.Table):
        return pa.Table.from_arrays(arrays, schema=target.schema)
    return pa.RecordBatch.from_arrays(arrays, schema=target.schema)
