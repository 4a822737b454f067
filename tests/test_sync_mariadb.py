"""The same Booknetic data synced from a snapshot folder and from a real MariaDB gives identical warehouse tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestration.source import open_source
from orchestration.source.synthetic import generate, load_mysql, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync

pytestmark = pytest.mark.mariadb

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CLEANED = ("customers", "appointments", "services", "locations", "staff", "company", "tenants", "customer_facts")
ORDER = {
    "customers": "tenant_id, customer_id",
    "appointments": "tenant_id, appointment_id",
    "services": "tenant_id, service_id",
    "locations": "tenant_id, location_id",
    "staff": "tenant_id, staff_id",
    "company": "tenant_id",
    "tenants": "tenant_id",
    "customer_facts": "tenant_id, customer_id",
}


def _synced(spec: str, path) -> Warehouse:
    warehouse = Warehouse(path)
    with open_source(spec) as source:
        sync(source, warehouse, AS_OF)
    return warehouse


def _rows(warehouse: Warehouse, table: str) -> list[tuple]:
    with warehouse.reader() as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}").fetchall()


@pytest.mark.parametrize("tenants", [0, 2], ids=["single-site", "saas"])
def test_folder_and_mariadb_sources_sync_to_identical_cleaned_tables(tmp_path, mariadb_url, tenants):
    tables = generate(customers=300, tenants=tenants, seed=11, as_of=AS_OF)
    write_snapshot(tables, tmp_path / "snapshot", fmt="csv", prefix="wp_")
    url = mariadb_url.replace("prefix=wp_", f"prefix=eq{tenants}_")
    load_mysql(tables, url)

    from_folder = _synced(str(tmp_path / "snapshot"), tmp_path / "folder.duckdb")
    from_mariadb = _synced(url, tmp_path / "mariadb.duckdb")

    for table in CLEANED:
        folder_rows = _rows(from_folder, table)
        assert folder_rows, f"{table} is empty: the comparison would prove nothing"
        assert _rows(from_mariadb, table) == folder_rows, table
