"""The DuckDB warehouse: raw Booknetic tables, the cleaned layer, per-customer facts and materialized segments."""

from orchestration.warehouse.store import Warehouse, WarehouseMissing

__all__ = ["Warehouse", "WarehouseMissing"]
