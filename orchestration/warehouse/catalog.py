"""One tenant's catalog from the warehouse: services, locations, staff and appointment statuses, with the ids
audience filters take (`--service`, `--location`, `--status`) and how many appointments each has."""

from __future__ import annotations

from typing import Any

from orchestration.errors import UserError
from orchestration.sqlfiles import load_sql
from orchestration.warehouse.store import Warehouse

CATALOGS = ("services", "locations", "statuses", "staff")


def catalog(warehouse: Warehouse, tenant_id: int, kind: str) -> list[dict[str, Any]]:
    """The tenant's rows of one catalog (`CATALOGS`), as plain dicts in id (or slug) order."""
    if kind not in CATALOGS:
        raise UserError(f"Unknown catalog {kind!r}; use one of {', '.join(CATALOGS)}.")
    with warehouse.reader() as con:
        cursor = con.execute(load_sql(f"catalog/{kind}.sql"), {"tenant_id": tenant_id})
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    return [{column: _plain(value) for column, value in zip(columns, row, strict=True)} for row in rows]


def _plain(value: Any) -> Any:
    """DuckDB's DECIMAL as a float, so a row prints and serializes as JSON."""
    return float(value) if type(value).__name__ == "Decimal" else value
